"""The annex workbook's layout: where every row and column goes (``Plan``), its formats, and
the sheet that refuses a cell written out of order (the annex is streamed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlsxwriter.worksheet import Worksheet

from xlfunding import layout as L
from xlfunding.errors import ActionNotWritable
from xlfunding.model import Action, Programme
from xlfunding.write import styles

OPTIONS = {
    **styles.WORKBOOK_OPTIONS,
    # Rows go to the file as they are written: faster, and flat memory for a large annex.
    # A row written after a later one would be dropped: ``InOrderSheet`` makes that an error.
    "constant_memory": True,
}


class InOrderSheet(styles.Sheet):
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
KEYS = L.ANNEX_KEYS
TITLE, DESCRIPTION, SPONSOR, BUDGET, TOTAL, SOURCE = range(len(KEYS))
FIRST_FUNDER = len(KEYS)
COST, WHO = L.column_letter(TOTAL), L.column_letter(SPONSOR)  # "E", "C"
WIDTHS = (40, 100, 11, 28, 14, 45)
MAX_SPONSOR_WIDTH = 24  # « Porteur » widens to the longest word of a sponsor's name, then wraps
LINE_HEIGHT, MAX_ROW_HEIGHT = 12.75, 409  # points; Excel refuses taller rows
EURO, CELL = styles.EURO, styles.CELL
FORMATS: dict[str, dict[str, Any]] = {
    "title": styles.TITLE,
    "label": {"bold": True, "font_size": 12},
    "header": {**CELL, **styles.HEADER, "valign": "vcenter"},
    "axis": {**CELL, "bold": True, "bg_color": styles.LIGHT_BLUE},
    "text": {**CELL, "text_wrap": True},
    "center": {**CELL, "align": "center", "text_wrap": True},
    "money": {**CELL, "num_format": EURO},
    "sub_label": {**CELL, "bold": True, "align": "right", "bg_color": styles.GREY},
    "sub": {**CELL, "bold": True, "num_format": EURO, "bg_color": styles.GREY},
    "total_label": {"bold": True, "align": "right"},
    "total": {"bold": True, "num_format": EURO},
    "plain": {},
    "percent": {**CELL, "num_format": styles.PERCENT},
    "total_percent": {**CELL, "bold": True, "num_format": styles.PERCENT, "bg_color": styles.GREY},
}


def write_formula(
    sheet: Worksheet, cell: tuple[int, int], formula: str, value: Decimal, fmt: Any
) -> None:
    """A formula with the value computed here in Decimal, for readers that do not recompute."""
    sheet.write_formula(*cell, formula, fmt, value)


def page_setup(sheet: Worksheet) -> None:
    """A4 landscape, one page wide, narrow margins, « page / pages » at the foot."""
    styles.print_landscape(sheet)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.set_footer("&C&P / &N")


@dataclass(frozen=True)
class Section:
    axis: str
    row: int  # the shaded axis row; its actions follow, then its subtotal row
    actions: tuple[Action, ...]

    @property
    def subtotal_row(self) -> int:
        return self.row + 1 + len(self.actions)


@dataclass(frozen=True)
class Plan:
    """Where every row goes, and every figure in Decimal, before anything is written."""

    programme: Programme
    sections: tuple[Section, ...]
    codes: tuple[str, ...]
    totals: tuple[Decimal, ...]  # per numeric column: cost, then each funder

    @classmethod
    def of(cls, programme: Programme) -> Plan:
        codes = programme.settings.funder_codes
        for action in programme.actions:
            check(action, codes)
        sections, row = [], FIRST_ROW
        for axis, actions in programme.by_axis().items():
            sections.append(Section(axis, row, actions))
            row += len(actions) + 2
        totals = [programme.total, *(programme.funder_total(c) for c in codes)]
        return cls(programme, tuple(sections), codes, tuple(totals))

    @property
    def widths(self) -> tuple[int, ...]:
        """``WIDTHS``, with « Porteur » as wide as the longest word of a sponsor's name (up to
        ``MAX_SPONSOR_WIDTH``): a long name wraps between its words, never inside one."""
        names = [*self.programme.settings.sponsors, *(a.sponsor for a in self.programme.actions)]
        longest = max((len(word) for name in names for word in name.split()), default=0)
        sponsor = min(max(WIDTHS[SPONSOR], longest + 2), MAX_SPONSOR_WIDTH)
        return (*WIDTHS[:SPONSOR], sponsor, *WIDTHS[SPONSOR + 1 :])

    @property
    def cents(self) -> bool:
        actions = self.programme.actions
        amounts = [a.total for a in actions] + [v for a in actions for v in a.funding.values()]
        return any(v != v.to_integral_value() for v in amounts)

    @property
    def total_row(self) -> int:
        return self.sections[-1].subtotal_row + 2

    def group_row(self, index: int) -> int:
        return self.total_row + 1 + index

    def layout(self) -> dict[str, Any]:
        """1-based rows and column letters, for ``read_annex``."""
        groups = self.programme.settings.groups
        return {
            "sheet": L.ANNEX_SHEET,
            "summary_sheet": L.SUMMARY_SHEET,
            "header_row": HEADER_ROW + 1,
            "columns": {key: L.column_letter(i) for i, key in enumerate(KEYS)},
            "funders": {c: L.column_letter(FIRST_FUNDER + i) for i, c in enumerate(self.codes)},
            "axes": [
                {"name": x.axis, "row": x.row + 1, "subtotal_row": x.subtotal_row + 1}
                for x in self.sections
            ],
            "total_row": self.total_row + 1,
            "group_rows": {g: self.group_row(i) + 1 for i, g in enumerate(groups)},
        }


def check(action: Action, codes: Sequence[str]) -> None:
    """Refuse an action the annex cannot hold: a funder unknown to the settings, a text
    longer than a cell."""
    unknown = sorted(set(action.funding) - set(codes))
    if unknown:
        raise ActionNotWritable(
            None,
            f"action « {action.title} » : financeur(s) absent(s) des paramètres : "
            + ", ".join(unknown),
        )
    if max(len(action.title), len(action.description), len(action.sponsor)) > L.MAX_CELL_TEXT:
        raise ActionNotWritable(
            None,
            f"action « {action.title[:60]} » : un texte dépasse {L.MAX_CELL_TEXT} "
            "caractères, la limite d'Excel",
        )
