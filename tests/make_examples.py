"""Regenerate the bundled workbooks from the seed: the blank template and the 2025 examples.

    python tests/make_examples.py

Tests regenerate them in a temporary folder and compare, so the committed files never drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from seeddata import seed_actions  # noqa: E402

from xlfunding.settings import Settings, load_settings  # noqa: E402
from xlfunding.write.template import write_template  # noqa: E402

BLANK = Path("templates") / "modele-2025.xlsx"
FULL = Path("examples") / "programmation-2025.xlsx"
RETURNS = {
    "CCAS": Path("examples") / "retours" / "ccas-2025.xlsx",
    "VILLE": Path("examples") / "retours" / "ville-2025.xlsx",
}


def build(root: Path, settings: Settings | None = None) -> list[Path]:
    settings = settings or load_settings()
    actions = seed_actions(settings)
    for path in (BLANK, FULL, *RETURNS.values()):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
    written = [
        write_template(settings, root / BLANK, force=True),
        write_template(settings, root / FULL, actions=actions, force=True),
    ]
    for sponsor, path in RETURNS.items():
        path = root / path
        path.parent.mkdir(parents=True, exist_ok=True)
        mine = [a for a in actions if a.sponsor == sponsor]
        written.append(write_template(settings, path, sponsor=sponsor, actions=mine, force=True))
    return written


if __name__ == "__main__":
    for path in build(ROOT):
        print(path)
