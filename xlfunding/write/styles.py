"""How every workbook we write looks: one place for colours, fonts, number formats, page setup.

The template, the annex, the report and the import's « Non importé » sheet share these, so a
sponsor, a councillor and a staff member see one house style. Amounts are shown with French
grouping whatever the reader's locale (``[$-40C]``): « 248 656 € ».
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from xlfunding.text import shown

# User text is always text: never a formula, a link or a number.
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}

DARK_BLUE, WHITE = "#1F4E79", "#FFFFFF"
LIGHT_BLUE = "#D9E1F2"  # an axis row of the annex
GREY = "#F2F2F2"  # computed or locked cells, subtotals
BORDER_GREY = "#A6A6A6"
RED_FILL, RED_FONT = "#FFC7CE", "#9C0006"  # an error
YELLOW_FILL = "#FFEB9C"  # a warning

BASE = {"font_name": "Arial", "font_size": 10, "valign": "top"}
TITLE = {"bold": True, "font_size": 14}
HEADER = {"bold": True, "text_wrap": True, "bg_color": DARK_BLUE, "font_color": WHITE}
CELL = {"border": 1, "border_color": BORDER_GREY}

EURO = '[$-40C]#,##0\\ "€"'
EURO_CENTS = '[$-40C]#,##0.00\\ "€"'
# The template's input cells: in the reader's own locale, as the templates already sent out.
EURO_INPUT = '#,##0.00\\ "€"'
PERCENT = "0 %"
PERCENT_CENTS = '0.00" %"'

A4 = 9  # XlsxWriter's paper code


class Sheet(Worksheet):
    """Every worksheet we write (the annex's ``InOrderSheet`` too): each text cell can be
    saved. XlsxWriter funnels every string it writes (``write``, ``write_string``, a link's
    text) through ``_write_string``; a file name that is not valid UTF-8 is escaped there
    (``text.shown``) instead of failing when the workbook is saved."""

    def _write_string(self, row: int, col: int, string: str, *args: Any) -> Any:
        return super()._write_string(row, col, shown(string), *args)


class _Workbook(xlsxwriter.Workbook):
    worksheet_class = Sheet


def open_workbook(path: Path, **options: Any) -> xlsxwriter.Workbook:
    """A workbook at ``path`` that never turns a text into a formula, a link or a number, and
    never fails on a text it cannot encode."""
    return _Workbook(str(path), {**WORKBOOK_OPTIONS, **options})


def add_formats(book: xlsxwriter.Workbook, specs: dict[str, dict[str, Any]]) -> dict[str, Format]:
    """Each named spec on top of the base font."""
    return {name: book.add_format({**BASE, **spec}) for name, spec in specs.items()}


def print_landscape(sheet: Worksheet, *, title_row: int | None = None) -> None:
    """A4 landscape, one page wide, the header row repeated on every page."""
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)
    if title_row is not None:
        sheet.repeat_rows(title_row)
