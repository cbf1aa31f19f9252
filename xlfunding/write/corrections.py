"""The correction copy: the sender's own workbook, each problem cell highlighted with a French
comment, and a first sheet "À corriger" listing every problem with a link to its cell.

This is what staff send back to a sponsor. The sender's values are not changed, and formula
cells keep their saved values (``formula_values``); text is always written as text (openpyxl
would otherwise turn "=..." into a formula).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.hyperlink import Hyperlink

from xlfunding import layout as L
from xlfunding.errors import UnreadableFile
from xlfunding.problems import Problem, Report, Severity, quote_sheet
from xlfunding.write import formula_values, styles
from xlfunding.write.output import atomic_path, check_output

SHEET = "À corriger"
FILLS = {
    Severity.ERROR: PatternFill("solid", fgColor=styles.RED_FILL.lstrip("#")),
    Severity.WARNING: PatternFill("solid", fgColor=styles.YELLOW_FILL.lstrip("#")),
}
LABELS = {Severity.ERROR: "Erreur", Severity.WARNING: "Avertissement"}
HEADERS = ("N°", "Gravité", "Cellule", "Problème", "Valeur trouvée", "Que faire", "Code")
WIDTHS = (5, 14, 22, 34, 28, 90, 24)


def set_text(cell: Cell, value: object) -> None:
    """Write ``value`` as plain text (or number), never as a formula."""
    cell.value = value if isinstance(value, int | float) or value is None else str(value)
    if isinstance(cell.value, str):
        cell.data_type = "s"


def write_corrections(
    source: Path | str,
    report: Report,
    output: Path | str,
    *,
    force: bool = False,
    inputs: Iterable[Path | None] = (),
) -> Path:
    """Write the correction copy of ``source`` with the problems of ``report`` that concern it;
    never over ``source`` nor the other ``inputs`` (the settings file)."""
    source, output = Path(source), Path(output)
    check_output(output, force=force, inputs=[source, *inputs])
    mine = [p for p in report.problems if p.file is None or Path(p.file) == source]
    try:
        book = openpyxl.load_workbook(source, rich_text=False, keep_links=False)
        values = formula_values.saved_values(source, book)
    except Exception as exc:  # openpyxl reads parts our reader never needs; any may be damaged
        raise UnreadableFile(
            source,
            f"la copie à corriger ne peut pas être faite : le classeur est abîmé ("
            f"{type(exc).__name__}) ; envoyez au porteur la liste des problèmes",
        ) from exc
    for sheet in book.worksheets:  # openpyxl keeps such a cell, and Excel would refuse the copy
        if sheet.max_row > L.MAX_ROW or sheet.max_column > L.MAX_COLUMN:
            far = max(sheet._cells.values(), key=lambda c: (c.column > L.MAX_COLUMN, c.row))
            raise UnreadableFile(
                source,
                f"la copie à corriger ne peut pas être faite : la feuille « {sheet.title} » a "
                f"une cellule hors des limites d'Excel ({far.coordinate}) ; envoyez au porteur "
                "la liste des problèmes",
            )
    for problem in mine:
        if problem.sheet in book.sheetnames and problem.cell:
            _mark(book[problem.sheet][problem.cell], problem)
    _list_sheet(book, mine)
    book.calculation.fullCalcOnLoad = True
    with atomic_path(output) as temporary:
        book.save(temporary)
        formula_values.restore(temporary, values)
    return output


def _mark(cell: Cell, problem: Problem) -> None:
    cell.fill = FILLS[problem.severity]
    text = f"{LABELS[problem.severity]} : {problem.message}"
    if cell.comment is not None and cell.comment.author == "xlfunding":
        text = f"{cell.comment.text}\n\n{text}"
    comment = Comment(text, "xlfunding")
    comment.width, comment.height = 320, 160
    cell.comment = comment


def _list_sheet(book: openpyxl.Workbook, problems: list[Problem]) -> None:
    if SHEET in book.sheetnames:
        del book[SHEET]
    sheet = book.create_sheet(SHEET, 0)
    errors = sum(p.severity is Severity.ERROR for p in problems)
    set_text(
        sheet["A1"],
        f"À corriger : {errors} erreur{'s' if errors > 1 else ''}, "
        f"{len(problems) - errors} avertissement{'s' if len(problems) - errors > 1 else ''}."
        " Cliquez sur une cellule de la colonne C pour y aller ; corrigez, enregistrez et "
        "renvoyez le classeur.",
    )
    sheet["A1"].font = Font(bold=True, size=12)
    for column, (header, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        cell = sheet.cell(3, column)
        set_text(cell, header)
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = width
    for number, problem in enumerate(problems, start=1):
        row = number + 3
        values = (
            number,
            LABELS[problem.severity],
            problem.where or "—",
            problem.title,
            "" if problem.value is None else problem.value,
            problem.message,
            problem.code,
        )
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row, column)
            set_text(cell, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(row, 2).fill = FILLS[problem.severity]
        if problem.sheet and problem.cell and problem.sheet in book.sheetnames:
            link = sheet.cell(row, 3)
            link.hyperlink = Hyperlink(
                ref=link.coordinate,
                location=f"{quote_sheet(problem.sheet)}!{problem.cell}",
                display=problem.where,
            )
            link.font = Font(color="0563C1", underline="single")
    sheet.freeze_panes = "A4"
    book.active = 0
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False
