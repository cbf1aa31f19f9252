"""Checking an upload in a pool of worker processes, warm from the start.

Each worker imports the reader, the schema (pandas, pandera) and openpyxl once, when the server
starts, and has the memory ceiling of the consolidation's workers (``month.parallel``). A file
that kills its worker or outlasts its time breaks only that attempt: the pool is renewed, the
file is tried once more alone, in a process of its own, and if it kills that one too it ends as
an « illisible » report naming it; the other uploads in flight are simply tried again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import multiprocessing
import threading
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from xlfunding.errors import UnreadableFile, XlfundingError
from xlfunding.month import parallel
from xlfunding.problems import Problem, Report
from xlfunding.settings import Settings

_SETTINGS: Settings | None = None


@dataclass
class Outcome:
    """What a worker found: the report, and the « À corriger » copy it wrote (or why not)."""

    report: Report
    corrections: Path | None = None
    corrections_error: str | None = None


def _start(settings: Settings) -> None:
    """A worker's first act: its memory ceiling, then the heavy imports, once."""
    global _SETTINGS
    parallel.limit_memory()
    _SETTINGS = settings
    import xlfunding.read.template
    import xlfunding.validate
    import xlfunding.write.corrections  # noqa: F401


def _ready() -> bool:
    return _SETTINGS is not None


def check_upload(path: Path, sponsor: str, corrections: Path | None) -> Outcome:
    """Read and check ``path`` as a return of ``sponsor``: a template locked to another sponsor
    is refused, and in an open template every action must be the sponsor's own (the usual
    ``sponsor-not-allowed`` check, as if the template were locked to the link's sponsor)."""
    from xlfunding.read.template import read_template
    from xlfunding.validate import check_reads

    assert _SETTINGS is not None
    settings = _SETTINGS
    try:
        read = read_template(path, settings)
    except UnreadableFile as exc:
        return Outcome(unreadable(path, Problem.from_error(exc)))
    if read.sponsor is not None and read.sponsor != sponsor:
        problem = Problem.make(
            "sponsor-not-allowed",
            file=path,
            value=sponsor,
            variant="link",
            locked=read.sponsor,
            contact=settings.contact,
        )
        return Outcome(Report(files=[path], problems=[problem]))
    if read.sponsor is None:
        read.metadata = {**read.metadata, "sponsor": sponsor}
    report = check_reads([read], settings)[0]
    if not report.problems or corrections is None:
        return Outcome(report)
    from xlfunding.write.corrections import write_corrections

    try:
        write_corrections(path, report, corrections, force=True)
    except XlfundingError as exc:
        return Outcome(report, None, exc.message)
    return Outcome(report, corrections)


def unreadable(path: Path, problem: Problem) -> Report:
    return Report(files=[path], unreadable=[path], problems=[problem])


def _died(path: Path, why: str) -> Outcome:
    return Outcome(
        unreadable(path, Problem.make("unreadable-file", file=path, variant="died", why=why))
    )


class Checker:
    """The pool. ``await checker.check(...)`` never raises for a file."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings, self.processes = settings, processes
        self._lock = threading.Lock()
        self._pool = self._new_pool(processes)

    def _new_pool(self, processes: int) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_start,
            initargs=(self.settings,),
        )

    def warm(self) -> None:
        """Start every worker now, so that the first upload pays no import."""
        futures = [self._pool.submit(_ready) for _ in range(self.processes * 2)]
        for future in futures:
            future.result(timeout=120)

    async def check(self, path: Path, sponsor: str, corrections: Path | None) -> Outcome:
        pool = self._pool
        future = asyncio.wrap_future(pool.submit(check_upload, path, sponsor, corrections))
        try:
            return await asyncio.wait_for(future, parallel.FILE_SECONDS)
        except BrokenProcessPool:
            self._renew(pool)
        except TimeoutError:
            parallel.kill_workers(pool)
            self._renew(pool)
        return await asyncio.to_thread(self._alone, path, sponsor, corrections)

    def _alone(self, path: Path, sponsor: str, corrections: Path | None) -> Outcome:
        pool = self._new_pool(1)
        try:
            return pool.submit(check_upload, path, sponsor, corrections).result(
                timeout=parallel.FILE_SECONDS
            )
        except BrokenProcessPool:
            return _died(path, "le lecteur s'est arrêté brutalement sur ce fichier")
        except cf.TimeoutError:
            parallel.kill_workers(pool)
            return _died(path, f"la lecture a dépassé {parallel.FILE_SECONDS:.0f} secondes")
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _renew(self, broken: cf.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = self._new_pool(self.processes)
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        parallel.kill_workers(self._pool)
        self._pool.shutdown(wait=False, cancel_futures=True)
