"""The scale benchmark runs on a tiny size: every stage measured, none crashed (timing is not
checked here; see benchmarks/README.md for the real run)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).parent.parent
BENCH = ROOT / "benchmarks" / "bench_scale.py"
sys.path.insert(0, str(BENCH.parent))

import bench_scale  # noqa: E402
import scale_inputs  # noqa: E402
import scale_stages  # noqa: E402


def test_quick_benchmark_measures_every_stage(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert out.startswith("# xlfunding scale benchmark")
    assert "cores" in out and "Python " in out and "pandera " in out
    header = "| stage | size | median wall s | peak RSS MB | target | PASS/FAIL | work s |"
    assert header in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and line != header]
    names = [line.split(" | ")[0].removeprefix("| ") for line in rows]
    assert names == [s.name for s in bench_scale.STAGES] + list(bench_scale.DERIVED)
    for line in rows:
        assert "ERROR" not in line, line
        verdict = line.split(" | ")[5]
        assert verdict in ("—", "absent", "PASS") or verdict.startswith("FAIL"), line
    for name in ("python-calamine", "fastexcel"):
        installed = importlib.util.find_spec(scale_stages.MODULES[name]) is not None
        mine = [line for line in rows if f": {name} |" in line]
        assert len(mine) == 2 and all(("| absent |" in line) != installed for line in mine)


def test_generated_returns_add_up_and_are_unique() -> None:
    codes = ("Ville", "CCAS", "ANCT")
    records = scale_inputs.return_records(7, ("Axe 1", "Axe 2"), ("CCAS", "VILLE"), codes)
    again = scale_inputs.return_records(7, ("Axe 1", "Axe 2"), ("CCAS", "VILLE"), codes)
    assert records == again and len(records) == scale_inputs.ACTIONS_PER_RETURN
    assert len({r.title for r in records}) == len(records)
    for r in records:
        assert sum(a for a in r.amounts if a is not None) == r.total
        assert all(a is None or a > 0 for a in r.amounts)
        assert 300 <= len(r.description) <= 1500
        assert r.total == r.total.quantize(Decimal("0.01"))


def quick(script: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """``benchmarks/<script> --quick``, which must succeed."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_the_drop_zone_benchmark_runs_and_loses_nothing() -> None:
    done = quick("bench_serve.py", timeout=300)
    assert "| ccas-2025.xlsx |" in done.stdout and "| ville-2025.xlsx |" in done.stdout
    assert "uploads 4, errors 0, lost 0" in done.stdout


def test_the_cache_benchmark_runs_and_takes_month_one_from_the_cache(tmp_path: Path) -> None:
    done = quick("bench_cache.py", "--data", str(tmp_path))
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 8
    cells = [line.strip("| ").split(" | ") for line in rows]
    verdicts, steps = [c[6] for c in cells], [c[9] for c in cells]
    assert all(v in ("—", "PASS", "FAIL") for v in verdicts + steps)
    assert verdicts.count("—") == 3
    # The step inside the process is timed for the three read+validate rows only.
    assert [c[7] != "—" for c in cells] == [True] * 3 + [False] * 5
    assert steps[1] != "—" and steps[2] != "—" and steps.count("—") == 6


def test_the_codec_benchmark_runs_and_checks_its_round_trips(tmp_path: Path) -> None:
    done = quick("bench_codec.py", "--data", str(tmp_path))
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")][1:]
    assert [row.split(" | ")[0] for row in rows] == [
        "| encode (entry)", "| packing before (2b606a2)", "| pickle.dumps (objects)",
        "| decode (entry)", "| unpacking before (2b606a2)", "| pickle.loads (objects)",
    ]

