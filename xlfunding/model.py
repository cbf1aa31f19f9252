"""The programme's data: settings-independent, immutable, money as Decimal."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from xlfunding.money import ZERO

if TYPE_CHECKING:
    from xlfunding.settings import Settings

# Fields of an action, in template order; funders follow as their own columns.
FIELDS = ("axis", "title", "description", "sponsor", "total")


@dataclass(frozen=True, slots=True)
class Location:
    """Where an action was read: file, sheet, row, and the column letter of each field."""

    file: Path | None
    sheet: str
    row: int
    columns: Mapping[str, str] = field(default_factory=dict, compare=False)

    def cell(self, name: str) -> str | None:
        """``cell("total")`` -> ``"E7"``; ``None`` when the field has no column."""
        letter = self.columns.get(name)
        return f"{letter}{self.row}" if letter else None


@dataclass(frozen=True, slots=True)
class Action:
    axis: str
    title: str
    description: str
    sponsor: str
    total: Decimal
    funding: Mapping[str, Decimal]  # funder code -> amount; absent means 0
    source: Location | None = field(default=None, compare=False)
    # the template's optional columns (#14): the Dauphin file number, the sponsor's numbers
    reference: str = ""
    siret: str = ""
    rna: str = ""

    def amount(self, funder: str) -> Decimal:
        return self.funding.get(funder, ZERO)

    @property
    def funded(self) -> Decimal:
        return sum(self.funding.values(), ZERO)

    @property
    def gap(self) -> Decimal:
        """Total cost minus the funders: positive when funding is missing."""
        return self.total - self.funded


@dataclass(frozen=True)
class Programme:
    settings: Settings
    actions: tuple[Action, ...]

    @functools.cached_property
    def total(self) -> Decimal:
        return sum((a.total for a in self.actions), ZERO)

    @functools.cached_property
    def funder_totals(self) -> dict[str, Decimal]:
        """Each funder's total, in one pass over the actions."""
        return funder_sums(self.actions, self.settings.funder_codes)

    def funder_total(self, code: str) -> Decimal:
        return self.funder_totals.get(code, ZERO)

    def group_totals(self) -> dict[str, Decimal]:
        totals = dict.fromkeys(self.settings.groups, ZERO)
        for funder in self.settings.funders:
            totals[funder.group] += self.funder_total(funder.code)
        return totals

    def by_axis(self) -> dict[str, tuple[Action, ...]]:
        return _grouped(self.actions, self.settings.axes, lambda a: a.axis)

    def by_sponsor(self) -> dict[str, tuple[Action, ...]]:
        return _grouped(self.actions, self.settings.sponsors, lambda a: a.sponsor)


def funder_sums(actions: Iterable[Action], codes: Iterable[str]) -> dict[str, Decimal]:
    """Each funder's total over ``actions`` (every code present, 0 when unused)."""
    sums = dict.fromkeys(codes, ZERO)
    for action in actions:
        for code, amount in action.funding.items():
            sums[code] = sums.get(code, ZERO) + amount
    return sums


def _grouped(actions: Iterable[Action], order: Iterable[str], key) -> dict[str, tuple[Action, ...]]:  # type: ignore[no-untyped-def]
    groups: dict[str, list[Action]] = {name: [] for name in order}
    for action in actions:
        groups.setdefault(key(action), []).append(action)
    return {name: tuple(items) for name, items in groups.items()}
