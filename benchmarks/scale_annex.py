"""The writing stages of the scale benchmark, each run in a fresh process: the annex of 100 × N
actions written by xlfunding's ``write_annex`` and by ``bare_annex`` (bare XlsxWriter, the same
cells), and the naïve pipeline (pandas.read_excel for every file, then ``bare_annex``)."""

from __future__ import annotations

import pickle
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scale_inputs import (
    ACTIONS_PER_RETURN,
    Inputs,
    Record,
    actions_of,
    bundled_settings,
    load_records,
)
from scale_measure import Work, timed
from scale_read import pandas_frame


def _euros(value: float) -> str:
    """50950.0 -> "50 950 €", 7611.78 -> "7 611,78 €" (no-break spaces), as the annex prints."""
    text = f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",").removesuffix(",00")
    return text + "\u00a0€"


def _letter(index: int) -> str:
    from xlfunding.layout import column_letter

    return column_letter(index)


BareRow = tuple[str, str, str, str, float, list[float], str]


def bare_annex(path: Path, meta: dict[str, Any], rows: Iterable[BareRow]) -> int:
    """The annex's cells written with bare XlsxWriter: the same strings, numbers and formulas
    with their values, in the same places; no formats, heights, summary sheet or checks."""
    import xlsxwriter

    codes: list[str] = meta["codes"]
    by_axis: dict[str, list[BareRow]] = {axis: [] for axis in meta["axes"]}
    for row in rows:
        by_axis.setdefault(row[0], []).append(row)
    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    sheet = book.add_worksheet("Annexe")
    numeric = [4, *range(6, 6 + len(codes))]
    sheet.write_string(0, 0, meta["title"].upper())
    sheet.write_string(1, 0, meta["label"])
    sheet.write_string(2, 3, "Coût total de la programmation")
    from xlfunding.layout import ANNEX_HEADERS

    headers = [*ANNEX_HEADERS, *codes]
    for col, header in enumerate(headers):
        sheet.write_string(3, col, header)
    line, subtotals, totals = 4, [], [0.0] * len(numeric)
    written = 0
    for axis, items in by_axis.items():
        first = line
        sheet.write_string(line, 0, axis)
        sums = [0.0] * len(numeric)
        for _, title, description, sponsor, total, amounts, source in items:
            line += 1
            budget = [f"Coût total = {_euros(total)}"]
            budget += [f"{c} = {_euros(a)}" for c, a in zip(codes, amounts, strict=True) if a]
            for col, text in enumerate((title, description, sponsor, "\n".join(budget))):
                sheet.write_string(line, col, text)
            sheet.write_string(line, 5, source)
            for position, (col, value) in enumerate(zip(numeric, [total, *amounts], strict=True)):
                if value or col == 4:
                    sheet.write_number(line, col, value)
                    sums[position] += value
            written += 1
        line += 1
        sheet.write_string(line, 3, "Sous-total")
        for position, col in enumerate(numeric):
            span = f"{_letter(col)}{first + 1}:{_letter(col)}{line}"
            sheet.write_formula(line, col, f"=ROUND(SUM({span}),2)", None, round(sums[position], 2))
            totals[position] += sums[position]
        subtotals.append(line)
        line += 1
    total_row = subtotals[-1] + 2
    sheet.write_formula(2, 4, f"=E{total_row + 1}", None, round(totals[0], 2))
    sheet.write_string(total_row, 3, "TOTAL")
    for position, col in enumerate(numeric):
        terms = "+".join(f"{_letter(col)}{r + 1}" for r in subtotals)
        sheet.write_formula(total_row, col, f"=ROUND({terms},2)", None, round(totals[position], 2))
    for offset, (group, members) in enumerate(meta["groups"].items(), start=1):
        cols = [numeric[1 + codes.index(c)] for c in members]
        value = sum(totals[1 + codes.index(c)] for c in members)
        terms = "+".join(f"{_letter(c)}{total_row + 1}" for c in cols)
        formula = f"=ROUND({terms},2)" if len(cols) > 1 else f"={terms}"
        sheet.write_string(total_row + offset, 3, group)
        sheet.write_formula(total_row + offset, 4, formula, None, round(value, 2))
    below = total_row + len(meta["groups"]) + 2
    for offset, text in enumerate(meta["footer"]):
        if text:
            sheet.write_string(below + offset, 0, text)
    book.close()
    return written


def _bare_rows(records: Iterable[Record]) -> list[BareRow]:
    return [
        (
            r.axis,
            r.title,
            r.description,
            r.sponsor,
            float(r.total),
            [float(a) if a is not None else 0.0 for a in r.amounts],
            f"{r.file} — 'Actions'!ligne {r.row}",
        )
        for r in records
    ]


def step_annex(writer: str, inputs: Inputs, actions: int) -> Work:
    n = actions // ACTIONS_PER_RETURN
    meta, records = load_records(inputs, n)
    out = Path(tempfile.mkdtemp(prefix="bench-annex-"))
    try:
        if writer == "bare":
            rows = _bare_rows(records)
            return timed(lambda: bare_annex(out / "annexe.xlsx", meta, rows))
        from xlfunding.model import Programme
        from xlfunding.write.annex import write_annex

        settings = bundled_settings()
        programme = Programme(settings, tuple(actions_of(records, meta["codes"], inputs.inbox(n))))

        def write() -> int:
            write_annex(programme, out / "annexe.xlsx")
            return len(programme.actions)

        return timed(write)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def step_naive(inputs: Inputs, n: int) -> Work:
    """The naïve pipeline: pandas.read_excel (openpyxl) for every file, then bare XlsxWriter
    writing the same annex cells."""
    import pandas  # noqa: F401

    with inputs.records(n).open("rb") as handle:
        meta = pickle.load(handle)["meta"]
    width = len(meta["codes"])
    out = Path(tempfile.mkdtemp(prefix="bench-naive-"))

    def run() -> int:
        rows: list[BareRow] = []
        for path in inputs.files(n):
            for index, values in enumerate(pandas_frame(path).itertuples(index=False)):
                amounts = [0.0 if v != v else float(v) for v in values[5 : 5 + width]]
                rows.append(
                    (
                        values[0],
                        values[1],
                        values[2] if values[2] == values[2] else "",
                        values[3],
                        float(values[4]),
                        amounts,
                        f"{path.name} — 'Actions'!ligne {index + 5}",
                    )
                )
        return bare_annex(out / "annexe.xlsx", meta, rows)

    try:
        return timed(run)
    finally:
        shutil.rmtree(out, ignore_errors=True)
