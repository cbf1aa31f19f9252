"""The seeded inputs of the scale benchmark, generated once and cached: each return's 100
actions (``Record``, ``return_records``), the folder that holds them (``Inputs``: the pool of
returns, one inbox of hard links per size, the records pickled for the annex writers, the
one-sheet template) and ``prepare``, which writes what is missing. Also the helpers the stages
share to turn them back into xlfunding's objects."""

from __future__ import annotations

import os
import pickle
import random
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from scale_text import GOALS, HEADS, description

GENERATOR = "1"  # bump when the generated inputs change: the cache is keyed by it
ACTIONS_PER_RETURN = 100


class Record(NamedTuple):
    """One generated action as builtins and Decimal: what the bare writers need (pickled as a
    plain tuple, so any process can load it)."""

    axis: str
    title: str
    description: str
    sponsor: str
    total: Decimal
    amounts: tuple[Decimal | None, ...]  # per funder, in the settings' order
    file: str
    row: int


def _split(units: int, parts: int, rng: random.Random) -> list[int]:
    cuts = sorted(rng.sample(range(1, units), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, units], strict=True)]


def return_records(
    index: int, axes: Sequence[str], sponsors: Sequence[str], codes: Sequence[str]
) -> list[Record]:
    """The 100 actions of return number ``index``: seeded by it, titles unique everywhere (no
    duplicate-action across returns), funders adding up exactly, in euros or in cents."""
    rng = random.Random(f"xlfunding-bench-{index}")
    records = []
    for offset in range(ACTIONS_PER_RETURN):
        cents = rng.random() < 0.3
        scale = 1 if cents else 100
        units = rng.randint(1_000, 120_000) * (100 // scale) + (rng.randint(0, 99) if cents else 0)
        how_many = min(len(codes), rng.choices((1, 2, 3, 4), (2, 4, 3, 1))[0])
        chosen = rng.sample(range(len(codes)), how_many)
        shares = _split(units, len(chosen), rng)
        amounts: list[Decimal | None] = [None] * len(codes)
        for position, share in zip(chosen, shares, strict=True):
            amounts[position] = Decimal(share * scale).scaleb(-2) if cents else Decimal(share)
        total = Decimal(units * scale).scaleb(-2) if cents else Decimal(units)
        head = rng.choice(HEADS)
        records.append(
            Record(
                rng.choice(axes),
                f"{head} — {rng.choice(GOALS)} (action {index:04d}-{offset + 1:03d})",
                description(rng),
                rng.choice(sponsors),
                total,
                tuple(amounts),
                f"retour-{index:05d}.xlsx",
                5 + offset,
            )
        )
    return records


# -- inputs, cached ------------------------------------------------------------------------
@dataclass(frozen=True)
class Inputs:
    """The cache of one generator version, and where each input lives in it."""

    root: Path

    def inbox(self, n: int) -> Path:
        return self.root / f"inbox-{n:05d}"

    def records(self, n: int) -> Path:
        return self.root / f"records-{n:05d}.pkl"

    def sheet(self, rows: int) -> Path:
        return self.root / f"sheet-{rows:06d}.xlsx"

    @property
    def pool(self) -> Path:
        return self.root / "pool"

    def files(self, n: int) -> list[Path]:
        """The returns of the inbox of size ``n``, sorted."""
        return sorted(self.inbox(n).iterdir())


def bundled_settings():  # type: ignore[no-untyped-def]
    """The settings bundled with xlfunding: their axes, sponsors and funders."""
    from xlfunding.settings import load_settings

    return load_settings()


def actions_of(records: Iterable[Record], codes: Sequence[str], folder: Path | None = None) -> list:  # type: ignore[type-arg]
    """``records`` as xlfunding actions, each located in ``folder`` when it is given."""
    from xlfunding.model import Action, Location

    actions = []
    for r in records:
        funding = {c: a for c, a in zip(codes, r.amounts, strict=True) if a is not None}
        source = Location(folder / r.file, "Actions", r.row) if folder is not None else None
        actions.append(Action(r.axis, r.title, r.description, r.sponsor, r.total, funding, source))
    return actions


def _meta(settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "title": settings.title,
        "label": settings.annex_label,
        "axes": list(settings.axes),
        "codes": list(settings.funder_codes),
        "groups": {g: list(settings.group_members(g)) for g in settings.groups},
        "footer": [
            line
            for d in settings.deliberations
            for line in (
                "Accusé de réception en préfecture",
                d.acte,
                f"Date de télétransmission : {d.teletransmission:%d/%m/%Y}",
                f"Date de réception préfecture : {d.reception:%d/%m/%Y}",
                "",
            )
        ],
    }


def prepare(inputs: Inputs, sizes: Sequence[int], sheet_rows: int) -> None:
    """Write what is missing: the returns (a pool, linked into one inbox per size), their
    records, and the one-sheet file."""
    from xlfunding.write.template import write_template

    settings = bundled_settings()
    args = (settings.axes, settings.sponsors, settings.funder_codes)
    inputs.pool.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        done = inputs.root / f"inbox-{n:05d}.done"
        if done.exists():
            continue
        started = time.perf_counter()
        inbox = inputs.inbox(n)
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir()
        records: list[Record] = []
        for index in range(1, n + 1):
            mine = return_records(index, *args)
            pooled = inputs.pool / mine[0].file
            if not pooled.exists():
                write_template(
                    settings,
                    pooled,
                    actions=actions_of(mine, settings.funder_codes),
                    capacity=len(mine),
                )
            try:
                os.link(pooled, inbox / pooled.name)
            except OSError:
                shutil.copyfile(pooled, inbox / pooled.name)
            records += mine
        with inputs.records(n).open("wb") as handle:
            pickle.dump(
                {"meta": _meta(settings), "records": [tuple(r) for r in records]},
                handle,
                protocol=5,
            )
        done.write_text(GENERATOR)
        print(f"  generated {n} returns in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    done = inputs.root / f"sheet-{sheet_rows:06d}.done"
    if not done.exists():
        started = time.perf_counter()
        records = []
        for index in range(1, -(-sheet_rows // ACTIONS_PER_RETURN) + 1):
            records += return_records(index, *args)
        write_template(
            settings,
            inputs.sheet(sheet_rows),
            capacity=sheet_rows,
            force=True,
            actions=actions_of(records[:sheet_rows], settings.funder_codes),
        )
        done.write_text(GENERATOR)
        print(
            f"  generated the {sheet_rows}-row sheet in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )


def load_records(inputs: Inputs, n: int) -> tuple[dict[str, Any], list[Record]]:
    """What the annex writers read for ``n`` returns: the settings' metadata and the records."""
    with inputs.records(n).open("rb") as handle:
        data = pickle.load(handle)
    return data["meta"], [Record._make(r) for r in data["records"]]
