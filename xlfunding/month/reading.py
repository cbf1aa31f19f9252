"""Reading the returns: each file read and checked into a FileResult, in batches, on every core.

Files are read one by one and checked ``BATCH`` at a time in one schema pass (each alone if
that pass fails); with many files and several cores the batches run in worker processes
(``parallel``). Whatever a file does to its reader, it ends as a FileResult: never an
exception.
"""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlfunding.errors import ConsolidationBug, UnreadableFile, WrongProgramme
from xlfunding.month import cachecodec, parallel
from xlfunding.month.inbox import FileResult, RowResult, Status, mtime_of
from xlfunding.problems import Problem, Report
from xlfunding.settings import Settings
from xlfunding.text import shown

if TYPE_CHECKING:
    from xlfunding.read.template import TemplateRead

# Files checked in one schema pass: each pass costs about 11 ms more than its rows (1.35 ms
# a file in passes of 32, 1.17 ms in passes of 64), and a worker holds its batch until it is
# sent: the same batch whatever the number of files, so that a worker's memory stays flat.
BATCH = 32
PARALLEL_FROM = 32  # fewer files are read in this process: a pool costs more than it saves


def read_returns(
    paths: Iterable[Path], settings: Settings, *, processes: int | None = None
) -> Iterator[FileResult]:
    """Read each file on its own, check them ``BATCH`` at a time in one schema pass (each alone
    if that pass fails). Never raises for a file. With many files and several cores, the
    batches run in worker processes (``xlfunding.month.parallel``), results in completion
    order."""
    return (result for result, _ in read_encoded(paths, settings, processes=processes))


def read_encoded(
    paths: Iterable[Path],
    settings: Settings,
    *,
    processes: int | None = None,
    overlap: bool = False,
) -> Iterator[tuple[FileResult, bytes | None]]:
    """As ``read_returns``, each result with its entry (``cachecodec``) when a worker made it,
    else None. A worker sends the entry instead of its result (quicker to make, to send and to
    read back than the pickled objects), and this process decodes it. The workers start at
    once: this process can do other work meanwhile (``overlap``: there is enough of it to use
    workers for fewer than ``PARALLEL_FROM`` files); iterate to the end (or close) to release
    them."""
    paths = [Path(p) for p in paths]
    processes = parallel.workers() if processes is None else processes
    if processes > 1 and paths and (overlap or len(paths) >= PARALLEL_FROM):
        sent = parallel.map_chunks(
            paths,
            functools.partial(_encoded_batch, settings=settings),
            _died,
            chunk=BATCH,
            processes=min(processes, -(-len(paths) // BATCH)),
        )
        return (_received(s) for s in sent)
    batches = (_read_batch(paths[i : i + BATCH], settings) for i in range(0, len(paths), BATCH))
    return ((result, None) for batch in batches for result in batch)


# What a worker sends back: a result as its entry (path, mtime, entry), or the FileResult
# itself when the entry cannot carry it.
Sent = FileResult | tuple[Path, float | None, bytes]


def _encoded_batch(paths: list[Path], settings: Settings) -> list[Sent]:
    sent: list[Sent] = []
    for result in _read_batch(paths, settings):
        try:
            sent.append((result.path, result.mtime, cachecodec.encode(result)))
        except cachecodec.NotCodable:
            sent.append(result)
    return sent


def _received(sent: Sent) -> tuple[FileResult, bytes | None]:
    if isinstance(sent, FileResult):
        return sent, None
    path, mtime, entry = sent
    return cachecodec.decode(entry, path, mtime), entry


def _read_batch(paths: list[Path], settings: Settings) -> list[FileResult]:
    from xlfunding.read.template import TemplateRead, read_template
    from xlfunding.validate import check_read, check_reads

    parallel.release_memory()  # what the previous batch left
    try:
        with parallel.without_cycle_collector():
            outcomes = [_guarded(path, read_template, path, settings) for path in paths]
            reads = [o for o in outcomes if isinstance(o, TemplateRead)]
            try:
                reports = iter(check_reads(reads, settings))
            except Exception:  # one file broke the common pass: check each alone
                reports = iter([_guarded(r.path, check_read, r, settings) for r in reads])
            return [o if isinstance(o, FileResult) else _result(o, next(reports)) for o in outcomes]
    finally:
        # The batch's cycles (pandas makes some), even when the caller keeps the collector
        # paused: only the young generations, so what earlier batches left is not walked again.
        gc.collect(1)


def _died(path: Path, why: str) -> FileResult:
    return _unreadable(path, variant="died", why=why)


def _unreadable(path: Path, value: object = None, **fields: Any) -> FileResult:
    """``path`` could not be read: one « unreadable-file » problem, saying why and what to do."""
    problem = Problem.make("unreadable-file", file=path, value=value, **fields)
    return FileResult(path, Status.UNREADABLE, problems=[problem])


def _guarded(path: Path, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``, or the FileResult saying why ``path`` could not be read."""
    try:
        return function(*args)
    except WrongProgramme as exc:
        return FileResult(path, Status.OTHER_PROGRAMME, problems=[Problem.from_error(exc)])
    except UnreadableFile as exc:
        return FileResult(path, Status.UNREADABLE, problems=[Problem.from_error(exc)])
    except Exception as exc:  # also MemoryError, RecursionError: one bad file, not the batch
        return _unreadable(
            path,
            type(exc).__name__,
            variant="crashed",
            error=type(exc).__name__,
            detail=str(exc)[:200],
        )


def _result(read: TemplateRead, report: Report | FileResult) -> FileResult:
    """One file's rows, each accepted or rejected with its reason, under the file policy."""
    if isinstance(report, FileResult):
        return report
    path = read.path
    actions = {a.source.row: a for a in report.actions if a.source is not None}
    bad = {row for _, row in report.rejected}
    if len(actions) + len(bad) != len(read.rows) or bad & set(actions):
        raise ConsolidationBug(
            f"{ConsolidationBug.__doc__} {path} : {len(read.rows)} lignes "
            f"lues, {len(actions)} acceptées, {len(bad)} rejetées"
        )
    result = FileResult(
        path,
        Status.VALID,
        problems=list(report.problems),
        sponsor=read.sponsor,
        template_version=read.metadata.get("template_version"),
        modified=read.saved_at,
        mtime=mtime_of(path),
    )
    errors = report.errors
    values = read.values
    for position, number in enumerate(read.rows):
        total = values["total"][position]
        row = RowResult(
            path,
            read.sheet,
            number,
            str(values["sponsor"][position] or read.sponsor or ""),
            str(values["title"][position] or ""),
            total,
            actions.get(number),
        )
        if number in bad:
            mine = [f"{p.title} ({p.cell})" for p in errors if p.row == number]
            row.reason = "erreur dans la ligne : " + "; ".join(mine)
        elif errors:
            row.reason = (
                f"le fichier a {len(errors)} erreur{'s' if len(errors) > 1 else ''} : "
                "aucune de ses lignes n'est reprise avant correction"
            )
        result.rows.append(row)
    if errors:
        result.status = Status.ERRORS
    return result


def with_progress(results: Iterator[FileResult], total: int, enabled: bool) -> Iterator[FileResult]:
    """A progress bar on stderr when it is a terminal; otherwise silent."""
    if not enabled or total == 0 or not sys.stderr.isatty():
        yield from results
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Lecture des retours", total=total)
        for result in results:
            name = shown(result.name)[:40]
            bar.update(task, advance=1, description=f"Lecture des retours : {name}")
            yield result
