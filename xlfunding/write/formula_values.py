"""The saved values of formula cells, kept through openpyxl.

openpyxl loads a workbook either with its formulas or with their saved values, and saves
formulas with an empty value (``<v />``): a copy it writes (the corrections copy) would show
blanks in any viewer that does not recompute (a phone, a preview, a web mail). So the values
are read from a second, ``data_only`` load of the same file, and written back into each
formula cell of the saved copy, whose XML openpyxl has just written.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import posixpath
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
from defusedxml.ElementTree import fromstring
from openpyxl.utils.datetime import to_excel

# sheet title -> cell reference -> (the cell's type attribute, its <v> text)
Values = dict[str, dict[str, tuple[str, str]]]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
# A formula cell as openpyxl writes it: <c r="E3" s="8"><f>SUM(E5:E304)</f><v /></c>
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*)>(<f\b[^>]*?(?:/>|>[^<]*</f>))<v\s*/>(?:</v>)?</c>'
)
_TYPE = re.compile(rb'\st="[^"]*"')


def saved_values(source: Path, book: openpyxl.Workbook) -> Values:
    """The saved value of each formula cell of ``book`` (``source`` loaded with formulas),
    as it goes in the XML: ``("n", "85520")``, ``("str", "texte")``, ``("b", "1")``…"""
    # The cells the file holds, not every place of their rectangle (``iter_rows`` makes a cell
    # for each: one far cell, at YSO3749, made 65 million of them and 20 GB).
    formulas = {
        sheet.title: [c.coordinate for c in sheet._cells.values() if c.data_type == "f"]
        for sheet in book.worksheets
    }
    if not any(formulas.values()):
        return {}
    saved = openpyxl.load_workbook(source, data_only=True, rich_text=False, keep_links=False)
    values: Values = {}
    for title, refs in formulas.items():
        sheet = saved[title]
        found = {ref: _xml_value(sheet[ref].value, sheet[ref].data_type) for ref in refs}
        values[title] = {ref: value for ref, value in found.items() if value is not None}
    return values


def _xml_value(value: object, data_type: str) -> tuple[str, str] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        return "n", repr(to_excel(value))
    if isinstance(value, int | float):
        return "n", repr(value)
    return ("e" if data_type == "e" else "str"), str(value)


def restore(path: Path, values: Values) -> None:
    """Write ``values`` into the formula cells of the workbook openpyxl saved at ``path``."""
    if not any(values.values()):
        return
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    for title, part in _sheet_parts(parts).items():
        cells = values.get(title)
        if cells and part in parts:
            parts[part] = _FORMULA_CELL.sub(functools.partial(_filled, cells=cells), parts[part])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def _filled(match: re.Match[bytes], cells: dict[str, tuple[str, str]]) -> bytes:
    ref, attributes, formula = match[1], match[2], match[3]
    saved = cells.get(ref.decode())
    if saved is None:
        return match[0]
    kind, text = saved
    attributes = _TYPE.sub(b"", attributes) + (b"" if kind == "n" else f' t="{kind}"'.encode())
    value = escape(text).encode()
    return b'<c r="' + ref + b'"' + attributes + b">" + formula + b"<v>" + value + b"</v></c>"


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet title -> its part, from the workbook openpyxl wrote."""
    rels = fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    found = {}
    for sheet in fromstring(parts["xl/workbook.xml"]).iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        found[sheet.get("name", "")] = posixpath.normpath(part)
    return found
