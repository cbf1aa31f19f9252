"""The consolidation's cache and the single-file check (issue #15), measured side by side.

Run:  python benchmarks/bench_cache.py [--size 1000] [--changed 20] [--repeat 5] [--quick]

Two months of returns: month 1 is the scale benchmark's inbox (``bench_scale``'s seeded
returns, generated once under ``--data``); month 2 is the same files but ``--changed`` of them
rewritten with other actions. Each row is a fresh process, run ``--repeat`` times (median),
in rounds (each round runs every row once), so that a change of load weighs on all rows:

* read+validate (``consolidate()``, no output written) and the whole CLI (annex + report):
  the read+validate rows are timed twice: the whole process (wall, as every row), and the
  step inside it (``consolidate()`` alone, as ``bench_scale`` times its stages), which leaves
  out what a cache cannot save: the interpreter's start, the imports and the exit;
  without a cache (today), first month with an empty cache, second month with the cache the
  first month left (copied afresh before each run, so every run finds the same cache);
* ``xlfunding validate examples/programmation-2025.xlsx`` and its floor: a process that
  imports pandera and validates a 10-row frame once.

Targets (#15), judged on the medians: second month read+validate ≤ 0.25× the first month's;
second month CLI ≤ 0.8× the first month's; first month (empty cache) ≤ 1.05× without cache,
for read+validate and for the CLI; validate ≤ 1.3× the floor. Prints a Markdown table; exit
code 1 only when a run failed, never because a target did.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scale_inputs import GENERATOR, Inputs, actions_of, bundled_settings, prepare, return_records
from scale_measure import HERE, ROOT, Run, machine, measure, xlfunding_argv

EXAMPLE = ROOT / "examples" / "programmation-2025.xlsx"
FLOOR = """
import pandas as pd
import pandera.pandas as pa
schema = pa.DataFrameSchema({"a": pa.Column(int, pa.Check.ge(0)), "b": pa.Column(str)})
schema.validate(pd.DataFrame({"a": range(10), "b": ["x"] * 10}), lazy=True)
"""
READ = """
import json, sys, time
from pathlib import Path
from xlfunding.month.consolidate import consolidate
cache = Path(sys.argv[2]) if sys.argv[2] != "-" else None
started = time.perf_counter()
result = consolidate(Path(sys.argv[1]), cache=cache)
step = time.perf_counter() - started
print("BENCH " + json.dumps({"accepted": result.ledger.actions_accepted,
      "cached": sum(f.cached for f in result.files), "step": step}))
"""


def month_two(inputs: Inputs, size: int, changed: int) -> Path:
    """Month 1's inbox with ``changed`` returns rewritten (other actions, same names): hard
    links to the unchanged ones, generated once."""
    from xlfunding.write.template import write_template

    folder = inputs.root / f"month2-{size:05d}-{changed:03d}"
    done = folder.with_suffix(".done")  # beside it: a file in it would be a return
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    settings = bundled_settings()
    args = (settings.axes, settings.sponsors, settings.funder_codes)
    for index, path in enumerate(inputs.files(size), start=1):
        if index <= changed:
            records = return_records(100_000 + index, *args)
            write_template(
                settings,
                folder / path.name,
                actions=actions_of(records, settings.funder_codes),
                capacity=len(records),
            )
        else:
            os.link(path, folder / path.name)
    done.write_text(GENERATOR)
    return folder


def run(argv: Sequence[str], before=None) -> Run:  # type: ignore[no-untyped-def]
    if before is not None:
        before()
    done = measure(argv)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="returns a month (default 1000)")
    parser.add_argument("--changed", type=int, default=20, help="returns changed in month 2")
    parser.add_argument("--repeat", type=int, default=5, help="runs per row (median)")
    parser.add_argument("--quick", action="store_true", help="40 returns, 2 changed, 1 run")
    parser.add_argument("--data", type=Path, default=HERE / ".data", help="generated inputs")
    args = parser.parse_args(argv)
    size, changed, repeat = (40, 2, 1) if args.quick else (args.size, args.changed, args.repeat)
    inputs = Inputs(args.data.resolve() / f"v{GENERATOR}")
    print("# xlfunding cache benchmark (#15)\n")
    print(machine())
    prepare(inputs, [size], 100)
    one, two = inputs.inbox(size), month_two(inputs, size, changed)
    print(f"- {size} returns, {changed} changed in month 2; median of {repeat} run(s)\n")
    work = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    warm, cache = work / "warm", work / "cache"
    fill = measure([sys.executable, "-c", READ, str(one), str(warm)])
    assert fill.returncode == 0, fill.stderr

    def empty() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def month_one_cache() -> None:
        empty()
        shutil.copytree(warm, cache)

    def cli(inbox: Path, *flags: str) -> list[str]:
        out = ["-o", str(work / "annexe.xlsx"), "--report", str(work / "rapport.xlsx")]
        return xlfunding_argv("consolidate", str(inbox), *out, "--force", *flags)

    read = [sys.executable, "-c", READ]
    rows: dict[str, list[Run]] = {}
    plan = [
        ("read+validate, no cache (today)", [*read, str(one), "-"], None),
        ("read+validate, month 1, empty cache", [*read, str(one), str(cache)], empty),
        ("read+validate, month 2, month 1's cache", [*read, str(two), str(cache)],
         month_one_cache),
        ("consolidate CLI, --no-cache (today)", cli(one, "--no-cache"), None),
        ("consolidate CLI, month 1, empty cache", cli(one, "--cache", str(cache)), empty),
        ("consolidate CLI, month 2, month 1's cache", cli(two, "--cache", str(cache)),
         month_one_cache),
        ("floor: import pandera, validate a 10-row frame", [sys.executable, "-c", FLOOR], None),
        ("xlfunding validate examples/programmation-2025.xlsx",
         xlfunding_argv("validate", str(EXAMPLE)), None),
    ]
    # Round after round, every row once a round: a machine whose load changes during the run
    # weighs on every row alike, and the ratios compare runs made side by side.
    for round_ in range(1, repeat + 1):
        for name, command, before in plan:
            rows.setdefault(name, []).append(run(command, before))
            print(f"  round {round_}: {name}: {rows[name][-1].wall:.2f} s", file=sys.stderr,
                  flush=True)
    for name in ("read+validate, month 2, month 1's cache", "read+validate, month 1, empty cache"):
        seen = json.loads(rows[name][0].stdout.split("BENCH ", 1)[1])
        expected = size - changed if "month 2" in name else 0
        if seen["cached"] != expected:
            raise SystemExit(f"{name}: {seen['cached']} files from the cache, not {expected}")
    shutil.rmtree(work, ignore_errors=True)
    print(table(rows))
    return 0


def step(run: Run) -> float | None:
    """The time of ``consolidate()`` inside a read+validate process, else None."""
    if "BENCH " not in run.stdout:
        return None
    return float(json.loads(run.stdout.split("BENCH ", 1)[1])["step"])


def table(rows: dict[str, list[Run]]) -> str:
    wall = {name: statistics.median(r.wall for r in runs) for name, runs in rows.items()}
    steps = {
        name: statistics.median(s for r in runs if (s := step(r)) is not None)
        for name, runs in rows.items()
        if all(step(r) is not None for r in runs)
    }
    names = list(rows)
    targets = {
        names[2]: (names[1], 0.25),
        names[1]: (names[0], 1.05),
        names[5]: (names[4], 0.8),
        names[4]: (names[3], 1.05),
        names[7]: (names[6], 1.3),
    }
    lines = [
        "| stage | median wall s | runs (s) | peak RSS MB | target | ratio | PASS/FAIL "
        "| median step s | step ratio | step PASS/FAIL |",
        "|---|---:|---|---:|---|---:|---|---:|---:|---|",
    ]
    for name, measured in rows.items():
        each = " ".join(f"{r.wall:.2f}" for r in measured)
        rss = max(r.rss_mb for r in measured)
        target = ratio = verdict = step_ratio = step_verdict = "—"
        if name in targets:
            base, limit = targets[name]
            value = wall[name] / wall[base]
            target, ratio = f"≤ {limit}× « {base} »", f"{value:.2f}×"
            verdict = "PASS" if value <= limit else "FAIL"
            if name in steps and base in steps:
                inner = steps[name] / steps[base]
                step_ratio = f"{inner:.2f}×"
                step_verdict = "PASS" if inner <= limit else "FAIL"
        inside = f"{steps[name]:.2f}" if name in steps else "—"
        lines.append(
            f"| {name} | {wall[name]:.2f} | {each} | {rss:.0f} | {target} | {ratio} | {verdict} "
            f"| {inside} | {step_ratio} | {step_verdict} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
