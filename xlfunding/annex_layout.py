"""The annex workbook's layout and formats, shared by its sheet writers."""

from __future__ import annotations

from typing import Any

from xlsxwriter.worksheet import Worksheet

from xlfunding.annex_reader import ANNEX_SHEET, META_SHEET, SUMMARY_SHEET
from xlfunding.layout import column_letter

__all__ = ["ANNEX_SHEET", "META_SHEET", "SUMMARY_SHEET"]

OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    # Rows go to the file as they are written: faster, and flat memory for a large annex.
    # A row written after a later one would be dropped: ``InOrderSheet`` makes that an error.
    "constant_memory": True,
}


class InOrderSheet(Worksheet):
    """A worksheet that refuses, instead of silently dropping, a cell written out of order."""

    def _write_number(self, *args: Any, **kwargs: Any) -> int:
        return _in_order(super()._write_number(*args, **kwargs))

    def _write_string(self, *args: Any, **kwargs: Any) -> int:
        return _in_order(super()._write_string(*args, **kwargs))

    def _write_formula(self, *args: Any, **kwargs: Any) -> int:
        return _in_order(super()._write_formula(*args, **kwargs))

    def _write_blank(self, *args: Any, **kwargs: Any) -> int:
        return _in_order(super()._write_blank(*args, **kwargs))


def next_row(sheet: Worksheet, row: int) -> None:
    """Before writing ``row`` with XlsxWriter's undecorated writers: the checks InOrderSheet
    makes on each cell, made once for the row (a row above the one being written, or past
    Excel's last row, would be dropped without a word)."""
    if row < sheet.previous_row or row >= sheet.xls_rowmax:
        raise RuntimeError("annexe : ligne écrite hors de l'ordre des lignes (bogue)")


def _in_order(status: int) -> int:
    if status == -1:
        raise RuntimeError("annexe : cellule écrite hors de l'ordre des lignes (bogue)")
    return status


# « Annexe »: 0-based rows and columns; one numeric column per funder from FIRST_FUNDER on.
TITLE_ROW, LABEL_ROW, HEADLINE_ROW, HEADER_ROW, FIRST_ROW = 0, 1, 2, 3, 4
KEYS = ("title", "description", "sponsor", "budget", "total", "source")
TITLE, DESCRIPTION, SPONSOR, BUDGET, TOTAL, SOURCE = range(len(KEYS))
FIRST_FUNDER = len(KEYS)
COST, WHO = column_letter(TOTAL), column_letter(SPONSOR)  # "E", "C"
HEADERS = ("Intitulé du projet", "Description", "Porteur", "Budget prévisionnel", "Coût total")
WIDTHS = (40, 100, 11, 28, 14, 45)
LINE_HEIGHT, MAX_ROW_HEIGHT = 12.75, 409  # points; Excel refuses taller rows
# French grouping whatever the reader's locale: "248 656 €".
EURO, EURO_CENTS, PERCENT = '[$-40C]#,##0\\ "€"', '[$-40C]#,##0.00\\ "€"', "0 %"
BASE = {"font_name": "Arial", "font_size": 10, "valign": "top"}
CELL = {"border": 1, "border_color": "#A6A6A6"}
FORMATS: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14},
    "label": {"bold": True, "font_size": 12},
    "header": {
        **CELL,
        "bold": True,
        "text_wrap": True,
        "valign": "vcenter",
        "bg_color": "#1F4E79",
        "font_color": "#FFFFFF",
    },
    "axis": {**CELL, "bold": True, "bg_color": "#D9E1F2"},
    "text": {**CELL, "text_wrap": True},
    "center": {**CELL, "align": "center"},
    "money": {**CELL, "num_format": EURO},
    "sub_label": {**CELL, "bold": True, "align": "right", "bg_color": "#F2F2F2"},
    "sub": {**CELL, "bold": True, "num_format": EURO, "bg_color": "#F2F2F2"},
    "total_label": {"bold": True, "align": "right"},
    "total": {"bold": True, "num_format": EURO},
    "plain": {},
    "percent": {**CELL, "num_format": PERCENT},
    "total_percent": {**CELL, "bold": True, "num_format": PERCENT, "bg_color": "#F2F2F2"},
}
