"""Time writing and reading back annexes of growing size.

Run: /work/venv/bin/python benchmarks/bench_annex.py [sizes...]   (default: 500 5000)
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from xlfunding.model import Action, Programme
from xlfunding.read.annex import read_annex
from xlfunding.settings import Settings, settings_from_dict
from xlfunding.write.annex import write_annex


def settings() -> Settings:
    groups = [f"Groupe {g}" for g in range(1, 7)]
    return settings_from_dict(
        {
            "programme": {"year": 2026, "commune": "Banc", "qpv": "Essai", "title": "Banc 2026"},
            "axes": [f"Axe {a}" for a in range(1, 5)],
            "sponsors": ["CCAS", "VILLE", "ASSO"],
            "groups": groups,
            "funders": [{"code": f"F{f:02}", "group": groups[f % 6]} for f in range(1, 31)],
        }
    )


def programme(size: int) -> Programme:
    s, rng = settings(), random.Random(size)
    actions = []
    for index in range(size):
        funding = {
            c: Decimal(rng.randint(1, 5_000_000)) / 100 for c in rng.sample(s.funder_codes, 4)
        }
        actions.append(
            Action(
                rng.choice(s.axes),
                f"Action {index}",
                "Description " * 40,
                rng.choice(s.sponsors),
                sum(funding.values(), Decimal(0)),
                funding,
            )
        )
    return Programme(s, tuple(actions))


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            data = programme(size)
            path = Path(folder) / f"annexe-{size}.xlsx"
            start = time.perf_counter()
            write_annex(data, path)
            written = time.perf_counter()
            assert read_annex(path).total == data.total
            read = time.perf_counter()
            print(
                f"{size:>6} actions: écriture {written - start:.2f} s, relecture "
                f"{read - written:.2f} s, {path.stat().st_size // 1024} Kio"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [500, 5000])
