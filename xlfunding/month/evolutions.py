"""Month to month: what changed between an earlier annex and this one.

An action is the same action from one month to the next when its sponsor and its title match,
case and spacing aside. ``compare`` lists the actions added, removed and changed (each changed
amount, cost or funder, before and after; a changed axis, title spelling or description too),
and each funder group's total and share of the programme, before and after. The result is
written as the « Évolutions » sheet (``write_evolutions_sheet``) and in the JSON report.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlfunding.model import Action, Programme
from xlfunding.money import ZERO

if TYPE_CHECKING:
    from xlsxwriter import Workbook

SHEET = "Évolutions"
ADDED, REMOVED, CHANGED = "ajoutée", "supprimée", "modifiée"
COST = "Coût total"
TEXT_FIELDS = (("axis", "Axe"), ("title", "Intitulé"), ("description", "Description"))
PERCENT_STEP = Decimal("0.01")


def action_key(action: Action) -> tuple[str, str]:
    """Sponsor and title, case and spacing aside: what makes two actions the same action."""
    return (folded(action.sponsor), squeezed(action.title).casefold())


@functools.lru_cache(maxsize=1024)
def folded(text: str) -> str:  # sponsors: a few names, a hundred thousand times
    return squeezed(text).casefold()


def squeezed(text: str) -> str:
    """``" ".join(text.split())``: each run of spaces one space, none at the ends. Most titles
    already are, and saying so is quicker than splitting them: a printable text holds no
    space but the plain one (tabs, line breaks, non-breaking spaces are not printable)."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


@dataclass(frozen=True)
class FieldChange:
    field: str  # "Coût total", a funder code, "Axe", "Intitulé" or "Description"
    before: Decimal | str | None
    after: Decimal | str | None

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class ActionChange:
    kind: str  # ajoutée | supprimée | modifiée
    sponsor: str
    title: str
    fields: tuple[FieldChange, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sponsor": self.sponsor,
            "title": self.title,
            "fields": [f.to_dict() for f in self.fields],
        }


@dataclass(frozen=True)
class GroupChange:
    group: str  # a funder group, or "TOTAL"
    before: Decimal
    after: Decimal
    share_before: Decimal  # percent of the programme's total, to the hundredth
    share_after: Decimal

    @property
    def difference(self) -> Decimal:
        return self.after - self.before

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "before": self.before,
            "after": self.after,
            "difference": self.difference,
            "share_before": self.share_before,
            "share_after": self.share_after,
        }


@dataclass(frozen=True)
class Evolutions:
    previous: Path | None
    changes: tuple[ActionChange, ...]
    groups: tuple[GroupChange, ...]  # each group, then TOTAL

    def of_kind(self, kind: str) -> tuple[ActionChange, ...]:
        return tuple(c for c in self.changes if c.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        """Amounts stay ``Decimal`` (serialise with ``default=str``): exact, as strings."""
        return {
            "previous": str(self.previous) if self.previous else None,
            "counts": {kind: len(self.of_kind(kind)) for kind in (ADDED, REMOVED, CHANGED)},
            "changes": [c.to_dict() for c in self.changes],
            "groups": [g.to_dict() for g in self.groups],
        }


def compare(before: Programme, after: Programme, previous: Path | None = None) -> Evolutions:
    """What changed from ``before`` (last month's annex) to ``after``. Funders are those of
    ``after``'s settings, in their order."""
    old = {action_key(a): a for a in before.actions}
    new = {action_key(a): a for a in after.actions}
    codes = after.settings.funder_codes
    changes: list[ActionChange] = []
    for key, action in new.items():
        if key not in old:
            changes.append(_whole(ADDED, action, codes))
            continue
        fields = _differences(old[key], action, codes)
        if fields:
            changes.append(ActionChange(CHANGED, action.sponsor, action.title, fields))
    changes += [_whole(REMOVED, a, codes) for k, a in old.items() if k not in new]
    order = {ADDED: 0, REMOVED: 1, CHANGED: 2}
    changes.sort(key=lambda c: order[c.kind])
    return Evolutions(previous, tuple(changes), _groups(before, after))


def _whole(kind: str, action: Action, codes: tuple[str, ...]) -> ActionChange:
    amounts = [(COST, action.total)] + [(c, action.amount(c)) for c in codes if action.amount(c)]
    fields = tuple(
        FieldChange(name, None, value) if kind == ADDED else FieldChange(name, value, None)
        for name, value in amounts
    )
    return ActionChange(kind, action.sponsor, action.title, fields)


def _differences(old: Action, new: Action, codes: tuple[str, ...]) -> tuple[FieldChange, ...]:
    fields = [
        FieldChange(label, getattr(old, name), getattr(new, name))
        for name, label in TEXT_FIELDS
        if getattr(old, name) != getattr(new, name)
    ]
    if old.total != new.total:
        fields.append(FieldChange(COST, old.total, new.total))
    known = [*codes, *sorted(set(old.funding) - set(codes))]
    fields += [
        FieldChange(c, old.amount(c), new.amount(c))
        for c in known
        if old.amount(c) != new.amount(c)
    ]
    return tuple(fields)


def _share(amount: Decimal, total: Decimal) -> Decimal:
    return (amount * 100 / total).quantize(PERCENT_STEP) if total else ZERO


def _groups(before: Programme, after: Programme) -> tuple[GroupChange, ...]:
    old, new = before.group_totals(), after.group_totals()
    names = [*new, *(g for g in old if g not in new)]
    rows = [
        GroupChange(
            g,
            old.get(g, ZERO),
            new.get(g, ZERO),
            _share(old.get(g, ZERO), before.total),
            _share(new.get(g, ZERO), after.total),
        )
        for g in names
    ]
    rows.append(
        GroupChange(
            "TOTAL",
            before.total,
            after.total,
            _share(before.total, before.total),
            _share(after.total, after.total),
        )
    )
    return tuple(rows)


def write_evolutions_sheet(workbook: Workbook, changes: Evolutions) -> None:
    """Add the « Évolutions » sheet: group totals and shares, then one row per changed field.
    The workbook must have been opened with ``strings_to_formulas`` etc. off; text is written
    with ``write_string``."""
    from xlfunding.write import styles  # xlsxwriter: only for the workbooks that have the sheet
    sheet = workbook.add_worksheet(SHEET)
    f = styles.add_formats(
        workbook,
        {
            "title": styles.TITLE,
            "head": styles.HEADER,
            "text": {"text_wrap": True},
            "euro": {"num_format": styles.EURO_CENTS},
            "percent": {"num_format": styles.PERCENT_CENTS},
        },
    )
    title, head, text, euro, percent = (f[k] for k in ("title", "head", "text", "euro", "percent"))
    source = changes.previous.name if changes.previous else "l'annexe précédente"
    sheet.write_string(0, 0, f"Évolutions depuis {source}", title)
    counts = ", ".join(
        f"{len(changes.of_kind(k))} {k}{'s' if len(changes.of_kind(k)) > 1 else ''}"
        for k in (ADDED, REMOVED, CHANGED)
    )
    sheet.write_string(1, 0, f"Actions : {counts}.", text)
    row = 3
    for col, label in enumerate(
        ("Groupe de financeurs", "Avant", "Après", "Écart", "Part avant", "Part après")
    ):
        sheet.write_string(row, col, label, head)
    for group in changes.groups:
        row += 1
        sheet.write_string(row, 0, group.group, text)
        for col, value in enumerate((group.before, group.after, group.difference), start=1):
            sheet.write_number(row, col, value, euro)
        sheet.write_number(row, 4, group.share_before, percent)
        sheet.write_number(row, 5, group.share_after, percent)
    row += 2
    for col, label in enumerate(
        ("Changement", "Porteur", "Intitulé", "Champ", "Avant", "Après", "Écart")
    ):
        sheet.write_string(row, col, label, head)
    for change in changes.changes:
        for item in change.fields:
            row += 1
            for col, label in enumerate((change.kind, change.sponsor, change.title, item.field)):
                sheet.write_string(row, col, label, text)
            for col, amount in ((4, item.before), (5, item.after)):
                _cell(sheet, row, col, amount, text, euro)
            if not isinstance(item.before, str) and not isinstance(item.after, str):
                gap = _number(item.after) - _number(item.before)
                sheet.write_number(row, 6, gap, euro)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 12)
    sheet.set_column(2, 2, 50)
    sheet.set_column(3, 6, 16)


def _number(value: Decimal | str | None) -> Decimal:
    return value if isinstance(value, Decimal) else ZERO


def _cell(
    sheet: Any, row: int, col: int, value: Decimal | str | None, text: Any, euro: Any
) -> None:
    if isinstance(value, Decimal):
        sheet.write_number(row, col, value, euro)
    elif value:
        sheet.write_string(row, col, value, text)
