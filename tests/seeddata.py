"""The real 2025 annex (copied from ../shared/seed) as a Programme, for tests."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from xlfunding.model import Action, Programme
from xlfunding.settings import Settings, load_settings

SEED = Path(__file__).parent / "seed"
FIGURES = json.loads((SEED / "programmation-pdv-2025-figures.json").read_text(encoding="utf-8"))
ANNEX_TEXT = (SEED / "programmation-pdv-2025-annexe2.txt").read_text(encoding="utf-8")


def descriptions() -> dict[str, tuple[str, str]]:
    """title -> (description, budget text) from the annex text's tab-separated action rows."""
    found = {}
    for line in ANNEX_TEXT.splitlines():
        cells = line.split("\t")
        if len(cells) == 4 and cells[3].startswith("Coût total"):
            found[cells[0]] = (cells[1], cells[3])
    return found


def seed_actions(settings: Settings | None = None) -> tuple[Action, ...]:
    settings = settings or load_settings()
    texts = descriptions()
    actions = []
    for item in FIGURES["actions"]:
        actions.append(
            Action(
                axis=settings.axes[item["axis"] - 1],
                title=item["title"],
                description=texts[item["title"]][0],
                sponsor=item["sponsor"],
                total=Decimal(item["total"]),
                funding={code: Decimal(v) for code, v in item["funders"].items()},
            )
        )
    return tuple(actions)


def seed_programme(settings: Settings | None = None) -> Programme:
    settings = settings or load_settings()
    return Programme(settings, seed_actions(settings))
