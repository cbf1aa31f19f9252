"""What ``xlfunding validate`` answers for each hostile file, and what it costs.

Builds every case of ``tests/hostile.py`` (``CASES``, then the crafted files read with
problems at cells, ``FLAGGED``) in a temporary folder, runs the installed command on
it in a subprocess (a crash is observed, not suffered), and prints a Markdown table: input,
answer (exit code and first line), wall time, peak RSS of the command. Then the same files and
the bundled returns together in one consolidation.

Run: /work/venv/bin/python benchmarks/hostile_table.py [case names...]
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile import CASES, FLAGGED, XLFUNDING, Run, measure  # noqa: E402

TIMEOUT = 120
HEADER = (
    "| input | what the tool answers (exit code · first line) | wall time | peak RSS (MB) |\n"
    "|---|---|---|---|"
)


def row(name: str, run: Run, folder: Path) -> str:
    line = run.first_line.replace(f"{folder}{os.sep}", "").replace("|", "\\|")
    if len(line) > 150:
        line = line[:147] + "…"
    return f"| {name} | {run.code} · {line} | {run.wall:.2f} s | {run.rss_mb:.0f} |"


def main(names: list[str]) -> int:
    chosen = names or [*CASES, *FLAGGED]
    print(
        f"# Hostile files: `xlfunding validate FILE` — {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()}\n"
    )
    print(HEADER)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="xlfunding-hostile-") as top:
        inbox = Path(top) / "retours"
        inbox.mkdir()
        for name in chosen:
            folder = Path(top) / name
            folder.mkdir()
            build = CASES[name].build if name in CASES else FLAGGED[name].build
            path = build(folder)
            run = measure([str(XLFUNDING), "validate", str(path)], TIMEOUT)
            print(row(name, run, folder), flush=True)
            expected = 1 if name in FLAGGED else 0 if CASES[name].error is None else 2
            failures += run.code != expected or "Traceback" in run.stderr
            target = inbox / (path.name if path.name.startswith("~$") else f"{name}-{path.name}")
            if path.is_fifo():
                os.mkfifo(target)  # consolidate must report it, never open it and wait
            elif path.is_file():
                shutil.copy(path, target)
        for example in sorted((ROOT / "examples" / "retours").glob("*.xlsx")):
            shutil.copy(example, inbox / example.name)
        output = Path(top) / "annexe.xlsx"
        run = measure(
            [
                str(XLFUNDING),
                "consolidate",
                str(inbox),
                "-o",
                str(output),
                "--report",
                str(Path(top) / "rapport.xlsx"),
            ],
            TIMEOUT,
        )
        files = sum(1 for p in inbox.rglob("*") if p.is_file() or p.is_fifo())
        print(
            f"\nConsolidation of the {files} files above (hostile ones and the bundled "
            f"returns) in one folder:\n"
        )
        print(HEADER)
        print(row("consolidate retours/", run, Path(top)))
        failures += run.code not in (0, 1) or "Traceback" in run.stderr
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
