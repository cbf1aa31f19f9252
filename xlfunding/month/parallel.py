"""Reading many returns on every core, without letting one file take the batch down.

Files are read and checked in chunks by a pool of worker processes. A worker that dies (a
reader that aborts the process, a memory bomb) or a chunk that hangs past its time limit
breaks only that attempt: the unfinished chunks are read again one file at a time, each file in
a process of its own with its own time limit, and the file that really kills its reader ends as
an « illisible » result naming the file. Each worker has a memory ceiling, so a file that would
exhaust the machine fails with MemoryError inside its worker instead.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import ctypes.util
import functools
import gc
import os
import resource
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

Result = TypeVar("Result")

WORKER_MEMORY = 3 * 1024**3  # address space of one worker: a bomb hits MemoryError there
CHUNK_SECONDS = 120.0  # a chunk that takes longer is read again file by file
FILE_SECONDS = 60.0  # one file alone


def workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def without_cycle_collector() -> Iterator[None]:
    """Pause Python's cycle collector while a batch builds its many small objects (each full
    collection walks all of them, again and again); reference counting still frees what is
    not kept, and the collector resumes afterwards for the rare cycles.

    What the block built and kept (a hundred thousand actions, their rows and places) then
    goes straight to the collector's oldest generation: the young collections that follow
    would walk all of it, twice, only to move it there. ``gc.freeze()`` then
    ``gc.unfreeze()`` makes that move and nothing else (a cycle among those objects waits
    for the next full collection: it is not lost); skipped when the process keeps objects
    frozen itself. On 1 000 returns (five runs of each, side by side), reading a first month
    took 4.32 s with this move and 4.88 s without it, a second month 0.94 s and 1.14 s."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


@functools.cache
def _libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:  # pragma: no cover - no C library by that name
        return None


def release_memory() -> None:
    """Give the memory freed by the previous batch back to the system (glibc keeps it, and a
    worker reading batch after batch would grow by fragmentation); nothing elsewhere."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


def limit_memory() -> None:
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        ceiling = WORKER_MEMORY if hard == resource.RLIM_INFINITY else min(WORKER_MEMORY, hard)
        if soft == resource.RLIM_INFINITY or soft > ceiling:
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    except (ValueError, OSError):  # pragma: no cover - a platform without the limit
        pass


def map_chunks(
    paths: Sequence[Path],
    work: Callable[[list[Path]], list[Result]],
    failed: Callable[[Path, str], Result],
    *,
    chunk: int,
    processes: int,
) -> Iterator[Result]:
    """``work`` over ``paths`` in chunks on ``processes`` workers, yielding results as chunks
    finish (order not kept). ``failed(path, why)`` makes the result of a file whose reader died
    or hung. ``work`` must be a module-level function (it is pickled). The chunks are sent to
    the workers at once, before the first result is asked for: the caller may do other work
    meanwhile (iterate to the end, or close the iterator, to release the workers)."""
    chunks = [list(paths[i : i + chunk]) for i in range(0, len(paths), chunk)]
    pool = cf.ProcessPoolExecutor(max_workers=processes, initializer=limit_memory)
    try:
        futures = {pool.submit(work, c): c for c in chunks}
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return _collect(pool, futures, work, failed)


def _collect(
    pool: cf.ProcessPoolExecutor,
    futures: dict[cf.Future[list[Result]], list[Path]],
    work: Callable[[list[Path]], list[Result]],
    failed: Callable[[Path, str], Result],
) -> Iterator[Result]:
    suspects: list[Path] = []
    try:
        try:
            for future in cf.as_completed(futures, timeout=CHUNK_SECONDS * len(futures)):
                try:
                    yield from future.result()
                except BrokenProcessPool:
                    suspects += futures[future]
        except cf.TimeoutError:
            for future, items in futures.items():
                if not future.done():
                    suspects += items
            kill_workers(pool)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    for path in suspects:
        yield _alone(path, work, failed)


def _alone(
    path: Path, work: Callable[[list[Path]], list[Result]], failed: Callable[[Path, str], Result]
) -> Result:
    """One file in a process of its own, with its own time limit."""
    pool = cf.ProcessPoolExecutor(max_workers=1, initializer=limit_memory)
    try:
        return pool.submit(work, [path]).result(timeout=FILE_SECONDS)[0]
    except BrokenProcessPool:
        return failed(path, "le lecteur s'est arrêté brutalement sur ce fichier")
    except cf.TimeoutError:
        kill_workers(pool)
        return failed(path, f"la lecture a dépassé {FILE_SECONDS:.0f} secondes")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def kill_workers(pool: cf.ProcessPoolExecutor) -> None:
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()
