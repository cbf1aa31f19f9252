"""The measuring harness of the scale benchmark: a fresh process per run (``measure``: wall
time, exit code, output, and the peak RSS of its process tree, sampled from /proc), the
command lines of those processes (``child_argv``, ``xlfunding_argv``), the timing of the step
inside a child (``timed``) and the description of the machine the numbers come from."""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from scale_inputs import Inputs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIMEOUT = 1800  # seconds, one process
RESULT = "BENCH-RESULT "
PACKAGES = (
    "xlfunding",
    "pandas",
    "numpy",
    "pandera",
    "openpyxl",
    "xlsxwriter",
    "python-calamine",
    "fastexcel",
    "pyarrow",
)

# What a child prints after RESULT, as JSON: "work" (seconds), "count" (rows), and so on.
Work = dict[str, Any]


def timed(function: Callable[[], int]) -> Work:
    """Run the measured step: its time and the rows it counted."""
    started = time.perf_counter()
    count = function()
    return {"work": time.perf_counter() - started, "count": count}


@dataclass
class Run:
    """One measured process."""

    wall: float
    rss_mb: float  # the process tree's peak (sum of its processes)
    returncode: int
    stdout: str
    stderr: str
    result: Work = field(default_factory=dict)
    root_mb: float = 0.0  # peak of the measured process alone
    child_mb: float = 0.0  # peak of its largest descendant (a reading worker), 0 if none


def _tree_rss(root: int, page: int) -> tuple[int, int, int]:
    """Resident bytes of ``root`` and all its descendants now, from /proc (Linux): the sum,
    ``root``'s own, and the largest descendant's."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(name)], rss[int(name)] = int(fields[1]), int(fields[21]) * page
    total, largest, todo = 0, 0, [root]
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        if pid != root:
            largest = max(largest, rss.get(pid, 0))
        todo += children.get(pid, [])
    return total, rss.get(root, 0), largest


class _TreeSampler(threading.Thread):
    """Samples the process tree's summed RSS: ru_maxrss only knows the largest single process,
    which undercounts a reader that forks workers. Also the peaks of the root process alone
    and of its largest descendant (a reading worker)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.root_peak, self.child_peak = root, 0, 0, 0
        self.done = threading.Event()
        self.enabled = os.path.isdir("/proc")

    def run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE") if self.enabled else 0
        while self.enabled and not self.done.wait(0.1):
            total, root, child = _tree_rss(self.root, page)
            self.peak = max(self.peak, total)
            self.root_peak, self.child_peak = max(self.root_peak, root), max(self.child_peak, child)


def measure(argv: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Run ``argv`` in a fresh process: wall time, peak RSS of its tree, exit code, output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=ROOT,
        )
        sampler = _TreeSampler(process.pid)
        sampler.start()
        timer = threading.Timer(TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)  # usage: this child and its reaped ones
        wall = time.perf_counter() - started
        timer.cancel()
        sampler.done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        maxrss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    run = Run(wall, max(maxrss, sampler.peak / 2**20), process.returncode, stdout, stderr)
    run.root_mb, run.child_mb = sampler.root_peak / 2**20, sampler.child_peak / 2**20
    for line in stdout.splitlines():
        if line.startswith(RESULT):
            run.result = json.loads(line.removeprefix(RESULT))
    return run


def child_argv(step: str, inputs: Inputs, size: int) -> list[str]:
    """A fresh Python that runs the step ``step`` through ``bench_scale.child``."""
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_scale; "
        f"bench_scale.child({step!r}, {str(inputs.root)!r}, {size})"
    )
    return [sys.executable, "-c", code]


def xlfunding_argv(*args: str) -> list[str]:
    """The installed ``xlfunding`` command, or ``python -m xlfunding`` when there is none."""
    script = Path(sys.executable).with_name("xlfunding")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "xlfunding", *args]


def machine() -> str:
    """The top of the report: cores, CPU, Python, package versions, git state, load."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            models = [ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")]
        cpu = models[0] if models else cpu
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} absent")
    commit = (
        subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            check=False,
        ).stdout.strip()
        or "?"
    )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return "\n".join(
        [
            f"- machine: {os.cpu_count()} cores ({usable} usable), {cpu}, {platform.platform()}",
            f"- Python {platform.python_version()} ({sys.executable})",
            f"- packages: {', '.join(versions)}",
            f"- xlfunding tree: {commit}; load average at start: {load}",
        ]
    )
