"""The 23 000 € threshold: a convention is required, and publication due (décret n° 2001-495,
décret n° 2017-779), when one funder's grants to one beneficiary reach 23 000 € in the year,
counted per beneficiary over all its actions, not per action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from xlfunding.model import Programme
from xlfunding.money import ZERO

THRESHOLD = Decimal("23000")


@dataclass(frozen=True)
class Pair:
    """One funder's grants to one beneficiary over the year."""

    funder: str
    beneficiary: str
    amount: Decimal
    actions: int

    @property
    def due(self) -> bool:
        """A convention is required and publication due (23 000 € reached)."""
        return self.amount >= THRESHOLD


def pairs(programme: Programme, funders: Sequence[str] | None = None) -> list[Pair]:
    """Each (funder, beneficiary) pair with a grant, in the settings' order of funders and
    sponsors, its total over all the beneficiary's actions and how many actions it pays."""
    codes = tuple(funders) if funders is not None else programme.settings.funder_codes
    sums: dict[tuple[str, str], list[Decimal]] = {}
    for action in programme.actions:
        for code in codes:
            amount = action.amount(code)
            if amount:
                sums.setdefault((code, action.sponsor), []).append(amount)
    order = {s: i for i, s in enumerate(programme.settings.sponsors)}
    keys = sorted(sums, key=lambda k: (codes.index(k[0]), order.get(k[1], len(order)), k[1]))
    return [Pair(f, b, sum(sums[f, b], ZERO), len(sums[f, b])) for f, b in keys]
