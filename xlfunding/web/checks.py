"""Checking uploads in a pool of worker processes, warm from the start, several at a time.

Each worker imports the reader, the schema (pandas, pandera) and openpyxl once, when the server
starts, and has the memory ceiling of the consolidation's workers (``month.parallel``). Uploads
that arrive while every worker is busy wait, and go together to the next free worker, which
reads each and checks them all in one pass of the schema, as the consolidation does (one pass
costs far more than its rows): a lone upload waits for nothing, a crowd shares the fixed cost.
A batch whose worker dies or outlasts its time breaks only that attempt: the pool is renewed and
each of its files is tried again alone, in a process of its own; the file that kills that one
too ends as an « illisible » report naming it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import multiprocessing
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlfunding.errors import XlfundingError
from xlfunding.month import parallel
from xlfunding.month.inbox import FileResult
from xlfunding.month.reading import _guarded
from xlfunding.problems import Problem, Report
from xlfunding.settings import Settings

if TYPE_CHECKING:
    from xlfunding.read.template import TemplateRead

BATCH = 32  # as the consolidation's batches
_SETTINGS: Settings | None = None
Job = tuple[Path, str, Path | None]  # the file, the link's sponsor, where its corrections go


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


def _warm(path: Path, sponsor: str) -> bool:
    """Check a blank template once: the first check pays what the first use of each library
    costs (the schema built, numpy's and pandas' first calls), not the first sponsor."""
    check_batch([(path, sponsor, None)])
    time.sleep(0.5)  # hold this worker, so that each warm-up task lands on another one
    return True


def _read(path: Path, sponsor: str, settings: Settings) -> TemplateRead | Outcome:
    """The file read as a return of ``sponsor``: a template locked to another sponsor is
    refused; an open one is checked as if locked to the link's sponsor (the usual
    ``sponsor-not-allowed`` check then holds each action to it)."""
    from xlfunding.read.template import read_template

    read = _guarded(path, read_template, path, settings)
    if isinstance(read, FileResult):
        return Outcome(Report(files=[path], unreadable=[path], problems=read.problems))
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
    return read  # type: ignore[no-any-return]


def check_batch(jobs: list[Job]) -> list[Outcome]:
    """Read each upload, check them all in one pass (each alone if that pass fails), write the
    corrections copy of each that has a problem."""
    from xlfunding.validate import check_read, check_reads
    from xlfunding.write.corrections import write_corrections

    assert _SETTINGS is not None
    settings = _SETTINGS
    found = [_read(path, sponsor, settings) for path, sponsor, _ in jobs]
    reads = [r for r in found if not isinstance(r, Outcome)]
    try:
        reports = iter(check_reads(reads, settings))
    except Exception:  # one file broke the common pass: each alone
        reports = iter([_guarded(r.path, check_read, r, settings) for r in reads])
    outcomes = []
    for (path, _, corrections), item in zip(jobs, found, strict=True):
        if isinstance(item, Outcome):
            outcomes.append(item)
            continue
        report = next(reports)
        if isinstance(report, FileResult):
            report = Report(files=[path], unreadable=[path], problems=report.problems)
        outcome = Outcome(report)
        if report.problems and not report.unreadable and corrections is not None:
            try:
                outcome.corrections = write_corrections(path, report, corrections, force=True)
            except XlfundingError as exc:
                outcome.corrections_error = exc.message
        outcomes.append(outcome)
    return outcomes


def _died(path: Path, why: str) -> Outcome:
    problem = Problem.make("unreadable-file", file=path, variant="died", why=why)
    return Outcome(Report(files=[path], unreadable=[path], problems=[problem]))


class Checker:
    """The pool. ``await checker.check(...)`` never raises for a file."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings, self.processes = settings, processes
        self._lock = threading.Lock()
        self._pending: list[tuple[Job, asyncio.Future[Outcome]]] = []
        self._running = 0
        self._blank: Path | None = None
        self._pool = self._new_pool(processes)

    def _new_pool(self, processes: int) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_start,
            initargs=(self.settings,),
        )

    def warm(self, folder: Path) -> None:
        """Start every worker now and let each check a blank template: the first upload pays
        no import and no first use."""
        from xlfunding.write.template import write_template

        blank = write_template(self.settings, folder / "chauffe.xlsx", force=True)
        futures = [
            self._pool.submit(_warm, blank, self.settings.sponsors[0])
            for _ in range(self.processes)
        ]
        for future in futures:
            future.result(timeout=180)
        self._blank = blank  # kept to warm a renewed pool

    async def check(self, path: Path, sponsor: str, corrections: Path | None) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._pending.append(((path, sponsor, corrections), future))
        self._dispatch()
        return await future

    def _dispatch(self) -> None:
        """Send what waits to the free workers, one batch each."""
        while True:
            with self._lock:
                if not self._pending or self._running >= self.processes:
                    return
                batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                self._running += 1
            threading.Thread(target=self._run, args=(batch,), daemon=True).start()

    def _run(self, batch: list[tuple[Job, asyncio.Future[Outcome]]]) -> None:
        jobs = [job for job, _ in batch]
        try:
            outcomes = self._attempt(jobs)
        except BaseException as exc:  # pragma: no cover - a bug: tell the waiting requests
            for _, future in batch:
                future.get_loop().call_soon_threadsafe(_fail, future, exc)
            raise
        finally:
            with self._lock:
                self._running -= 1
            self._dispatch()
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            future.get_loop().call_soon_threadsafe(_give, future, outcome)

    def _attempt(self, jobs: list[Job]) -> list[Outcome]:
        pool = self._pool
        try:
            return pool.submit(check_batch, jobs).result(timeout=parallel.FILE_SECONDS)
        except BrokenProcessPool:
            self._renew(pool)
        except cf.TimeoutError:
            parallel.kill_workers(pool)
            self._renew(pool)
        return [self._alone(job) for job in jobs]

    def _alone(self, job: Job) -> Outcome:
        pool = self._new_pool(1)
        try:
            return pool.submit(check_batch, [job]).result(timeout=parallel.FILE_SECONDS)[0]
        except BrokenProcessPool:
            return _died(job[0], "le lecteur s'est arrêté brutalement sur ce fichier")
        except cf.TimeoutError:
            parallel.kill_workers(pool)
            return _died(job[0], f"la lecture a dépassé {parallel.FILE_SECONDS:.0f} secondes")
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _renew(self, broken: cf.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = self._new_pool(self.processes)
                if self._blank is not None:  # warm it meanwhile: the next uploads pay no import
                    for _ in range(self.processes):
                        self._pool.submit(_warm, self._blank, self.settings.sponsors[0])
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        parallel.kill_workers(self._pool)
        self._pool.shutdown(wait=False, cancel_futures=True)


def _give(future: asyncio.Future[Any], outcome: Outcome) -> None:
    if not future.done():
        future.set_result(outcome)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
