"""What ``xlfunding validate`` answers for each hostile file, and what it costs.

Builds every case of ``tests/hostile.py`` (``CASES``, then the crafted files read with
problems at cells, ``FLAGGED``) in a temporary folder, runs the installed command on
it in a subprocess (a crash is observed, not suffered), and prints a Markdown table: input,
answer (exit code and first line), wall time, peak RSS of the command. Then the same files and
the bundled returns together in one consolidation. Then what other commands are given back: an
annex (damaged, or with a cell at XFD1048576) to ``import`` and ``consolidate --previous``, and
a settings file that cannot be one (``/dev/zero``, a named pipe, 3 GB).

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

from hostile import ANNEX_CASES, CASES, FLAGGED, XLFUNDING, Run, measure  # noqa: E402

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
        failures += given_back(Path(top))
    return 1 if failures else 0


def given_back(top: Path) -> int:
    """Annexes and settings files handed to other commands: one row each, failures counted."""
    print("\nAnnexes given back (`import FILE`, `consolidate --previous FILE`) and settings files "
          "(`template --settings FILE`):\n")
    print(HEADER)
    returns = ROOT / "examples" / "retours"
    jobs: list[tuple[str, list[str], int, Path]] = []
    for name, (build, words) in ANNEX_CASES.items():
        folder = top / name
        folder.mkdir()
        path = build(folder)
        expected = 0 if words is None else 2
        jobs.append((f"import {name}", ["import", str(path), "-o", str(folder / "p.xlsx")],
                     expected, folder))
        jobs.append((f"consolidate --previous {name}",
                     ["consolidate", str(returns), "-o", str(folder / "a.xlsx"), "--previous",
                      str(path)], expected, folder))
    folder = top / "settings"
    folder.mkdir()
    huge = folder / "huge.toml"
    with huge.open("wb") as handle:
        handle.truncate(3 * 2**30)  # sparse
    settings = {"settings /dev/zero": Path("/dev/zero"), "settings 3 GB": huge}
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "fifo.toml")
        settings["settings fifo"] = folder / "fifo.toml"
    for name, path in settings.items():
        jobs.append((name, ["template", "-o", str(folder / "m.xlsx"), "--settings", str(path)],
                     2, folder))
    failures = 0
    for name, args, expected, folder in jobs:
        run = measure([str(XLFUNDING), *args], TIMEOUT)
        print(row(name, run, folder), flush=True)
        failures += run.code != expected or "Traceback" in run.stderr
    return failures


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
