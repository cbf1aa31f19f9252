"""Write the annex the council votes and the prefecture receives, and export it as PDF.

Sheet « Annexe »: a shaded row per axis, its actions (title, description, sponsor, the budget
text as the annex prints it, then the numbers), a subtotal per axis, TOTAL and each funder group,
then the prefecture's acknowledgements. Sheet « Synthèse »: each funder group, axis and sponsor
with its share, and a pie chart. Every figure is a formula carrying the value computed here in
Decimal, so a reader that does not recompute (openpyxl, pandas, previews) sees the same numbers.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from xlfunding.annex_layout import (
    BASE,
    BUDGET,
    COST,
    DESCRIPTION,
    EURO,
    EURO_CENTS,
    FIRST_FUNDER,
    FIRST_ROW,
    FORMATS,
    HEADER_ROW,
    HEADERS,
    HEADLINE_ROW,
    KEYS,
    LABEL_ROW,
    LINE_HEIGHT,
    MAX_ROW_HEIGHT,
    OPTIONS,
    SOURCE,
    SPONSOR,
    TITLE,
    TITLE_ROW,
    TOTAL,
    WIDTHS,
    InOrderSheet,
    next_row,
)
from xlfunding.annex_reader import ANNEX_SHEET, META_SHEET, SUMMARY_SHEET, annex_metadata
from xlfunding.annex_summary import SummaryMixin
from xlfunding.layout import MAX_CELL_TEXT, column_letter
from xlfunding.libreoffice import LibreOfficeMissing, convert, find_soffice
from xlfunding.model import Action, Location, Programme, funder_sums
from xlfunding.money import ZERO, format_euros
from xlfunding.output import atomic_path, check_output


def write_annex(
    programme: Programme,
    path: Path | str,
    *,
    force: bool = False,
    show_sources: bool = False,
    inputs: Iterable[Path] = (),
    extra_sheets: Sequence[Callable[[xlsxwriter.Workbook], None]] = (),
) -> Path:
    """Write the annex workbook; the « Source » column is hidden unless ``show_sources``.

    ``extra_sheets`` are called with the open workbook after the annex's own sheets, to add
    sheets of their own (the consolidation's « Évolutions »)."""
    path = Path(path)
    plan = _Plan.of(programme)
    check_output(path, force=force, inputs=inputs)
    with atomic_path(path) as temporary:
        book = xlsxwriter.Workbook(str(temporary), OPTIONS)
        _Writer(book, plan, show_sources).write()
        for add_sheet in extra_sheets:
            add_sheet(book)
        book.close()
    return path


def export_pdf(xlsx: Path | str, pdf: Path | str, *, force: bool = False) -> Path:
    """Print the annex workbook to PDF with LibreOffice."""
    xlsx, pdf = Path(xlsx), Path(pdf)
    if find_soffice() is None:
        raise LibreOfficeMissing(xlsx, "impossible d'exporter en PDF")
    check_output(pdf, force=force, inputs=[xlsx])
    with tempfile.TemporaryDirectory(prefix="xlfunding-pdf-") as folder:
        produced = convert(xlsx, "pdf", Path(folder))
        with atomic_path(pdf) as temporary:
            shutil.copyfile(produced, temporary)
    return pdf


def budget_text(action: Action, codes: Sequence[str]) -> str:
    """« Coût total = 50 950 € » then « CCAS = 14 985 € »…, one a line: each funder with an
    amount, in the settings' order."""
    funding = action.funding
    lines = [f"Coût total = {format_euros(action.total)}"]
    lines += [f"{c} = {format_euros(funding[c])}" for c in codes if funding.get(c)]
    return "\n".join(lines)


def source_text(source: Location | None) -> str:
    """« ccas-2025.xlsx — 'Actions'!ligne 5 »."""
    if source is None:
        return ""
    where = f"'{source.sheet}'!ligne {source.row}"
    return f"{source.file.name} — {where}" if source.file is not None else where


def row_height(texts: Iterable[tuple[str, int]]) -> float:
    """Rows of wrapped text get a height: LibreOffice does not fit them when it opens a file."""
    lines = 1
    for text, width in texts:
        per_line = width * 1.2
        # Word wrapping leaves the end of each line short: count 10 % more characters than
        # typed. An estimate, where textwrap cost most of the time of a large annex.
        parts = text.split("\n") if "\n" in text else (text,)
        wrapped = sum(math.ceil(len(part) * 1.1 / per_line) or 1 for part in parts)
        lines = max(lines, wrapped)
    return min(MAX_ROW_HEIGHT, math.ceil(lines * LINE_HEIGHT + 3))


@dataclass(frozen=True)
class _Section:
    axis: str
    row: int  # the shaded axis row; its actions follow, then its subtotal row
    actions: tuple[Action, ...]

    @property
    def subtotal_row(self) -> int:
        return self.row + 1 + len(self.actions)


@dataclass(frozen=True)
class _Plan:
    """Where every row goes, and every figure in Decimal, before anything is written."""

    programme: Programme
    sections: tuple[_Section, ...]
    codes: tuple[str, ...]
    totals: tuple[Decimal, ...]  # per numeric column: cost, then each funder

    @classmethod
    def of(cls, programme: Programme) -> _Plan:
        codes = programme.settings.funder_codes
        for action in programme.actions:
            _check(action, codes)
        sections, row = [], FIRST_ROW
        for axis, actions in programme.by_axis().items():
            sections.append(_Section(axis, row, actions))
            row += len(actions) + 2
        totals = [programme.total, *(programme.funder_total(c) for c in codes)]
        return cls(programme, tuple(sections), codes, tuple(totals))

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
            "sheet": ANNEX_SHEET,
            "summary_sheet": SUMMARY_SHEET,
            "header_row": HEADER_ROW + 1,
            "columns": {key: column_letter(i) for i, key in enumerate(KEYS)},
            "funders": {c: column_letter(FIRST_FUNDER + i) for i, c in enumerate(self.codes)},
            "axes": [
                {"name": x.axis, "row": x.row + 1, "subtotal_row": x.subtotal_row + 1}
                for x in self.sections
            ],
            "total_row": self.total_row + 1,
            "group_rows": {g: self.group_row(i) + 1 for i, g in enumerate(groups)},
        }


def _check(action: Action, codes: Sequence[str]) -> None:
    unknown = sorted(set(action.funding) - set(codes))
    if unknown:
        raise ValueError(
            f"action « {action.title} » : financeur(s) absent(s) des paramètres : "
            + ", ".join(unknown)
        )
    if max(len(action.title), len(action.description), len(action.sponsor)) > MAX_CELL_TEXT:
        raise ValueError(
            f"action « {action.title[:60]} » : un texte dépasse {MAX_CELL_TEXT} "
            "caractères, la limite d'Excel"
        )


class _Writer(SummaryMixin):
    def __init__(self, book: xlsxwriter.Workbook, plan: _Plan, show_sources: bool) -> None:
        self.book, self.plan, self.show_sources = book, plan, show_sources
        self.settings = plan.programme.settings
        self.numeric = [TOTAL, *range(FIRST_FUNDER, FIRST_FUNDER + len(plan.codes))]
        money = EURO_CENTS if plan.cents else EURO
        self.f = {}
        for name, spec in FORMATS.items():
            spec = {**spec, "num_format": money} if spec.get("num_format") == EURO else spec
            self.f[name] = book.add_format({**BASE, **spec})

    def write(self) -> None:
        s = self.settings
        self.book.set_properties(
            {
                "title": s.title,
                "author": s.commune,
                "company": s.commune,
                "subject": f"{s.annex_label} — {s.commune}, QPV {s.qpv}",
            }
        )
        self.book.set_calc_mode("auto")
        annex = self.book.add_worksheet(ANNEX_SHEET, InOrderSheet)
        self._annex(annex)
        self._summary(self.book.add_worksheet(SUMMARY_SHEET, InOrderSheet))
        meta = self.book.add_worksheet(META_SHEET, InOrderSheet)
        for row, (key, value) in enumerate(annex_metadata(s, self.plan.layout())):
            meta.write_string(row, 0, key)
            meta.write_string(row, 1, value)
        meta.very_hidden()
        annex.activate()

    def _formula(
        self, sheet: Worksheet, cell: tuple[int, int], formula: str, value: Decimal, fmt: str
    ) -> None:
        sheet.write_formula(*cell, formula, self.f[fmt], value)

    def _page(self, sheet: Worksheet) -> None:
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
        sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        sheet.set_footer("&C&P / &N")

    # -- « Annexe » ------------------------------------------------------------------------
    def _annex(self, sheet: Worksheet) -> None:
        plan, f = self.plan, self.f
        sheet.write_string(TITLE_ROW, 0, self.settings.title.upper(), f["title"])
        sheet.write_string(LABEL_ROW, 0, self.settings.annex_label, f["label"])
        sheet.write_string(HEADLINE_ROW, BUDGET, "Coût total de la programmation", f["total_label"])
        self._formula(
            sheet, (HEADLINE_ROW, TOTAL), f"={COST}{plan.total_row + 1}", plan.totals[0], "total"
        )
        for col, header in enumerate([*HEADERS, "Source", *plan.codes]):
            sheet.write_string(HEADER_ROW, col, header, f["header"])
        for col, width in enumerate(WIDTHS):
            hidden = col == SOURCE and not self.show_sources
            sheet.set_column(col, col, width, None, {"hidden": True} if hidden else {})
        # An action pays few of the funders: the empty cells take the column's format rather
        # than being written one by one (a large annex writes half as many cells).
        sheet.set_column(FIRST_FUNDER, FIRST_FUNDER + len(plan.codes) - 1, 12, f["money"])
        for section in plan.sections:
            self._section(sheet, section)
        self._totals(sheet)
        sheet.freeze_panes(HEADER_ROW + 1, 0)
        sheet.repeat_rows(HEADER_ROW)
        self._page(sheet)
        # The council reads the text columns and the totals; the funder columns stay on screen.
        last = plan.group_row(len(self.settings.groups)) + len(self._acknowledgements())
        sheet.print_area(0, 0, last, SOURCE)

    def _section(self, sheet: Worksheet, section: _Section) -> None:
        f, codes = self.f, self.plan.codes
        sheet.write_string(section.row, 0, section.axis, f["axis"])
        for col in range(1, FIRST_FUNDER + len(codes)):
            sheet.write_blank(section.row, col, None, f["axis"])
        text, center, money = f["text"], f["center"], f["money"]
        # The undecorated writers (XlsxWriter's own "_write_*", which the public ones call
        # after parsing "A1" arguments): a hundred thousand rows spend a second less. Rows only
        # go forward here: ``next_row`` checks it once a row, as InOrderSheet does a cell.
        put_string, put_blank = Worksheet._write_string, Worksheet._write_blank
        put_number = Worksheet._write_number
        numeric = list(zip(self.numeric[1:], codes, strict=True))
        for row, action in enumerate(section.actions, start=section.row + 1):
            next_row(sheet, row)
            budget = budget_text(action, codes)
            for col, value, fmt in (
                (TITLE, action.title, text),
                (DESCRIPTION, action.description, text),
                (SPONSOR, action.sponsor, center),
                (BUDGET, budget, text),
                (SOURCE, source_text(action.source), text),
            ):
                if value:
                    put_string(sheet, row, col, value, fmt)
                else:
                    put_blank(sheet, row, col, None, fmt)
            sheet.set_row(
                row,
                row_height(
                    (
                        (action.title, WIDTHS[TITLE]),
                        (action.description, WIDTHS[DESCRIPTION]),
                        (budget, WIDTHS[BUDGET]),
                    )
                ),
            )
            put_number(sheet, row, TOTAL, action.total, money)
            funding = action.funding
            for col, code in numeric:
                amount = funding.get(code)
                if amount:
                    put_number(sheet, row, col, amount, money)
        row = section.subtotal_row
        sheet.write_string(row, BUDGET, "Sous-total", f["sub_label"])
        sheet.write_blank(row, SOURCE, None, f["sub"])
        by_funder = funder_sums(section.actions, codes)
        sums = [sum((a.total for a in section.actions), ZERO), *(by_funder[c] for c in codes)]
        for col, amount in zip(self.numeric, sums, strict=True):
            span = f"{column_letter(col)}{section.row + 1}:{column_letter(col)}{row}"
            self._formula(sheet, (row, col), f"=ROUND(SUM({span}),2)", amount, "sub")

    def _totals(self, sheet: Worksheet) -> None:
        plan, s, row = self.plan, self.settings, self.plan.total_row
        sheet.write_string(row, BUDGET, "TOTAL", self.f["total_label"])
        for col, value in zip(self.numeric, plan.totals, strict=True):
            terms = "+".join(f"{column_letter(col)}{x.subtotal_row + 1}" for x in plan.sections)
            self._formula(sheet, (row, col), f"=ROUND({terms},2)", value, "total")
        groups = plan.programme.group_totals()
        for index, group in enumerate(s.groups):
            members = [FIRST_FUNDER + plan.codes.index(c) for c in s.group_members(group)]
            terms = "+".join(f"{column_letter(c)}{row + 1}" for c in members)
            formula = f"=ROUND({terms},2)" if len(members) > 1 else f"={terms}"
            sheet.write_string(plan.group_row(index), BUDGET, group, self.f["total_label"])
            self._formula(sheet, (plan.group_row(index), TOTAL), formula, groups[group], "total")
        first = plan.group_row(len(s.groups)) + 1
        for offset, text in enumerate(self._acknowledgements()):
            if text:
                sheet.write_string(first + offset, 0, text, self.f["plain"])

    def _acknowledgements(self) -> list[str]:
        lines: list[str] = []
        for deliberation in self.settings.deliberations:
            lines += ["Accusé de réception en préfecture", deliberation.acte]
            if deliberation.teletransmission:
                lines.append(f"Date de télétransmission : {deliberation.teletransmission:%d/%m/%Y}")
            if deliberation.reception:
                lines.append(f"Date de réception préfecture : {deliberation.reception:%d/%m/%Y}")
            lines.append("")
        return lines
