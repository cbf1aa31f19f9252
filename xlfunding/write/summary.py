"""The « Synthèse » sheet of the annex: each funder group, axis and sponsor with its share."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from xlfunding import layout as L
from xlfunding.money import ZERO
from xlfunding.write.annex_layout import COST, FIRST_ROW, WHO, Plan, page_setup, write_formula


def _share(amount: Decimal, total: Decimal) -> Decimal:
    return amount / total if total else ZERO


class Summary:
    """Writes « Synthèse »: its figures are formulas on the « Annexe » sheet's subtotals and
    totals, each carrying the value computed in Decimal."""

    def __init__(self, book: xlsxwriter.Workbook, plan: Plan, formats: dict[str, Any]) -> None:
        self.book, self.plan, self.f = book, plan, formats
        self.settings = plan.programme.settings

    def _formula(
        self, sheet: Worksheet, cell: tuple[int, int], formula: str, value: Decimal, fmt: str
    ) -> None:
        write_formula(sheet, cell, formula, value, self.f[fmt])

    # -- « Synthèse » ----------------------------------------------------------------------
    def write(self, sheet: Worksheet) -> None:
        plan, programme, annex = self.plan, self.plan.programme, f"'{L.ANNEX_SHEET}'!"
        sheet.write_string(0, 0, f"Synthèse — {self.settings.title}", self.f["title"])
        for col, width in enumerate((60, 16, 10)):
            sheet.set_column(col, col, width)
        groups = programme.group_totals()
        rows = [
            (g, f"={annex}${COST}${plan.group_row(i) + 1}", groups[g]) for i, g in enumerate(groups)
        ]
        end = self._table(sheet, 2, "Financeurs", rows)
        rows = [
            (
                x.axis,
                f"={annex}${COST}${x.subtotal_row + 1}",
                sum((a.total for a in x.actions), ZERO),
            )
            for x in plan.sections
        ]
        end = self._table(sheet, end + 2, "Axes du contrat de ville", rows)
        first, last = FIRST_ROW + 1, plan.sections[-1].subtotal_row + 1
        sponsors, start = programme.by_sponsor(), end + 2
        rows = [
            (
                name,
                f"=ROUND(SUMPRODUCT(--EXACT({annex}${WHO}${first}:${WHO}${last},A{row + 1}),"
                f"{annex}${COST}${first}:${COST}${last}),2)",
                sum((a.total for a in actions), ZERO),
            )
            for row, (name, actions) in enumerate(sponsors.items(), start=start + 1)
        ]
        self._table(sheet, start, "Porteurs", rows)
        chart = self.book.add_chart({"type": "pie"})
        chart.add_series(
            {
                "name": "Financements par groupe",
                "categories": [L.SUMMARY_SHEET, 3, 0, 2 + len(groups), 0],
                "values": [L.SUMMARY_SHEET, 3, 1, 2 + len(groups), 1],
                "data_labels": {"percentage": True, "category": True, "leader_lines": True},
            }
        )
        chart.set_title({"name": "Répartition des financements par groupe"})
        chart.set_legend({"none": True})
        sheet.insert_chart(2, 4, chart, {"x_scale": 1.4, "y_scale": 1.4})
        page_setup(sheet)

    def _table(
        self, sheet: Worksheet, row: int, heading: str, rows: Sequence[tuple[str, str, Decimal]]
    ) -> int:
        """Name | amount | share, then a TOTAL row with the share covered; returns that row."""
        total, end = self.plan.totals[0], row + 1 + len(rows)
        for col, text in enumerate((heading, "Montant", "Part")):
            sheet.write_string(row, col, text, self.f["header"])
        for r, (name, formula, amount) in enumerate(rows, start=row + 1):
            sheet.write_string(r, 0, name, self.f["text"])
            self._formula(sheet, (r, 1), formula, amount, "money")
            share = f"=IF($B${end + 1}=0,0,B{r + 1}/$B${end + 1})"
            sheet.write_formula(r, 2, share, self.f["percent"], _share(amount, total))
        sheet.write_string(end, 0, "TOTAL", self.f["sub_label"])
        self._formula(
            sheet, (end, 1), f"='{L.ANNEX_SHEET}'!${COST}${self.plan.total_row + 1}", total, "sub"
        )
        covered = sum((amount for _, _, amount in rows), ZERO)
        cells = f"B{row + 2}:B{end}" if rows else "0"
        sheet.write_formula(
            end,
            2,
            f"=IF(B{end + 1}=0,0,SUM({cells})/B{end + 1})",
            self.f["total_percent"],
            _share(covered, total),
        )
        return end
