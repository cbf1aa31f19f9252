"""Import, part two: an annex workbook written by this tool, read back as import lines.

Its numeric columns are the truth; the printed budget text is cross-checked against them and a
difference is a problem at its cell.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from xlfunding.money import ZERO, AmountError, format_euros, parse_amount
from xlfunding.problems import CODES, Problem
from xlfunding.read.annex import open_annex
from xlfunding.text import name_key
from xlfunding.year.import_text import (
    TOTAL_LABEL,
    AxisRow,
    BlockLine,
    Budget,
    BudgetError,
    Leftover,
    RawAction,
    SourceRead,
    Where,
    parse_budget,
)


def read_workbook(path: Path) -> SourceRead:
    """The annex's actions from its numeric columns (the truth), its budget texts checked
    against them, and its TOTAL and group rows as the totals block."""
    annex = open_annex(path)  # its own stored settings: names are matched to ours later
    programme, layout, sheet, value = annex.programme, annex.layout, annex.sheet, annex.value
    columns: dict[str, str] = layout["columns"]
    funders: dict[str, str] = layout["funders"]

    def at(letter: str, row: int) -> Where:
        return Where(sheet, f"{letter}{row}", row)

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
                    variant="annex-total",
                    file=path,
                    sheet=sheet,
                    cell=where.cell,
                    label=label,
                )
            )
        else:
            read.block.append(BlockLine(where, label, amount))
    return read


def _budget_text_problem(text: object, budget: Budget, where: Where, path: Path) -> Problem | None:
    """The printed « Budget prévisionnel » must say what the numeric columns say."""
    place: dict[str, Any] = {"file": path, "sheet": where.sheet, "cell": where.cell, "value": text}
    try:
        written = parse_budget(str(text or ""))
    except BudgetError as exc:
        return Problem.make("budget-text-mismatch", variant="unreadable", reason=exc, **place)
    differences = []
    if written.total != budget.total:
        differences.append(_differs("coût total", written.total, budget.total))
    numbers = {name_key(code): (code, amount) for code, amount in budget.items}
    texts = {name_key(name): (name, amount) for name, amount in written.items}
    for key in [*numbers, *(k for k in texts if k not in numbers)]:
        name, in_text = texts.get(key, ("", ZERO))
        code, in_column = numbers.get(key, (name, ZERO))
        if in_text != in_column:
            differences.append(_differs(code, in_text, in_column))
    if not differences:
        return None
    return Problem.make("budget-text-mismatch", differences=" ; ".join(differences), **place)


def _differs(name: str, in_text: Decimal, in_column: Decimal) -> str:
    return CODES["budget-text-mismatch"].text(
        "difference", name=name, text=format_euros(in_text), column=format_euros(in_column)
    )
