"""The handlers of the streaming parser for a package's parts, but sheets (``sheetxml``).

Each handler receives the events of one XML part (names are « namespace}local ») and keeps
only what we use: the content types, the relationships, the sheets and defined names of the
workbook, the shared strings, the save time of the document's properties. A handler raises
``Stop`` once it has read what it needs, and ``Corrupt`` when the part is well-formed XML but
not what Excel writes; ``Archive.parse`` turns both into its French refusals.
"""

from __future__ import annotations

import datetime as dt

from xlfunding.read.cells import DIGITS, unescape


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class Corrupt(Exception):
    """Raised by a handler: the part is well-formed XML but not what Excel writes."""


class Stop(Exception):
    """Raised by a handler: it has read what it needs."""


class Handler:
    """Receives the parser's events (names are « namespace}local »); ignores them by default
    and counts the elements, for the ``MAX_ELEMENTS`` bound."""

    def __init__(self) -> None:
        self.elements = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1

    def end(self, name: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass


class Prolog(Handler):
    """Reads nothing: stops at the first element, once the prolog (and any DTD) is behind."""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        raise Stop


class Attributes(Handler):
    """One attribute of the elements of some names (at any depth)."""

    def __init__(self, attribute: str, tags: tuple[str, ...]) -> None:
        super().__init__()
        self.attribute, self.tags = attribute, tags
        self.found: list[str] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if local_name(name) in self.tags and self.attribute in attrs:
            self.found.append(attrs[self.attribute])


class Relationships(Handler):
    """(Type, Target, Id) of each Relationship."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if local_name(name) == "Relationship":
            self.found.append((attrs.get("Type", ""), attrs.get("Target", ""), attrs.get("Id", "")))


class WorkbookPart(Handler):
    """Sheets (name, state, relationship id) and defined names of workbook.xml."""

    def __init__(self) -> None:
        super().__init__()
        self.sheets: list[tuple[str, str, str]] = []
        self.names: dict[str, list[tuple[str, int | None]]] = {}
        self._name: tuple[str, int | None] | None = None
        self._text: list[str] = []
        self.date1904 = False  # serials count days from 1904 (old Mac workbooks)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        local = local_name(name)
        if local == "workbookPr":
            self.date1904 = attrs.get("date1904") in ("1", "true")
        elif local == "sheet":
            rid = next((v for k, v in attrs.items() if local_name(k) == "id"), "")
            self.sheets.append((attrs.get("name", ""), attrs.get("state", "visible"), rid))
        elif local == "definedName":
            sheet = attrs.get("localSheetId", "")
            self._name = (attrs.get("name", ""), int(sheet) if DIGITS.fullmatch(sheet) else None)
            self._text = []

    def end(self, name: str) -> None:
        if self._name is not None and local_name(name) == "definedName":
            label, sheet = self._name
            self.names.setdefault(label, []).append(("".join(self._text), sheet))
            self._name = None

    def data(self, text: str) -> None:
        if self._name is not None:
            self._text.append(text)


class RichText:
    """Text of a string item (``<si>`` or ``<is>``), fed the events inside it: its ``t``, or
    the ``t`` of its runs; the phonetic runs (``rPh``) are left out."""

    def __init__(self) -> None:
        self.depth = 1  # the item itself
        self.parts: list[str] = []
        self.capturing = False
        self.skip = 0  # depth of an rPh being skipped

    def start(self, local: str) -> None:
        self.depth += 1
        if self.skip:
            return
        if local == "rPh":
            self.skip = self.depth
        elif local == "t" and self.depth <= 3:  # si/t or si/r/t
            self.capturing = True

    def end(self, local: str) -> None:
        if self.skip == self.depth:
            self.skip = 0
        if local == "t":
            self.capturing = False
        self.depth -= 1

    @property
    def text(self) -> str:
        return unescape("".join(self.parts))


class SharedStrings(Handler):
    def __init__(self) -> None:
        super().__init__()
        self.strings: list[str] = []
        self.item: RichText | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        local = local_name(name)
        if self.item is not None:
            self.item.start(local)
        elif local == "si":
            self.item = RichText()

    def end(self, name: str) -> None:
        item = self.item
        if item is None:
            return
        if item.depth == 1:
            self.strings.append(item.text)
            self.item = None
        else:
            item.end(local_name(name))

    def data(self, text: str) -> None:
        if self.item is not None and self.item.capturing:
            self.item.parts.append(text)


class CoreProperties(Handler):
    """The document's last save time (``dcterms:modified``, which Excel sets), or None."""

    def __init__(self) -> None:
        super().__init__()
        self.modified: dt.datetime | None = None
        self._text: list[str] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if name == "http://purl.org/dc/terms/}modified":
            self._text = []

    def end(self, name: str) -> None:
        if self._text is not None:
            self.modified = _when("".join(self._text))
            raise Stop

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)


def _when(text: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class Styles(Handler):
    """The custom number formats (id -> code) and the number format of each cell style
    (``cellXfs``, in order: a cell's ``s`` is an index into it)."""

    def __init__(self) -> None:
        super().__init__()
        self.formats: dict[int, str] = {}
        self.styles: list[int] = []
        self._in_xfs = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        local = local_name(name)
        if local == "numFmt":
            number = attrs.get("numFmtId", "")
            if DIGITS.fullmatch(number):
                self.formats[int(number)] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            self._in_xfs = True
        elif local == "xf" and self._in_xfs:
            number = attrs.get("numFmtId", "0")
            self.styles.append(int(number) if DIGITS.fullmatch(number) else 0)

    def end(self, name: str) -> None:
        if local_name(name) == "cellXfs":
            raise Stop
