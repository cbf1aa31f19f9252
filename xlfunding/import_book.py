"""Import, part two: an annex workbook written by this tool, read back as import lines.

Its numeric columns are the truth; the printed budget text is cross-checked against them and a
difference is a problem at its cell.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlfunding.annex_reader import META_SHEET, NotAnAnnex, read_annex
from xlfunding.import_text import (
    TOTAL_LABEL,
    AxisRow,
    BlockLine,
    Budget,
    BudgetError,
    Leftover,
    RawAction,
    SourceRead,
    Where,
    fold,
    parse_budget,
)
from xlfunding.layout import column_index
from xlfunding.money import ZERO, AmountError, format_euros, parse_amount
from xlfunding.problems import Problem


def read_workbook(path: Path) -> SourceRead:
    """The annex's actions from its numeric columns (the truth), its budget texts checked
    against them, and its TOTAL and group rows as the totals block."""
    from openpyxl import load_workbook

    programme = read_annex(path)  # its own stored settings: names are matched to ours later
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        meta = {
            row[0]: row[1]
            for row in book[META_SHEET].iter_rows(max_col=2, values_only=True)
            if len(row) == 2 and isinstance(row[0], str)
        }
        layout: dict[str, Any] = json.loads(str(meta["layout"]))
        sheet = layout["sheet"]
        rows = dict(enumerate(book[sheet].iter_rows(values_only=True), start=1))
        columns: dict[str, str] = layout["columns"]
        funders: dict[str, str] = layout["funders"]
    except (KeyError, ValueError, TypeError) as exc:
        raise NotAnAnnex(path, "la description de la mise en page est illisible") from exc
    finally:
        book.close()

    def at(letter: str, row: int) -> Where:
        return Where(sheet, f"{letter}{row}", row)

    def value(letter: str, row: int) -> object:
        values = rows.get(row, ())
        index = column_index(letter)
        return values[index] if index < len(values) else None

    read = SourceRead(path)
    read.axes = [AxisRow(at("A", x["row"]), x["name"]) for x in layout["axes"]]
    for action in programme.actions:
        row = action.source.row if action.source else 0
        cells = {"total": at(columns["total"], row), "sponsor": at(columns["sponsor"], row)}
        cells.update({code: at(funders[code], row) for code in action.funding})
        budget = Budget(action.total, tuple(action.funding.items()))
        read.actions.append(
            RawAction(
                at(columns["title"], row),
                action.axis,
                action.title,
                action.description,
                action.sponsor,
                budget,
                cells,
            )
        )
        text = value(columns["budget"], row)
        problem = _budget_text_problem(text, budget, at(columns["budget"], row), path)
        if problem is not None:
            read.problems.append(problem)
    block_rows = [(TOTAL_LABEL, layout["total_row"]), *layout["group_rows"].items()]
    for label, row in block_rows:
        where = at(columns["total"], row)
        try:
            amount = parse_amount(value(columns["total"], row))
        except AmountError as exc:
            read.leftovers.append(Leftover(where, str(value(columns["total"], row)), str(exc)))
            continue
        if amount is None:
            read.problems.append(
                Problem.make(
                    "formula-without-value",
                    f"Le total « {label} » n'a pas de valeur enregistrée : ouvrez l'annexe dans "
                    "Excel, recalculez (F9) et enregistrez-la, puis relancez l'import.",
                    file=path,
                    sheet=sheet,
                    cell=where.cell,
                )
            )
        else:
            read.block.append(BlockLine(where, label, amount))
    return read


def _budget_text_problem(text: object, budget: Budget, where: Where, path: Path) -> Problem | None:
    """The printed « Budget prévisionnel » must say what the numeric columns say."""
    after = (
        " Les montants des colonnes ont été importés : vérifiez lequel est juste et corrigez "
        "le modèle importé si besoin."
    )
    try:
        written = parse_budget(str(text or ""))
    except BudgetError as exc:
        message = f"Le texte « Budget prévisionnel » est illisible : {exc}.{after}"
    else:
        differences = []
        if written.total != budget.total:
            differences.append(_differs("coût total", written.total, budget.total))
        numbers = {fold(code): (code, amount) for code, amount in budget.items}
        texts = {fold(name): (name, amount) for name, amount in written.items}
        for key in [*numbers, *(k for k in texts if k not in numbers)]:
            name, in_text = texts.get(key, ("", ZERO))
            code, in_column = numbers.get(key, (name, ZERO))
            if in_text != in_column:
                differences.append(_differs(code, in_text, in_column))
        if not differences:
            return None
        message = (
            "Le texte « Budget prévisionnel » ne dit pas ce que disent les colonnes : "
            + " ; ".join(differences)
            + "."
            + after
        )
    return Problem.make(
        "budget-text-mismatch", message, file=path, sheet=where.sheet, cell=where.cell, value=text
    )


def _differs(name: str, in_text: Decimal, in_column: Decimal) -> str:
    return f"{name} {format_euros(in_text)} dans le texte, {format_euros(in_column)} en colonne"
