"""The annex's own totals block, checked against the actions imported from it.

One cause gives one problem: a block line that disagrees only because of an amount already
reported (an unknown funder's, a line not understood, an action whose total or funder was
mistyped) is not reported again; the action's problem says which number the block confirms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from xlfunding.model import Action
from xlfunding.money import ZERO, format_euros
from xlfunding.settings import Settings
from xlfunding.year.import_text import TOTAL_LABEL, BlockLine, Leftover, RawAction


class Names(Protocol):
    """The settings' names by their forgiving key (``importer``)."""

    def funder(self, name: str) -> str | None: ...

    def group_of(self, code: str) -> str: ...

    def nearest_funder(self, name: str) -> str | None: ...


@dataclass
class Gap:
    """An action whose funders do not add up to its total (as printed)."""

    raw: RawAction
    funded: Decimal
    confirmed: BlockLine | None = None  # the block line that says which side is right

    @property
    def gap(self) -> Decimal:
        return self.raw.budget.total - self.funded


# Reports a problem: its code, where, the value found, and its template's fields.
Reporter = Callable[..., None]


@dataclass
class TotalsCheck:
    settings: Settings
    names: Names
    block: list[BlockLine]
    report: Reporter
    residual: dict[BlockLine, Decimal] = field(init=False, default_factory=dict)
    explained: dict[BlockLine, Decimal] = field(init=False, default_factory=dict)

    def run(
        self,
        actions: Sequence[Action],
        leftovers: Sequence[Leftover],
        unattributed: list[tuple[Decimal, str | None]],  # (amount, likely group)
        gaps: list[Gap],
    ) -> None:
        """Compare each block line with the imported actions, once the amounts already
        reported (not imported, or mistyped in one action) are allowed for; then report each
        action that does not add up, and each block line still unexplained."""
        settings, names, block = self.settings, self.names, self.block
        imported = {TOTAL_LABEL: sum((a.total for a in actions), ZERO)}
        for group in settings.groups:
            members = settings.group_members(group)
            imported[group] = sum((a.amount(c) for a in actions for c in members), ZERO)
        self.residual = {line: line.amount - imported[line.label] for line in block}
        self.explained = dict.fromkeys(block, ZERO)
        for item in leftovers:  # whole lines whose budget could be read
            if item.budget is None:
                continue
            self._allow(TOTAL_LABEL, item.budget.total, only_if_exact=False)
            for name, amount in item.budget.items:
                code = names.funder(name)
                if code is not None:
                    self._allow(names.group_of(code), amount, only_if_exact=False)
                else:
                    nearest = names.nearest_funder(name)
                    unattributed.append((amount, names.group_of(nearest) if nearest else None))
        for amount, likely in unattributed:
            for group in [*([likely] if likely else []), *settings.groups]:
                if self._allow(group, amount, only_if_exact=True):
                    break
        for gap in gaps:
            if self._allow(TOTAL_LABEL, -gap.gap, only_if_exact=True):
                gap.confirmed = self._lines(TOTAL_LABEL)[0]
                continue
            for group in settings.groups:
                if self._allow(group, gap.gap, only_if_exact=True):
                    gap.confirmed = self._lines(group)[0]
                    break
        for gap in gaps:
            self._gap_problem(gap)
        for line in block:
            if self.residual[line]:
                self._block_problem(line, imported[line.label], self.explained[line])

    def _lines(self, label: str) -> list[BlockLine]:
        return [line for line in self.block if line.label == label]

    def _allow(self, label: str, amount: Decimal, *, only_if_exact: bool) -> bool:
        targets = self._lines(label)
        if not targets or (only_if_exact and any(self.residual[t] != amount for t in targets)):
            return False
        for target in targets:
            self.residual[target] -= amount
            self.explained[target] += amount
        return True

    def _gap_problem(self, gap: Gap) -> None:
        total, confirmed = gap.raw.budget.total, gap.confirmed
        variant, fields = "imported", {}
        if confirmed is not None:
            variant = "imported-cost-wrong"
            fields = {"place": confirmed.where.label, "group": confirmed.label}
            if confirmed.label != TOTAL_LABEL:
                variant = "imported-funder-wrong"
        self.report(
            "funders-do-not-add-up",
            gap.raw.cell("total"),
            total,
            variant=variant,
            funded=format_euros(gap.funded),
            total=format_euros(total),
            gap=format_euros(gap.gap),
            **fields,
        )

    def _block_problem(self, line: BlockLine, imported: Decimal, explained: Decimal) -> None:
        gap = line.amount - imported
        self.report(
            "annex-total-mismatch",
            line.where,
            line.amount,
            variant="explained" if explained else "",
            label=line.label,
            amount=format_euros(line.amount),
            imported=format_euros(imported),
            gap=format_euros(gap),
            explained=format_euros(explained),
            rest=format_euros(gap - explained),
        )
