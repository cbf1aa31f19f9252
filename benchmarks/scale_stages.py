"""The stages of the scale benchmark, in the order of the table: each one's printed name, what
its size counts, the step it runs in a fresh process (``STEPS``, read by ``bench_scale.child``)
or the ``xlfunding`` command line it runs; and running one stage ``repeat`` times into a
``Row``, checked to have read every row."""

from __future__ import annotations

import importlib.util
import re
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scale_annex import step_annex, step_naive
from scale_inputs import ACTIONS_PER_RETURN, Inputs
from scale_measure import ROOT, Run, Work, child_argv, measure, xlfunding_argv
from scale_read import step_files, step_floor, step_pandera, step_read_validate, step_sheet

EXAMPLE = ROOT / "examples" / "programmation-2025.xlsx"
# the import name of each package a stage "needs"
MODULES = {"python-calamine": "python_calamine", "fastexcel": "fastexcel", "openpyxl": "openpyxl"}

STEPS: dict[str, Callable[[Inputs, int], Work]] = {
    "sheet-openpyxl": lambda i, n: step_sheet("openpyxl", i, n),
    "sheet-openpyxl-ro": lambda i, n: step_sheet("openpyxl-ro", i, n),
    "sheet-calamine": lambda i, n: step_sheet("calamine", i, n),
    "sheet-fastexcel": lambda i, n: step_sheet("fastexcel", i, n),
    "files-pandas": lambda i, n: step_files("pandas", i, n),
    "files-openpyxl-ro": lambda i, n: step_files("openpyxl-ro", i, n),
    "files-calamine": lambda i, n: step_files("calamine", i, n),
    "files-fastexcel": lambda i, n: step_files("fastexcel", i, n),
    "read-validate": step_read_validate,
    "pandera": step_pandera,
    "annex-bare": lambda i, n: step_annex("bare", i, n),
    "annex-xlfunding": lambda i, n: step_annex("xlfunding", i, n),
    "naive": step_naive,
    "floor-calamine": lambda i, n: step_floor("calamine", i, n),
    "floor-fastexcel": lambda i, n: step_floor("fastexcel", i, n),
    "floor-fastexcel-checked": lambda i, n: step_floor("fastexcel-checked", i, n),
}


@dataclass(frozen=True)
class Stage:
    """What one family of rows measures."""

    name: str  # as printed
    kind: str  # "files" (size: returns), "sheet" (rows), "annex" (actions), "cli"
    step: str = ""  # a STEPS key, or "" for a command line
    needs: str = ""  # an optional package: "absent" when it is not installed


STAGES = (
    Stage("read sheet: openpyxl", "sheet", "sheet-openpyxl"),
    Stage("read sheet: openpyxl read-only", "sheet", "sheet-openpyxl-ro"),
    Stage("read sheet: python-calamine", "sheet", "sheet-calamine", "python-calamine"),
    Stage("read sheet: fastexcel", "sheet", "sheet-fastexcel", "fastexcel"),
    Stage("read files: pandas.read_excel (openpyxl)", "files", "files-pandas"),
    Stage("read files: openpyxl read-only", "files", "files-openpyxl-ro"),
    Stage("read files: python-calamine", "files", "files-calamine", "python-calamine"),
    Stage("read files: fastexcel", "files", "files-fastexcel", "fastexcel"),
    Stage("read+validate: xlfunding consolidate()", "files", "read-validate"),
    Stage(
        "floor: python-calamine on every core, values sent back, pandas+pandera imported",
        "files",
        "floor-calamine",
        "python-calamine",
    ),
    Stage(
        "floor: fastexcel on every core, Arrow sent back, pandas+pandera imported, one frame",
        "files",
        "floor-fastexcel",
        "fastexcel",
    ),
    Stage(
        "floor: the same after xlfunding's hostile-file checks",
        "files",
        "floor-fastexcel-checked",
        "fastexcel",
    ),
    Stage("pandera: build_schema().validate (frame_of)", "files", "pandera"),
    Stage("write annex: bare XlsxWriter", "annex", "annex-bare"),
    Stage("write annex: xlfunding write_annex", "annex", "annex-xlfunding"),
    Stage("naïve pipeline: pandas.read_excel + bare XlsxWriter", "files", "naive"),
    Stage("consolidate: xlfunding CLI (annex + report)", "files"),
    Stage("cli: xlfunding --help", "cli"),
    Stage("cli: xlfunding validate examples/programmation-2025.xlsx", "cli"),
)
DERIVED = ("consolidate: linear time", "consolidate: flat memory per file")  # from judge()


@dataclass
class Row:
    """A stage's runs at one size; its target and verdict once judged."""

    stage: Stage
    size: int
    runs: list[Run] = field(default_factory=list)
    absent: bool = False
    error: str = ""
    target: str = "—"
    verdict: str = "—"

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def rss(self) -> float:
        return max(r.rss_mb for r in self.runs)

    @property
    def work(self) -> float | None:
        works = [r.result["work"] for r in self.runs if "work" in r.result]
        return statistics.median(works) if works else None


def size_label(stage: Stage, size: int) -> str:
    """The size column: "1 000 returns", "100 000 rows", "—" for the command lines."""
    number = f"{size:,}".replace(",", " ")
    unit = {"files": "returns", "sheet": "rows", "annex": "actions"}.get(stage.kind)
    return f"{number} {unit}" if unit else "—"


def cli_args(stage: Stage, inputs: Inputs, size: int, out: Path) -> list[str]:
    """The arguments of the ``xlfunding`` command a command-line stage runs."""
    if stage.name.startswith("consolidate"):
        inbox, annex, report = inputs.inbox(size), out / "annexe.xlsx", out / "rapport.xlsx"
        return [
            "consolidate", str(inbox), "-o", str(annex), "--report", str(report), "--force",
            "--no-cache",  # what every run reads, as before the cache (#15: bench_cache.py)
        ]
    if "--help" in stage.name:
        return ["--help"]
    return ["validate", str(EXAMPLE)]


def stage_argv(stage: Stage, inputs: Inputs, size: int, out: Path) -> list[str]:
    """The process that measures ``stage`` at ``size``, writing what it writes in ``out``."""
    if stage.step:
        return child_argv(stage.step, inputs, size)
    return xlfunding_argv(*cli_args(stage, inputs, size, out))


def _expected(stage: Stage, size: int) -> int | None:
    if stage.kind == "sheet":
        return size
    if stage.kind in ("files", "annex"):
        return size * (ACTIONS_PER_RETURN if stage.kind == "files" else 1)
    return None


def _check(stage: Stage, size: int, run: Run) -> str:
    """Why this run does not count ("" when it does): a crash, or not every row read."""
    if run.returncode != 0:
        tail = (run.stderr.strip() or run.stdout.strip()).splitlines()[-1:] or [""]
        return f"exit {run.returncode}: {tail[0][:120]}"
    expected = _expected(stage, size)
    if stage.step:
        count = run.result.get("count")
        if run.result.get("failures"):
            return f"{run.result['failures']} pandera failure(s) on valid data"
    elif stage.name.startswith("consolidate"):
        found = re.search(r"(\d+) retenues", run.stdout)
        count = int(found.group(1)) if found else None
    else:
        return ""
    if count != expected:
        return f"{count} rows for {expected} expected"
    return ""


def run_stage(stage: Stage, inputs: Inputs, size: int, repeat: int) -> Row:
    """``repeat`` runs of ``stage`` at ``size``, stopped by the first that does not count."""
    row = Row(stage, size)
    if stage.needs and importlib.util.find_spec(MODULES.get(stage.needs, stage.needs)) is None:
        row.absent, row.verdict = True, "absent"
        return row
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-out-") as out:
            run = measure(stage_argv(stage, inputs, size, Path(out)))
        row.runs.append(run)
        row.error = _check(stage, size, run)
        if row.error:
            row.verdict = "ERROR: " + row.error
            break
    return row
