"""The fast engine: python-calamine reads the values, our own scan says what it cannot.

python-calamine reads a sheet about ten times faster than parsing its XML in Python, but it
shows an Excel error (#REF!) and a formula never computed as an empty cell, and it aborts the
whole process on a sheet whose cells reach far (it allocates rows × columns: upstream
calamine#693). So before calamine sees a sheet, one streaming pass of regular expressions over
its XML (bounded and defused like every part, by ``XlsxFile``) finds the extent of the cells,
the error cells, the formulas without a saved value and the hidden rows. A sheet that reaches
too far, or any surprise, is read by the safe sparse reader instead: same cells, slower.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xlfunding.errors import UnreadableFile
from xlfunding.layout import column_index, column_letter
from xlfunding.money import excel_decimal
from xlfunding.read.archive import BROKEN, MAX_ELEMENTS, MAX_PARSED_BYTES, broken
from xlfunding.read.cells import Cell, decode_cell, split_ref
from xlfunding.read.xlsx import MAX_DATA_ROWS, SheetInfo, XlsxFile

try:
    import python_calamine
except ImportError:  # pragma: no cover - the fast engine is optional
    python_calamine = None  # type: ignore[assignment]

# calamine allocates rows × columns: past these, the sparse reader (which applies the data
# bounds of ``XlsxFile`` and refuses an oversized sheet clearly) reads the sheet instead.
MAX_FAST_ROWS = 2 * MAX_DATA_ROWS
MAX_FAST_COLUMNS = 64  # "BL": far more than a template's columns
CHUNK = 1 << 20
OVERLAP = 64 * 1024  # longer than any one cell's XML (a formula has at most 8 192 characters)

_ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_HIDDEN_ROW = re.compile(rb'<row\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
_ERROR = re.compile(rb'<c\b[^>]*?\bt="e"[^>]*?(?:/>|>.*?</c>)', re.S)
# Spaces and line breaks between the tags (a pretty-printed sheet) are allowed.
_NO_VALUE = re.compile(
    rb"<c\b([^>]*)>\s*(?:<f\b[^>]*/>|<f\b[^>]*>([^<]*)</f>)\s*(?:<v\s*/>|<v></v>)?\s*</c>"
)
_SPACED_ENDS = (b" </c>", b"\n</c>")  # pretty-printed: a line break or an indent
# A saved number that is not one as calamine parses it (" 4000 ", "4000,5"): the safe
# reader's decoding decides, for the cells of type n.
_ODD_VALUE = re.compile(rb"<v>([^<]*?[^0-9.eE+\-<][^<]*)</v>")
_TYPE = re.compile(rb'\bt="([^"]*)"')
# An attribute ending in ``r`` whose value is neither a row number nor a cell reference in
# columns A to BL ("MAX_FAST_COLUMNS"): the literal start keeps the search in C.
_UNUSUAL_REF = re.compile(rb'r="(?![0-9]{1,7}"|(?:[A-Z]|A[A-Z]|B[A-L])[0-9]{1,7}")')
# "=" followed by a space or a single quote, or preceded by a space: starting with the literal
# "=" keeps the search in C. Text says "coût = somme" too: then every tag must be plain.
_ODD_EQUALS = re.compile(rb"=(?:(?<=[ \t\r\n]=)|[ \t\r\n'])")
# A "<" that does not start a plain tag, as Excel, LibreOffice, openpyxl and XlsxWriter write
# them: a name, attributes each one space, a name, "=" and a value in double quotes without
# "<" or ">", then an optional "/" and ">"; or the XML declaration. A comment, CDATA, a tag cut
# by the end of the window, or an attribute in any other form is one.
_NOT_PLAIN_TAG = re.compile(
    rb'<(?!/?[A-Za-z_][\w.:-]*(?: [A-Za-z_][\w.:-]*="[^"<>]*")* ?/?>|\?xml [^<>]*\?>)'
)
_NAME_END = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")
_REF = re.compile(rb'\br="([A-Z]{1,3}\d{1,7})"')
_F_TEXT = re.compile(rb"<f\b[^>]*>([^<]*)</f>")
_V_TEXT = re.compile(rb"<v>([^<]*)</v>")


@dataclass
class _Scan:
    max_row: int = 0
    hidden: set[int] = field(default_factory=set)
    special: dict[str, Cell] = field(default_factory=dict)  # cells calamine shows as empty
    without_ref: bool = False
    doubtful: bool = False  # rows out of order, a malformed reference: the safe reader judges
    size: int = 0  # bytes of XML
    elements: int = 0  # start tags, as the safe reader counts them for its bounds
    # the styles that show a number as a date or a percentage: their marks and their cells
    kinds: dict[int, str] = field(default_factory=dict)
    marks: tuple[bytes, ...] = ()
    styled: re.Pattern[bytes] | None = None

    @property
    def fast(self) -> bool:
        return not (self.without_ref or self.doubtful) and (self.max_row <= MAX_FAST_ROWS)


class FastXlsxFile(XlsxFile):
    """``XlsxFile`` whose ``rows`` come from calamine when the scan says it is safe."""

    def __init__(self, path: Any) -> None:
        super().__init__(path)
        self._calamine: Any = None

    def close(self) -> None:
        if self._calamine is not None:
            self._calamine.close()
        super().close()

    def rows(self, sheet: SheetInfo) -> Iterator[tuple[int, dict[str, Cell]]]:
        grid = self._grid(sheet)
        if grid is None:
            yield from super().rows(sheet)
            return
        for number, values in grid:
            cells = {
                column_letter(index): value if isinstance(value, Cell) else _calamine_cell(value)
                for index, value in enumerate(values)
                if value != "" and value is not None
            }
            yield number, cells

    def value_rows(self, sheet: SheetInfo) -> Iterator[tuple[int, list[object]]]:
        grid = self._grid(sheet)
        if grid is None:
            yield from super().value_rows(sheet)
            return
        yield from grid  # "" for an empty cell, as the reader expects too

    def _grid(self, sheet: SheetInfo) -> list[tuple[int, list[object]]] | None:
        """The rows with data as calamine reads them (a text, a float, a bool, a date; ""
        when empty), with the scan's special cells put in place; None when the safe reader
        must read the sheet: reaching too far, or not understood."""
        scan = self._scan(sheet)
        within_bounds = (
            self.parsed_bytes + scan.size <= MAX_PARSED_BYTES
            and self.elements + scan.elements <= MAX_ELEMENTS
        )
        if python_calamine is None or not scan.fast or not within_bounds:
            return None
        try:
            if self._calamine is None:
                self._calamine = python_calamine.CalamineWorkbook.from_path(str(self.path))
            grid = self._calamine.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)
        except Exception:  # calamine disagrees with the file: the safe reader says why
            return None
        self.hidden_rows[sheet.part] = scan.hidden
        for ref, cell in scan.special.items():
            letters, row = split_ref(ref)
            column = column_index(letters)
            while len(grid) < row:
                grid.append([])
            values = grid[row - 1]
            values.extend([""] * (column + 1 - len(values)))
            values[column] = cell
        found: list[tuple[int, list[object]]] = []
        cells = 0
        for index, values in enumerate(grid):
            filled = len(values) - values.count("")
            if filled:
                cells += filled
                found.append((index + 1, values))
        self.check_data_size(sheet, len(found), cells)
        return found

    def _scan(self, sheet: SheetInfo) -> _Scan:
        """One bounded pass over the sheet's XML, decompressed by chunks, never whole. What
        starts after the cut (the last row start before the chunk's final ``OVERLAP`` bytes)
        is left for the next pass, which sees it again followed by the next chunk."""
        scan = _Scan()
        if self.kinds:
            scan.kinds = self.kinds
            scan.marks = tuple(b's="%d"' % index for index in self.kinds)
            scan.styled = _styled_cells(self.kinds)
        pending = b""
        # An element takes three bytes at least: a small sheet needs no counting.
        count = self.zip.getinfo(sheet.part).file_size // 3 + self.elements > MAX_ELEMENTS
        with self.open(sheet.part) as handle:
            while True:
                try:
                    chunk = handle.read(CHUNK)  # CHUNK bytes, fewer only at the end
                except BROKEN as exc:
                    label = f"la feuille « {sheet.name} »"
                    raise UnreadableFile(self.path, broken(label, exc)) from exc
                data = pending + chunk
                final = len(chunk) < CHUNK
                scan.size += len(chunk)
                if count:
                    scan.elements += chunk.count(b"<") - chunk.count(b"</") - chunk.count(b"<?")
                if final:
                    limit = len(data)
                else:  # cut where a row starts, so that no row tag straddles the cut
                    limit = data.rfind(b"<row", 0, len(data) - OVERLAP)
                    limit = limit if limit > 0 else max(0, len(data) - OVERLAP)
                # "whole": the part fits in this first window, seen from its very start
                _scan_window(data, limit, scan, whole=final and not pending)
                if final:
                    return scan
                pending = data[limit:]


def _scan_window(data: bytes, limit: int, scan: _Scan, whole: bool = False) -> None:
    """Record what starts before ``limit`` in ``data``. Byte tests in C skip the patterns
    that cannot match, so a clean sheet costs one pass for its rows and one for its refs."""
    if _doubtful_refs(data, whole):
        scan.doubtful = True  # past column BL, or a malformed reference
    for match in _ROW.finditer(data, 0, limit):
        row = int(match[1])
        scan.doubtful |= row <= scan.max_row
        scan.max_row = row
    if b'hidden="' in data:
        for match in _HIDDEN_ROW.finditer(data):
            ref = re.search(rb'\br="(\d+)"', match[0])
            if match.start() < limit and ref:
                scan.hidden.add(int(ref[1]))
    special = []
    if b't="e"' in data:
        special.append((_ERROR, _error_cell))
    marks = (b"</f></c>", b"/></c>", b"<v></v>", b"<v/>")
    if any(mark in data for mark in (*marks, *_SPACED_ENDS)):
        special.append((_NO_VALUE, _no_value_cell))
    for pattern, make in special:
        for match in pattern.finditer(data):
            if match.start() >= limit:
                continue
            ref = _REF.search(match[0])
            if ref is None:  # a cell without its reference: let the safe reader place it
                scan.without_ref = True
            elif (cell := make(match[0])) is not None:
                scan.special[ref[1].decode()] = cell
    _odd_values(data, limit, scan)
    if scan.styled is not None and any(mark in data for mark in scan.marks):
        _shown_cells(data, limit, scan, scan.styled)


def _odd_values(data: bytes, limit: int, scan: _Scan) -> None:
    """Numbers saved with spaces or a comma: calamine reads them as text (or fails), the
    safe reader as a number or a #NOMBRE? error; the safe reader's reading is put in place."""
    for match in _ODD_VALUE.finditer(data, 0, limit):
        start = data.rfind(b"<c ", 0, match.start())
        head = data[start : data.find(b">", start)] if start >= 0 else b""
        kind = _TYPE.search(head)
        if start < 0 or (kind is not None and kind[1] != b"n"):
            continue
        ref = _REF.search(head)
        text = _formula(_F_TEXT.search(data, start, match.start()))
        cell = decode_cell("n", _xml_text(match[1].decode()), text, [])
        if ref is None:
            scan.without_ref = True
        elif cell is not None:
            scan.special[ref[1].decode()] = cell


def _styled_cells(kinds: dict[int, str]) -> re.Pattern[bytes]:
    """A cell whose style is one of ``kinds``, with its attributes and content."""
    styles = b"|".join(b"%d" % index for index in sorted(kinds))
    return re.compile(rb'<c\b([^>]*?\bs="(' + styles + rb')"[^>]*)(?<!/)>(.*?)</c>', re.S)


def _shown_cells(data: bytes, limit: int, scan: _Scan, pattern: re.Pattern[bytes]) -> None:
    """The numbers shown as a date or a percentage: calamine gives a date as a datetime (and
    a percentage as a bare number), the safe reader the saved number with its ``shown``."""
    for match in pattern.finditer(data):
        attributes, style, inner = match.groups()
        kind = re.search(rb'\bt="([^"]*)"', attributes)
        value = _V_TEXT.search(inner)
        if match.start() >= limit or (kind and kind[1] != b"n") or not value or not value[1]:
            continue
        ref = _REF.search(match[0])
        text = _formula(_F_TEXT.search(inner))
        cell = decode_cell("n", value[1].decode(), text, [], scan.kinds[int(style)])
        if ref is None:
            scan.without_ref = True
        elif cell is not None and cell.kind == "n":
            scan.special[ref[1].decode()] = cell


def _doubtful_refs(data: bytes, whole: bool = False) -> bool:
    """An ``r`` attribute (a row's or a cell's) past column BL or malformed: calamine would
    allocate for it, or misplace the cell, so the safe reader decides. The other attributes
    whose name ends in "r" (``operator="…"``) and the namespace ``xmlns:r`` are let through.
    An attribute in single quotes or with spaces around its "=" (XML allows both, Excel
    writes neither) would escape the patterns: such a sheet goes to the safe reader too,
    unless ``data`` is the ``whole`` part and every tag in it is plain: the "=" is then in a
    text, as openpyxl writes inline strings ("coût total = somme"). A window of a larger part
    may start inside a tag, whose "<" it does not see: it is not excused."""
    if _ODD_EQUALS.search(data) is not None and (
        not whole or _NOT_PLAIN_TAG.search(data) is not None
    ):
        return True
    for match in _UNUSUAL_REF.finditer(data):
        at = match.start()
        before = data[at - 1] if at else 0
        if before in _NAME_END or (before == 0x3A and data[max(0, at - 6) : at] == b"xmlns:"):
            continue
        return True
    return False


def _error_cell(xml: bytes) -> Cell | None:
    value = _V_TEXT.search(xml)
    raw = value[1].decode() if value else "#ERREUR"
    return decode_cell("e", raw, _formula(_F_TEXT.search(xml)), [])


def _no_value_cell(xml: bytes) -> Cell | None:
    return decode_cell("n", None, _formula(_F_TEXT.search(xml)) or "", [])


def _formula(found: re.Match[bytes] | None) -> str | None:
    """The text of a formula found (``_F_TEXT``), as a parser gives it; decode_cell strips it."""
    return _xml_text(found[1].decode()) if found else None


def _xml_text(text: str) -> str:
    """A text node's characters as an XML parser gives them: the five entities and the
    character references (``&#233;``, ``&#x41;``) decoded; no other entity can be declared
    (a DTD is refused)."""
    return _REFERENCE.sub(_referenced, text) if "&" in text else text


_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_REFERENCE = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));")


def _referenced(match: re.Match[str]) -> str:
    name, decimal, hexadecimal = match.groups()
    if name:
        return _ENTITIES[name]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    return chr(code) if code <= 0x10FFFF else match[0]


def _calamine_cell(value: object) -> Cell:
    if isinstance(value, bool):
        return Cell("b", value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return Cell("e", "#NOMBRE!")
        return Cell("n", excel_decimal(value))
    if isinstance(value, int):
        return Cell("n", Decimal(value))
    if isinstance(value, str):
        return Cell("s", value)
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        # A number shown as a date: never an amount. Kept as text so it is reported.
        return Cell("s", value.isoformat() if hasattr(value, "isoformat") else str(value))
    return Cell("s", str(value))
