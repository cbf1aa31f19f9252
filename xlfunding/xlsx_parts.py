"""The handlers of ``XlsxFile``'s streaming parser, and the cells they gather.

Each handler receives the events of one XML part (names are « namespace}local ») and keeps
only what we use: the content types, the relationships, the sheets and defined names of the
workbook, the shared strings, and the cells of a sheet, row by row. A handler raises ``_Stop``
once it has read what it needs, and ``_Corrupt`` when the part is well-formed XML but not what
Excel writes; ``XlsxFile`` (in ``xlsx``) turns both into its French refusals.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from xlfunding.money import excel_decimal

# Excel's grid: columns A..XFD, rows 1..1048576.
MAX_COLUMN = 16_384
MAX_ROW = 1_048_576
_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as saved: ``kind`` is n (number), s (text), b (boolean), e (error), or None
    (a formula with no saved value); ``formula`` is the formula text without "=", if any."""

    kind: str | None
    value: object
    formula: str | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def split_ref(ref: str) -> tuple[str, int]:
    """ "AB12" -> ("AB", 12); ``ValueError`` for anything that is not a cell of Excel's grid."""
    match = _REF.fullmatch(ref.strip())
    if match is None:
        raise ValueError(ref)
    letters, row = match.group(1).upper(), int(match.group(2))
    if _column_number(letters) > MAX_COLUMN or not 1 <= row <= MAX_ROW:
        raise ValueError(ref)
    return letters, row


def _column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class _Corrupt(Exception):
    """Raised by a handler: the part is well-formed XML but not what Excel writes."""


class _Stop(Exception):
    """Raised by a handler: it has read what it needs."""


class _Handler:
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


class _Prolog(_Handler):
    """Reads nothing: stops at the first element, once the prolog (and any DTD) is behind."""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        raise _Stop


class _Attributes(_Handler):
    """One attribute of the elements of some names (at any depth)."""

    def __init__(self, attribute: str, tags: tuple[str, ...]) -> None:
        super().__init__()
        self.attribute, self.tags = attribute, tags
        self.found: list[str] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if _local(name) in self.tags and self.attribute in attrs:
            self.found.append(attrs[self.attribute])


class _Relationships(_Handler):
    """(Type, Target, Id) of each Relationship."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if _local(name) == "Relationship":
            self.found.append((attrs.get("Type", ""), attrs.get("Target", ""), attrs.get("Id", "")))


class _Workbook(_Handler):
    """Sheets (name, state, relationship id) and defined names of workbook.xml."""

    def __init__(self) -> None:
        super().__init__()
        self.sheets: list[tuple[str, str, str]] = []
        self.names: dict[str, list[tuple[str, int | None]]] = {}
        self._name: tuple[str, int | None] | None = None
        self._text: list[str] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        local = _local(name)
        if local == "sheet":
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
            self.sheets.append((attrs.get("name", ""), attrs.get("state", "visible"), rid))
        elif local == "definedName":
            sheet = attrs.get("localSheetId", "")
            self._name = (attrs.get("name", ""), int(sheet) if _DIGITS.fullmatch(sheet) else None)
            self._text = []

    def end(self, name: str) -> None:
        if self._name is not None and _local(name) == "definedName":
            label, sheet = self._name
            self.names.setdefault(label, []).append(("".join(self._text), sheet))
            self._name = None

    def data(self, text: str) -> None:
        if self._name is not None:
            self._text.append(text)


class _RichText:
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


class _SharedStrings(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.strings: list[str] = []
        self.item: _RichText | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        local = _local(name)
        if self.item is not None:
            self.item.start(local)
        elif local == "si":
            self.item = _RichText()

    def end(self, name: str) -> None:
        item = self.item
        if item is None:
            return
        if item.depth == 1:
            self.strings.append(item.text)
            self.item = None
        else:
            item.end(_local(name))

    def data(self, text: str) -> None:
        if self.item is not None and self.item.capturing:
            self.item.parts.append(text)


class _Sheet(_Handler):
    """Cells of a worksheet's ``sheetData``, gathered row by row into ``ready``."""

    def __init__(self, strings: list[str], hidden: set[int]) -> None:
        super().__init__()
        self.strings = strings
        self.hidden = hidden
        self.ready: list[tuple[int, dict[str, Cell]]] = []
        self.rows = 0  # rows with data, and their cells
        self.cells = 0
        self.last_row = 0
        self.in_data = False
        # the row being read
        self.row: int | None = None
        self.row_cells: dict[str, Cell] = {}
        self.numbered = True
        self.row_hidden = False
        self.previous: int | str = 0  # the previous cell's column, or its unread reference
        self.last_column = 0  # of the last cell with data
        # the cell being read: reference (None if absent), type, column (if no reference)
        self.cell: tuple[str | None, str, int] | None = None
        self.value: str | None = None
        self.formula: str | None = None
        self.inline: _RichText | None = None
        self.text: list[str] | None = None  # text of the <v> or <f> being read
        self.names: dict[str, str] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        local = self.names.get(name)
        if local is None:
            local = self.names[name] = _local(name)
        if self.inline is not None:
            self.inline.start(local)
        elif self.text is not None:
            raise _Corrupt(f"élément « {local[:20]} » inattendu dans la cellule {self.cell_ref}")
        elif local == "c":
            if self.row is not None:
                self._start_cell(attrs)
        elif local == "row":
            if self.in_data:
                self._start_row(attrs)
        elif self.cell is not None:
            if local in ("v", "f"):
                self.text = []
            elif local == "is":
                self.inline = _RichText()
        elif local == "sheetData":
            self.in_data = True

    def end(self, name: str) -> None:
        local = self.names[name]
        inline = self.inline
        if inline is not None:
            if inline.depth > 1:
                inline.end(local)
            else:
                self.inline = None
                self.value = inline.text
        elif self.text is not None:
            if local == "v":  # an empty <v/> is no value, as openpyxl saves a formula
                self.value = "".join(self.text) or None
            else:
                self.formula = "".join(self.text)
            self.text = None
        elif local == "c":
            if self.cell is not None:
                self._end_cell()
        elif local == "row":
            if self.row is not None:
                self._end_row()
        elif local == "sheetData":
            raise _Stop

    def _end_row(self) -> None:
        assert self.row is not None
        if self.row_cells:
            self.ready.append((self.row, self.row_cells))
            self.rows += 1
            self.cells += len(self.row_cells)
        self.last_row, self.row = self.row, None

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)
        elif self.inline is not None and self.inline.capturing:
            self.inline.parts.append(text)

    @property
    def cell_ref(self) -> str:
        return "?" if self.cell is None else self._ref(self.cell[0], self.cell[2])

    def _ref(self, ref: str | None, column: int) -> str:
        return ref or f"{_column_letters(column)}{self.row}"

    def _start_row(self, attrs: dict[str, str]) -> None:
        ref = attrs.get("r")
        self.numbered = ref is not None
        if ref is None:  # the number is optional: the next row, or its first cell's
            number = self.last_row + 1
        elif ref.isascii() and ref.isdigit() and 1 <= int(ref) <= MAX_ROW:
            number = int(ref)
        else:
            raise _Corrupt(f"numéro de ligne « {ref[:20]} » impossible")
        if number <= self.last_row:
            raise _Corrupt(f"ligne {number} en double ou dans le désordre")
        self.row = number
        self.row_cells, self.previous, self.last_column = {}, 0, 0
        self.row_hidden = attrs.get("hidden") in ("1", "true")
        if self.row_hidden:
            self.hidden.add(number)

    def _start_cell(self, attrs: dict[str, str]) -> None:
        """References are checked only for cells with data (see ``_end_cell``): a million
        formatted empty cells cost no parsing."""
        ref = attrs.get("r")
        column = 0
        if ref is None:  # the reference is optional: the column after the previous cell's
            previous = self.previous
            column = (self._column(previous) if isinstance(previous, str) else previous) + 1
            if column > MAX_COLUMN:
                raise _Corrupt(f"plus de {MAX_COLUMN} colonnes à la ligne {self.row}")
            self.previous = column
        else:
            self.previous = ref
        self.cell = (ref, attrs.get("t", "n"), column)
        self.value = self.formula = None

    def _end_cell(self) -> None:
        assert self.cell is not None
        ref, kind, column = self.cell
        self.cell = None
        if self.value is None and self.formula is None:
            return  # formatted, empty
        if ref is not None:
            column = self._column(ref)
        if column <= self.last_column:
            raise _Corrupt(f"cellule {self._ref(ref, column)} en double ou dans le désordre")
        self.last_column = column
        cell = _cell(kind, self.value, self.formula, self.strings)
        if cell is not None:
            self.row_cells[_column_letters(column)] = cell

    def _column(self, ref: str) -> int:
        """The column of a reference, which must be in the row being read."""
        try:
            letters, row = split_ref(ref)
        except ValueError:
            raise _Corrupt(f"référence de cellule « {ref[:20]} » impossible") from None
        if row != self.row and not self.numbered and not self.row_cells:
            self._renumber(row)  # a row without a number takes its first cell's
        if row != self.row:
            raise _Corrupt(f"la cellule {ref} est rangée dans la ligne {self.row}")
        return _column_number(letters)

    def _renumber(self, row: int) -> None:
        assert self.row is not None
        if row <= self.last_row:
            raise _Corrupt(f"ligne {row} en double ou dans le désordre")
        if self.row_hidden:
            self.hidden.discard(self.row)
            self.hidden.add(row)
        self.row, self.numbered = row, True


def _cell(kind: str, raw: str | None, formula: str | None, strings: list[str]) -> Cell | None:
    if kind == "inlineStr":
        return Cell("s", raw or "", formula) if raw or formula is not None else None
    if raw is None:
        return Cell(None, None, formula) if formula is not None else None
    if kind == "s":
        index = raw.strip()
        if _DIGITS.fullmatch(index) and int(index) < len(strings):
            return Cell("s", strings[int(index)], formula)
        return Cell("e", "#CHAÎNE?", formula)
    if kind == "str":
        return Cell("s", unescape(raw), formula)
    if kind == "b":
        return Cell("b", raw.strip() in ("1", "true"), formula)
    if kind == "e":
        return Cell("e", raw, formula)
    if kind == "d":
        return Cell("s", raw, formula)
    if not _NUMBER.fullmatch(raw):
        return Cell("e", "#NOMBRE?", formula)
    number = float(raw)
    if math.isinf(number):  # "1e999": NaN cannot match _NUMBER
        return Cell("e", "#NOMBRE!", formula)
    return Cell("n", excel_decimal(number), formula)  # 15 significant digits, as Excel shows


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape(text: str) -> str:
    """OOXML's ``_xHHHH_`` escapes, decoded in one left-to-right pass (``_x005F_`` is "_")."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda match: chr(int(match[1], 16)), text)
