"""A stable text dump of any .xlsx, for golden tests and for reading a workbook in a diff.

For each sheet in order: its state, freeze panes, print settings, columns, merges, validations,
conditional formats, charts, then each non-empty cell as
``Sheet!A1: value | number format | bold | fill`` (a formula shows its saved value after
``->``). What always differs between two writes (creation dates, authorship) is left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet


def dump_workbook(path: Path | str, *, values: bool = True) -> str:
    """The dump as text; ``values`` adds each formula's saved value."""
    book = load_workbook(path)
    saved = load_workbook(path, data_only=True) if values else None
    lines = [
        f"properties: title={_show(book.properties.title)} subject={_show(book.properties.subject)}"
    ]
    for name, defined in sorted(book.defined_names.items()):
        lines.append(f"name {name}: {defined.attr_text}")
    for sheet in book.worksheets:
        lines += _sheet(sheet, saved[sheet.title] if saved is not None else None)
    return "\n".join(lines) + "\n"


def _sheet(sheet: Worksheet, saved: Worksheet | None) -> Iterator[str]:
    yield ""
    yield f"== {_show(sheet.title)} [{sheet.sheet_state}]"
    if sheet.protection.sheet:
        yield "protected"
    if sheet.freeze_panes:
        yield f"freeze: {sheet.freeze_panes}"
    yield from _printing(sheet)
    for column in sorted(sheet.column_dimensions.values(), key=lambda c: c.min or 0):
        if column.customWidth or column.hidden:
            hidden = " hidden" if column.hidden else ""
            yield f"columns {_span(column.min, column.max)}: width={column.width:g}{hidden}"
    for row, dimension in sorted(sheet.row_dimensions.items()):
        if dimension.customHeight or dimension.hidden:
            hidden = " hidden" if dimension.hidden else ""
            yield f"row {row}: height={dimension.height:g}{hidden}"
    for merged in sorted(str(r) for r in sheet.merged_cells.ranges):
        yield f"merge: {merged}"
    for rule in sheet.data_validations.dataValidation:
        yield (
            f"validation {rule.sqref}: type={rule.type} operator={rule.operator} "
            f"formula1={_show(rule.formula1)} formula2={_show(rule.formula2)} "
            f"error={_show(rule.error)} prompt={_show(rule.prompt)}"
        )
    for formatting in sheet.conditional_formatting:
        for cf in formatting.rules:
            yield f"conditional {formatting.sqref}: type={cf.type} formula={cf.formula}"
    for chart in getattr(sheet, "_charts", []):
        yield from _chart(chart)
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                value = saved[cell.coordinate].value if saved is not None else None
                yield _cell(sheet.title, cell, value)


def _printing(sheet: Worksheet) -> Iterator[str]:
    setup, fit = sheet.page_setup, sheet.sheet_properties.pageSetUpPr
    parts = [f"orientation={setup.orientation}", f"paper={setup.paperSize}"]
    if fit is not None and fit.fitToPage:
        parts.append(f"fit={setup.fitToWidth or 1}x{setup.fitToHeight or 0}")
    if sheet.print_title_rows or sheet.print_title_cols:
        parts.append(f"titles={sheet.print_title_rows or ''}{sheet.print_title_cols or ''}")
    if sheet.print_area:
        parts.append(f"area={sheet.print_area}")
    yield "print: " + " ".join(parts)
    for name in ("oddHeader", "oddFooter"):
        part = getattr(sheet, name)
        texts = {k: getattr(part, k).text for k in ("left", "center", "right")}
        shown = " ".join(f"{k}={_show(v)}" for k, v in texts.items() if v)
        if shown:
            yield f"{name.removeprefix('odd').lower()}: {shown}"


def _chart(chart: Any) -> Iterator[str]:
    anchor = chart.anchor._from
    where = f"{_letter(anchor.col + 1)}{anchor.row + 1}"
    yield f"chart {type(chart).__name__} at {where}: title={_show(_chart_title(chart))}"
    for series in chart.series:
        values = series.val.numRef.f if series.val and series.val.numRef else None
        categories = None
        if series.cat is not None:
            ref = series.cat.strRef or series.cat.numRef
            categories = ref.f if ref is not None else None
        yield f"  series: values={values} categories={categories}"


def _chart_title(chart: Any) -> str | None:
    try:
        runs = chart.title.tx.rich.p[0].r
    except (AttributeError, IndexError, TypeError):
        return None
    return "".join(run.t for run in runs or [])


def _cell(sheet: str, cell: Cell, saved: object) -> str:
    shown = f"{cell.value} -> {_show(saved)}" if cell.data_type == "f" else _show(cell.value)
    parts = [f"{sheet}!{cell.coordinate}: {shown}", cell.number_format]
    if cell.font is not None and cell.font.b:
        parts.append("bold")
    fill = cell.fill
    if fill is not None and fill.fill_type == "solid" and fill.fgColor is not None:
        parts.append(f"fill={fill.fgColor.rgb}")
    if cell.alignment is not None and cell.alignment.wrap_text:
        parts.append("wrap")
    if cell.hyperlink is not None:
        parts.append(f"link={cell.hyperlink.target or cell.hyperlink.location}")
    return " | ".join(parts)


def _show(value: object) -> str:
    """Text quoted as JSON (newlines and no-break spaces visible), numbers without ".0"."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text.replace("\u00a0", "\\u00a0").replace("\u202f", "\\u202f")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    return str(value)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _span(first: int | None, last: int | None) -> str:
    start = _letter(first or 1)
    return f"{start}:{_letter(last or first or 1)}"
