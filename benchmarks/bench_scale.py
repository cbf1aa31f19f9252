"""Scale and speed (issue #7): a department-wide consolidation of 1 000 returns, 100 000 actions.

Run:  python benchmarks/bench_scale.py [--sizes 10,100,1000] [--repeat 5] [--quick]
      python benchmarks/bench_scale.py --profile "read+validate"   # cProfile of one stage

Generates seeded inputs once (cached under ``--data``, default ``benchmarks/.data/``), then
measures every stage in a fresh process, ``--repeat`` times, and prints a Markdown table:
median wall time of the whole process, peak RSS of its process tree, the time of the measured
step inside the process ("work": after the imports and the setup), and each target of the issue
with PASS/FAIL. Targets are judged at the largest size. The exit code is 1 only when a stage
crashed or read a wrong number of rows, never because a target failed. See benchmarks/README.md.

This file is the runner (the command line, the judging of the targets, the table, and
``child``, the entry point of the measuring processes); the inputs, the harness and the stages
are in the ``scale_*`` modules beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scale_inputs import ACTIONS_PER_RETURN, GENERATOR, Inputs, prepare
from scale_measure import HERE, RESULT, machine, measure
from scale_stages import (
    DERIVED,
    STAGES,
    STEPS,
    Row,
    Stage,
    cli_args,
    run_stage,
    size_label,
    stage_argv,
)


def child(step: str, root: str, size: int) -> None:
    """Entry point of a measuring process: run one step, print its result as one JSON line."""
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(STEPS[step], Inputs(Path(root)), size)
        profiler.dump_stats(profile)
    else:
        result = STEPS[step](Inputs(Path(root)), size)
    print(RESULT + json.dumps(result), flush=True)


def _find(rows: Sequence[Row], prefix: str, size: int) -> Row | None:
    for row in rows:
        if row.stage.name.startswith(prefix) and row.size == size and row.runs and not row.error:
            return row
    return None


def _judge(row: Row, checks: Sequence[tuple[str, bool]]) -> None:
    row.target = "; ".join(text for text, _ in checks)
    failed = [text.split(" (")[0] for text, ok in checks if not ok]
    row.verdict = "PASS" if not failed else "FAIL: " + "; ".join(failed)


def _ratio(row: Row, base: Row | None, limit: float, what: str, judged: bool) -> None:
    """``row`` within ``limit`` times ``base`` (wall, or work when ``what`` says so)."""
    if base is None:
        row.target = f"≤ {limit}× {what} (not measured in this run)"
        return
    ours, theirs = ((row.work or 0), (base.work or 0)) if "work" in what else (row.wall, base.wall)
    ratio = ours / theirs if theirs else float("inf")
    if judged:
        _judge(row, [(f"≤ {limit}× {what} ({ratio:.2f}×)", ratio <= limit)])
    else:
        row.target = f"({ratio:.2f}× {what.split(',')[0]})"


def judge(rows: list[Row], sizes: Sequence[int]) -> list[Row]:
    """Set each row's target and verdict; return the derived rows (linearity, memory)."""
    largest = max(sizes)
    for row in rows:
        if not row.runs or row.error:
            continue
        name, size = row.stage.name, row.size
        if name.startswith("consolidate"):
            naive = _find(rows, "naïve", size)
            speedup = f"naïve ÷ ours = {naive.wall / row.wall:.1f}×" if naive else "no naïve run"
            checks = [
                (f"< 20 s wall ({row.wall:.1f})", row.wall < 20),
                (f"< 1024 MB ({row.rss:.0f})", row.rss < 1024),
            ]
            if naive:
                checks.append((f"> 2× faster than naïve ({speedup})", naive.wall > 2 * row.wall))
            if size == largest:
                _judge(row, checks)
            else:
                row.target = f"({speedup})"
        elif name.startswith(("read+validate", "floor")):  # a floor row is not a target
            _ratio(
                row,
                _find(rows, "read files: python-calamine", size),
                1.5,
                "python-calamine's read, wall",
                name.startswith("read+validate") and size == largest,
            )
        elif name == "write annex: xlfunding write_annex":
            _ratio(
                row,
                _find(rows, "write annex: bare", size),
                1.2,
                "bare XlsxWriter, work",
                size == largest * ACTIONS_PER_RETURN,
            )
        elif name == "cli: xlfunding --help":
            _judge(row, [("< 0.3 s wall", row.wall < 0.3)])
        elif name.startswith("cli: xlfunding validate"):
            _judge(row, [("< 1.0 s wall", row.wall < 1.0)])
    consolidations = sorted(
        (r for r in rows if r.stage.name.startswith("consolidate") and r.runs and not r.error),
        key=lambda r: r.size,
    )
    linear = Row(Stage(DERIVED[0], "derived"), largest, target="n/a (needs 3 sizes)")
    flat = Row(Stage(DERIVED[1], "derived"), largest, target="n/a (needs 2 sizes)")
    if len(consolidations) >= 3:
        (n1, t1), (n2, t2), (n3, t3) = [(r.size, r.wall) for r in consolidations[-3:]]
        low, high = (t2 - t1) / (n2 - n1), (t3 - t2) / (n3 - n2)
        _judge(
            linear,
            [
                (
                    f"s per extra return {n2}→{n3} ≤ 1.5× {n1}→{n2} "
                    f"({high * 1000:.1f} vs {low * 1000:.1f} ms)",
                    high <= 1.5 * max(low, 0),
                )
            ],
        )
    if len(consolidations) >= 2:
        # The annex needs every accepted action in memory, so the total grows with the
        # actions; what must not grow is the memory per file: a reading worker holds one
        # batch at a time, and the main process holds the actions, not the files.
        middle, big = consolidations[-2], consolidations[-1]

        def worker(row: Row) -> float:
            return max(run.child_mb for run in row.runs)

        def main(row: Row) -> float:
            return max(run.root_mb for run in row.runs)

        per_action = (main(big) - main(middle)) / ((big.size - middle.size) * ACTIONS_PER_RETURN)
        checks = [
            (
                f"largest worker at {big.size} ≤ 1.5× at {middle.size} "
                f"({worker(big):.0f} vs {worker(middle):.0f} MB)",
                worker(middle) > 0 and worker(big) <= 1.5 * worker(middle),
            )
        ]
        _judge(flat, checks)
        flat.target += (
            f"; main process {main(middle):.0f} → {main(big):.0f} MB, "
            f"{per_action * 1024:.1f} KB per extra action kept; whole tree "
            f"{consolidations[0].rss:.0f} → {big.rss:.0f} MB"
        )
    return [linear, flat]


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| stage | size | median wall s | peak RSS MB | target | PASS/FAIL | work s |",
        "|---|---|---:|---:|---|---|---:|",
    ]
    for row in rows:
        size = size_label(row.stage, row.size) if row.stage.kind != "derived" else "—"
        if row.runs:
            wall, rss = f"{row.wall:.2f}", f"{row.rss:.0f}"
            work = f"{row.work:.2f}" if row.work is not None else "—"
        else:
            wall = rss = work = "—"
        lines.append(
            f"| {row.stage.name} | {size} | {wall} | {rss} | {row.target} | "
            f"{row.verdict} | {work} |"
        )
    return "\n".join(lines)


def profile(name: str, inputs: Inputs, size: int, top: int = 25) -> None:
    """Run one stage once under cProfile and print its top functions."""
    import pstats

    stage = next((s for s in STAGES if name.lower() in s.name.lower()), None)
    if stage is None:
        raise SystemExit(f"no stage matches {name!r}")
    with tempfile.TemporaryDirectory(prefix="bench-prof-") as folder:
        stats = Path(folder) / "profile.out"
        argv = stage_argv(stage, inputs, size, Path(folder))
        env = dict(os.environ)
        if stage.step:
            env["BENCH_PROFILE"] = str(stats)
        else:
            args = cli_args(stage, inputs, size, Path(folder))
            argv = [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "xlfunding", *args]
        run = measure(argv, env)
        print(
            f"## cProfile: {stage.name}, {size_label(stage, size)}: wall {run.wall:.2f} s, "
            f"exit {run.returncode}\n"
        )
        for key in ("tottime", "cumulative"):
            pstats.Stats(str(stats), stream=sys.stdout).sort_stats(key).print_stats(top)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10,100,1000",
        help="numbers of returns of 100 actions (default 10,100,1000)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per stage (median)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 returns, a 300-row sheet, one run: checks that it all works",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=HERE / ".data",
        help="cache of the generated inputs (default benchmarks/.data)",
    )
    parser.add_argument("--only", default="", help="only the stages whose name contains this")
    parser.add_argument(
        "--profile",
        metavar="STAGE",
        help="run the stage whose name contains STAGE once under cProfile, at "
        "the largest size, and print its top functions",
    )
    args = parser.parse_args(argv)
    sizes = [3] if args.quick else sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    repeat = 1 if args.quick else max(1, args.repeat)
    sheet_rows = max(sizes) * ACTIONS_PER_RETURN
    inputs = Inputs(args.data.resolve() / f"v{GENERATOR}")
    print("# xlfunding scale benchmark\n")
    print(machine())
    print(
        f"- sizes: {', '.join(map(str, sizes))} returns of {ACTIONS_PER_RETURN} actions; "
        f"one sheet of {sheet_rows} rows; median of {repeat} run(s); inputs in {inputs.root}\n",
        flush=True,
    )
    prepare(inputs, sizes, sheet_rows)
    if args.profile:
        stage = next((s for s in STAGES if args.profile.lower() in s.name.lower()), None)
        kind = stage.kind if stage else "files"
        size = {"sheet": sheet_rows, "annex": sheet_rows}.get(kind, max(sizes))
        profile(args.profile, inputs, size)
        return 0
    rows: list[Row] = []
    for stage in STAGES:
        if args.only and args.only.lower() not in stage.name.lower():
            continue
        stage_sizes = {
            "sheet": [sheet_rows],
            "cli": [0],
            "annex": [n * ACTIONS_PER_RETURN for n in sizes],
        }.get(stage.kind, sizes)
        for size in stage_sizes:
            row = run_stage(stage, inputs, size, repeat)
            rows.append(row)
            wall = f"{row.wall:.2f} s" if row.runs else row.verdict
            print(
                f"  {stage.name} [{size_label(stage, size)}]: {wall}", file=sys.stderr, flush=True
            )
    derived = judge(rows, sizes)
    print(table([*rows, *derived]))
    print(
        "\nwall: whole process, interpreter start and imports included; work: the measured "
        "step inside the process (pandera: the validate call alone; write annex: the write "
        "alone, the actions already in memory); peak RSS: the process tree's. Targets are "
        "judged at the largest size. The machine may be shared: the numbers are noisy."
    )
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
