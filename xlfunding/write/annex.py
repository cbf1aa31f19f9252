"""Write the annex the council votes and the prefecture receives, and export it as PDF.

Sheet « Annexe »: a shaded row per axis, its actions (title, description, sponsor, the budget
text as the annex prints it, then the numbers), a subtotal per axis, TOTAL and each funder group,
then the prefecture's acknowledgements. Sheet « Synthèse »: each funder group, axis and sponsor
with its share, and a pie chart. Every figure is a formula carrying the value computed here in
Decimal, so a reader that does not recompute (openpyxl, pandas, previews) sees the same numbers.
"""

from __future__ import annotations

import functools
import math
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from xlfunding import layout as L
from xlfunding.errors import LibreOfficeMissing
from xlfunding.identity import from_actions, merged
from xlfunding.model import Action, Location, Programme, funder_sums
from xlfunding.money import ZERO, format_euros
from xlfunding.write import styles
from xlfunding.write.annex_layout import (
    BUDGET,
    COST,
    DESCRIPTION,
    EURO,
    FIRST_FUNDER,
    FORMATS,
    HEADER_ROW,
    HEADLINE_ROW,
    LABEL_ROW,
    LINE_HEIGHT,
    MAX_ROW_HEIGHT,
    OPTIONS,
    SOURCE,
    SPONSOR,
    TITLE,
    TITLE_ROW,
    TOTAL,
    InOrderSheet,
    Plan,
    Section,
    next_row,
    page_setup,
    write_formula,
)
from xlfunding.write.libreoffice import convert, find_soffice
from xlfunding.write.output import atomic_path, check_output
from xlfunding.write.summary import Summary


def write_annex(
    programme: Programme,
    path: Path | str,
    *,
    force: bool = False,
    show_sources: bool = False,
    inputs: Iterable[Path | None] = (),
    extra_sheets: Sequence[Callable[[xlsxwriter.Workbook], None]] = (),
) -> Path:
    """Write the annex workbook; the « Source » column is hidden unless ``show_sources``.

    ``extra_sheets`` are called with the open workbook after the annex's own sheets, to add
    sheets of their own (the consolidation's « Évolutions »). ``inputs``: the files read to make
    it, never overwritten (the settings file always is one)."""
    path = Path(path)
    plan = Plan.of(programme)
    check_output(path, force=force, inputs=[*inputs, programme.settings.path])
    with atomic_path(path) as temporary:
        book = styles.open_workbook(temporary, **OPTIONS)
        _Writer(book, plan, show_sources).write()
        for add_sheet in extra_sheets:
            add_sheet(book)
        book.close()
    return path


def export_pdf(
    xlsx: Path | str, pdf: Path | str, *, force: bool = False, inputs: Iterable[Path | None] = ()
) -> Path:
    """Print the annex workbook to PDF with LibreOffice; never over ``xlsx`` nor ``inputs``."""
    xlsx, pdf = Path(xlsx), Path(pdf)
    if find_soffice() is None:
        raise LibreOfficeMissing(xlsx, "impossible d'exporter en PDF")
    check_output(pdf, force=force, inputs=[xlsx, *inputs])
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


def source_text(source: Location | None, reference: str = "") -> str:
    """« ccas-2025.xlsx — 'Actions'!ligne 5 », then « — Dauphin 2025-00123 » when the action
    has a Dauphin file number (the annex reader takes it back from there)."""
    dauphin = f"{L.DAUPHIN_MARK}{reference}" if reference else ""
    if source is None:
        return dauphin.removeprefix(" — ")
    where = f"'{source.sheet}'!ligne {source.row}"
    return (f"{source.file.name} — {where}" if source.file is not None else where) + dauphin


def row_height(texts: Iterable[tuple[str, int]], short: tuple[str, int] = ("", 1)) -> float:
    """Rows of wrapped text get a height: LibreOffice does not fit them when it opens a file.
    ``short``: a short text in a narrow column (the sponsor), wrapped word by word."""
    lines = word_lines(*short)
    for text, width in texts:
        per_line = width * 1.2
        # Word wrapping leaves the end of each line short: count 10 % more characters than
        # typed. An estimate, where textwrap cost most of the time of a large annex.
        parts = text.split("\n") if "\n" in text else (text,)
        wrapped = sum(math.ceil(len(part) * 1.1 / per_line) or 1 for part in parts)
        lines = max(lines, wrapped)
    return min(MAX_ROW_HEIGHT, math.ceil(lines * LINE_HEIGHT + 3))


@functools.lru_cache(maxsize=256)
def word_lines(text: str, width: int) -> int:
    """The lines ``text`` takes wrapped between its words in a column ``width`` wide: in a
    narrow column, a word that does not fit leaves most of a line empty."""
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width:
            lines, used = lines + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return lines


class _Writer:
    def __init__(self, book: xlsxwriter.Workbook, plan: Plan, show_sources: bool) -> None:
        self.book, self.plan, self.show_sources = book, plan, show_sources
        self.settings = plan.programme.settings
        self.numeric = [TOTAL, *range(FIRST_FUNDER, FIRST_FUNDER + len(plan.codes))]
        self.widths = plan.widths
        money = styles.EURO_CENTS if plan.cents else EURO
        self.f = styles.add_formats(
            book,
            {
                name: {**spec, "num_format": money} if spec.get("num_format") == EURO else spec
                for name, spec in FORMATS.items()
            },
        )

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
        annex = self.book.add_worksheet(L.ANNEX_SHEET, InOrderSheet)
        self._annex(annex)
        summary = self.book.add_worksheet(L.SUMMARY_SHEET, InOrderSheet)
        Summary(self.book, self.plan, self.f).write(summary)
        meta = self.book.add_worksheet(L.META_SHEET, InOrderSheet)
        # the sponsors' numbers their templates gave are kept with the settings (#14)
        ids = merged(s.identities, from_actions(self.plan.programme.actions))
        stored = replace(s, identities=ids)
        for row, (key, value) in enumerate(L.annex_metadata(stored, self.plan.layout())):
            meta.write_string(row, 0, key)
            meta.write_string(row, 1, value)
        meta.very_hidden()
        annex.activate()

    def _formula(
        self, sheet: Worksheet, cell: tuple[int, int], formula: str, value: Decimal, fmt: str
    ) -> None:
        write_formula(sheet, cell, formula, value, self.f[fmt])

    # -- « Annexe » ------------------------------------------------------------------------
    def _annex(self, sheet: Worksheet) -> None:
        plan, f = self.plan, self.f
        sheet.write_string(TITLE_ROW, 0, self.settings.title.upper(), f["title"])
        sheet.write_string(LABEL_ROW, 0, self.settings.annex_label, f["label"])
        decision = self.settings.decision
        if decision.reference or decision.date:  # « Délibération DELIB-2024-1179 du 18/12/2024 »
            sheet.write_string(HEADLINE_ROW, 0, decision.line, f["plain"])
        sheet.write_string(HEADLINE_ROW, BUDGET, "Coût total de la programmation", f["total_label"])
        self._formula(
            sheet, (HEADLINE_ROW, TOTAL), f"={COST}{plan.total_row + 1}", plan.totals[0], "total"
        )
        for col, header in enumerate([*L.ANNEX_HEADERS, *plan.codes]):
            sheet.write_string(HEADER_ROW, col, header, f["header"])
        for col, width in enumerate(self.widths):
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
        page_setup(sheet)
        # The council reads the text columns and the totals; the funder columns stay on screen.
        last = plan.group_row(len(self.settings.groups)) + len(self._acknowledgements())
        sheet.print_area(0, 0, last, SOURCE)

    def _section(self, sheet: Worksheet, section: Section) -> None:
        f, codes = self.f, self.plan.codes
        sheet.write_string(section.row, 0, section.axis, f["axis"])
        for col in range(1, FIRST_FUNDER + len(codes)):
            sheet.write_blank(section.row, col, None, f["axis"])
        text, center, money, widths = f["text"], f["center"], f["money"], self.widths
        # The undecorated writers (XlsxWriter's own "_write_*", which the public ones call
        # after parsing "A1" arguments): a hundred thousand rows spend a second less. Rows only
        # go forward here: ``next_row`` checks it once a row, as InOrderSheet does a cell.
        put_string, put_blank = styles.Sheet._write_string, Worksheet._write_blank
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
                (SOURCE, source_text(action.source, action.reference), text),
            ):
                if value:
                    put_string(sheet, row, col, value, fmt)
                else:
                    put_blank(sheet, row, col, None, fmt)
            sheet.set_row(
                row,
                row_height(
                    (
                        (action.title, widths[TITLE]),
                        (action.description, widths[DESCRIPTION]),
                        (budget, widths[BUDGET]),
                    ),
                    (action.sponsor, widths[SPONSOR]),
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
            span = f"{L.column_letter(col)}{section.row + 1}:{L.column_letter(col)}{row}"
            self._formula(sheet, (row, col), f"=ROUND(SUM({span}),2)", amount, "sub")

    def _totals(self, sheet: Worksheet) -> None:
        plan, s, row = self.plan, self.settings, self.plan.total_row
        sheet.write_string(row, BUDGET, "TOTAL", self.f["total_label"])
        for col, value in zip(self.numeric, plan.totals, strict=True):
            terms = "+".join(f"{L.column_letter(col)}{x.subtotal_row + 1}" for x in plan.sections)
            self._formula(sheet, (row, col), f"=ROUND({terms},2)", value, "total")
        groups = plan.programme.group_totals()
        for index, group in enumerate(s.groups):
            members = [FIRST_FUNDER + plan.codes.index(c) for c in s.group_members(group)]
            terms = "+".join(f"{L.column_letter(c)}{row + 1}" for c in members)
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
