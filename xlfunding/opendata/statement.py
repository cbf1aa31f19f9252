"""Each funder group's statement: what the CAF or the State's delegate asks the city for after
the vote. A sheet per group of the summary: the actions it funds (axis, title, sponsor, cost),
its amount (each member funder's when the group has several), its share of each action's cost,
and its total, which is the annex's total for the group, exact."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format

from xlfunding import layout as L
from xlfunding.model import Action, Programme
from xlfunding.money import ZERO
from xlfunding.write import styles
from xlfunding.write.output import atomic_path, check_output

HEADERS = ("Axe", "Intitulé de l'action", "Porteur", "Coût total")
SHARE_HEADER = "Part du coût"
_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Statement:
    """One funder group's lines: the actions it pays, in the programme's order."""

    group: str
    members: tuple[str, ...]  # the group's funder codes that pay something
    actions: tuple[Action, ...]

    def amount(self, action: Action) -> Decimal:
        return sum((action.amount(code) for code in self.members), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((self.amount(a) for a in self.actions), ZERO)


def statements(programme: Programme, groups: Sequence[str] | None = None) -> list[Statement]:
    """The statement of each group (the settings' groups by default; case and accents forgiven
    in ``groups``, ``UnknownGroup`` for a name that is none), each group that funds nothing
    left out."""
    settings = programme.settings
    chosen = settings.groups if groups is None else [settings.group_named(g) for g in groups]
    found = []
    for group in chosen:
        codes = settings.group_members(group)
        paying = tuple(a for a in programme.actions if any(a.amount(c) for c in codes))
        members = tuple(c for c in codes if any(a.amount(c) for a in paying))
        if paying:
            found.append(Statement(group, members, paying))
    return found


def write_statements(
    programme: Programme,
    path: Path | str,
    groups: Sequence[str] | None = None,
    *,
    force: bool = False,
    inputs: Iterable[Path] = (),
) -> list[Statement]:
    """Write a workbook with a sheet per group's statement; returns the statements written."""
    path = Path(path)
    found = statements(programme, groups)
    check_output(path, force=force, inputs=inputs)
    with atomic_path(path) as temporary:
        book = styles.open_workbook(temporary)
        formats = styles.add_formats(
            book,
            {
                "title": styles.TITLE,
                "plain": {},
                "header": {**styles.CELL, **styles.HEADER},
                "text": {**styles.CELL, "text_wrap": True},
                "money": {**styles.CELL, "num_format": styles.EURO_CENTS},
                "share": {**styles.CELL, "num_format": styles.PERCENT_CENTS},
                "total_label": {**styles.CELL, "bold": True, "bg_color": styles.GREY},
                "total": {
                    **styles.CELL,
                    "bold": True,
                    "num_format": styles.EURO_CENTS,
                    "bg_color": styles.GREY,
                },
            },
        )
        for statement in found:
            _sheet(book, programme, statement, formats)
        book.close()
    return found


def sheet_name(group: str) -> str:
    """The group's name as a sheet can be named (31 characters, none of []:*?/\\)."""
    return _NOT_IN_SHEET_NAME.sub("-", group)[:31].strip("'") or "Groupe"


def _sheet(
    book: xlsxwriter.Workbook, programme: Programme, statement: Statement, f: dict[str, Format]
) -> None:
    settings = programme.settings
    sheet = book.add_worksheet(sheet_name(statement.group))
    sheet.write_string(0, 0, f"État du financeur {statement.group}", f["title"])
    sheet.write_string(
        1, 0, f"{settings.title} — {settings.commune}, QPV {settings.qpv}", f["plain"]
    )
    if settings.decision.reference or settings.decision.date:
        sheet.write_string(2, 0, settings.decision.line, f["plain"])
    several = len(statement.members) > 1
    amounts = [*statement.members, f"Total {statement.group}"] if several else [statement.group]
    headers = [*HEADERS, *amounts, SHARE_HEADER]
    header_row, first = 4, 5
    dauphin = any(a.reference for a in statement.actions)  # the optional column, if used
    for col, header in enumerate([*headers, *([L.OPTIONAL_HEADERS["reference"]] * dauphin)]):
        sheet.write_string(header_row, col, header, f["header"])
    for row, action in enumerate(statement.actions, start=first):
        for col, text in enumerate((action.axis, action.title, action.sponsor)):
            sheet.write_string(row, col, text, f["text"])
        sheet.write_number(row, 3, action.total, f["money"])
        for col, code in enumerate(statement.members if several else (), start=4):
            if action.amount(code):
                sheet.write_number(row, col, action.amount(code), f["money"])
            else:
                sheet.write_blank(row, col, None, f["money"])
        amount_col = len(headers) - 2
        amount = statement.amount(action)
        if several:
            span = f"{L.column_letter(4)}{row + 1}:{L.column_letter(amount_col - 1)}{row + 1}"
            sheet.write_formula(row, amount_col, f"=SUM({span})", f["money"], amount)
        else:
            sheet.write_number(row, amount_col, amount, f["money"])
        share = f"={L.column_letter(amount_col)}{row + 1}/D{row + 1}*100"
        sheet.write_formula(row, amount_col + 1, share, f["share"], amount * 100 / action.total)
        if dauphin:
            sheet.write_string(row, len(headers), action.reference, f["text"])
    last = first + len(statement.actions)
    sheet.write_string(last, 0, "TOTAL", f["total_label"])
    for col in (1, 2):
        sheet.write_blank(last, col, None, f["total_label"])
    sums = [
        sum((a.total for a in statement.actions), ZERO),
        *(sum((a.amount(c) for a in statement.actions), ZERO) for c in statement.members),
    ]
    if several:
        sums.append(statement.total)
    for col, value in enumerate(sums[: len(headers) - 4], start=3):
        letter = L.column_letter(col)
        sheet.write_formula(
            last, col, f"=SUM({letter}{first + 1}:{letter}{last})", f["total"], value
        )
    sheet.write_blank(last, len(headers) - 1, None, f["total_label"])
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 50)
    sheet.set_column(2, 2, 12)
    sheet.set_column(3, len(headers) - 1, 14)
    sheet.freeze_panes(first, 0)
    styles.print_landscape(sheet, title_row=header_row)
