"""The inbox: which files there are, which to read, and each file read into a FileResult.

Lock files, hidden files and byte-identical copies are set aside; every other file is read and
checked, and ends as a FileResult with one status — never an exception, whatever the file.
``read_returns`` is the seam where reading in parallel plugs in.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import gc
import hashlib
import os
import stat
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlfunding import parallel
from xlfunding.errors import UnreadableFile, WrongProgramme
from xlfunding.model import Action, Location
from xlfunding.problems import Problem, Report, Severity
from xlfunding.settings import Settings

if TYPE_CHECKING:
    from xlfunding.reader import TemplateRead

OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)
# Files checked in one schema pass: each pass costs about 11 ms more than its rows (1.35 ms
# a file in passes of 32, 1.17 ms in passes of 64), and a worker holds its batch until it is
# sent: the same batch whatever the number of files, so that a worker's memory stays flat.
BATCH = 32
PARALLEL_FROM = 32  # fewer files are read in this process: a pool costs more than it saves


class Status(enum.StrEnum):
    VALID = "valide"
    ERRORS = "erreurs"
    DUPLICATE_ACTIONS = "actions en double"
    SUPERSEDED = "remplacé"
    DUPLICATE_FILE = "doublon"
    OPEN_IN_EXCEL = "ignoré (ouvert dans Excel)"
    HIDDEN = "ignoré (fichier caché)"
    UNREADABLE = "illisible"
    OTHER_PROGRAMME = "autre programmation"


READ = (Status.VALID, Status.ERRORS, Status.DUPLICATE_ACTIONS, Status.SUPERSEDED)
SKIPPED = (Status.DUPLICATE_FILE, Status.OPEN_IN_EXCEL, Status.HIDDEN)
UNREAD = (Status.UNREADABLE, Status.OTHER_PROGRAMME)


class ConsolidationBug(RuntimeError):
    """Erreur interne de xlfunding : le bilan de la consolidation ne tombe pas juste. Aucune
    annexe n'a été écrite ; signalez ce message."""


@dataclass(slots=True)
class RowResult:
    """One action row read: accepted (``reason`` None) or rejected, with the French reason."""

    file: Path
    sheet: str
    row: int
    sponsor: str
    title: str
    total: Decimal | None
    action: Action | None  # None when the row itself has errors
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None and self.action is not None


@dataclass
class FileResult:
    path: Path
    status: Status
    name: str = ""  # as shown in the report: the path relative to the inbox
    sha256: str | None = None
    sponsor: str | None = None  # the sponsor the template is locked to
    template_version: str | None = None
    modified: dt.datetime | None = None  # the workbook's own save time
    mtime: float | None = None
    rows: list[RowResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    note: str = ""  # French: why skipped, which file was kept instead

    def __post_init__(self) -> None:
        self.name = self.name or self.path.name

    # A reading worker sends its FileResults back pickled: rows and actions as plain tuples
    # pickle and unpickle in two thirds of the time of the dataclasses (shared objects, the
    # path, the sheet name, the column letters, are written once either way).
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["rows"] = [_row_tuple(row) for row in self.rows]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["rows"] = [_row_of(packed) for packed in state["rows"]]
        self.__dict__.update(state)

    @property
    def sponsors(self) -> str:
        return self.sponsor or ", ".join(sorted({r.sponsor for r in self.rows if r.sponsor}))

    @property
    def accepted(self) -> int:
        return sum(r.accepted for r in self.rows)

    @property
    def rejected(self) -> int:
        return len(self.rows) - self.accepted

    def count(self, severity: Severity) -> int:
        return sum(p.severity is severity for p in self.problems)

    def recency(self) -> tuple[dt.datetime, float, str]:
        return (self.modified or OLDEST, self.mtime or 0.0, self.name)


def _row_tuple(row: RowResult) -> tuple[Any, ...]:
    action, source = row.action, row.action.source if row.action else None
    return (
        row.file,
        row.sheet,
        row.row,
        row.sponsor,
        row.title,
        row.total,
        row.reason,
        None
        if action is None
        else (
            action.axis,
            action.title,
            action.description,
            action.sponsor,
            action.total,
            action.funding,
            None if source is None else (source.file, source.sheet, source.row, source.columns),
        ),
    )


def _row_of(packed: tuple[Any, ...]) -> RowResult:
    file, sheet, number, sponsor, title, total, reason, fields = packed
    action = None
    if fields is not None:
        axis, title_, description, sponsor_, cost, funding, where = fields
        source = None if where is None else Location(*where)
        action = Action(axis, title_, description, sponsor_, cost, funding, source)
    return RowResult(file, sheet, number, sponsor, title, total, action, reason)


def find_inputs(paths_or_folder: Path | str | Iterable[Path | str]) -> list[tuple[Path, str]]:
    """Every file under the folder(s), sorted, with the name the report shows."""
    if isinstance(paths_or_folder, str | Path):
        paths_or_folder = [paths_or_folder]
    items = [Path(p) for p in paths_or_folder]
    found: list[tuple[Path, str]] = []
    for item in items:
        if not item.is_dir():
            found.append((item, item.name))
            continue
        for folder, dirs, files in os.walk(item):
            dirs.sort()
            for name in sorted(files):
                path = Path(folder) / name
                shown = path.relative_to(item).as_posix()
                found.append((path, shown if len(items) == 1 else f"{item.name}/{shown}"))
    return found


def triage(found: Sequence[tuple[Path, str]]) -> tuple[list[FileResult], list[FileResult]]:
    """Set aside lock files, hidden files and byte-identical copies (the copy with the shortest
    name is read: copies add « (1) » or « - Copie »); the rest are to be read, returned as
    placeholders carrying their name and SHA-256."""
    skipped: list[FileResult] = []
    to_read: list[FileResult] = []
    for path, name in found:
        if path.name.startswith("~$"):
            skipped.append(
                FileResult(
                    path,
                    Status.OPEN_IN_EXCEL,
                    name,
                    problems=[
                        Problem.make(
                            "open-in-excel",
                            f"Fichier de verrouillage d'Excel : un classeur (sans doute "
                            f"« {path.name[2:]} ») était ouvert pendant la consolidation. "
                            "Il a été lu tel "
                            "qu'enregistré ; relancez quand il sera fermé.",
                            file=path,
                        )
                    ],
                    note="fichier de verrouillage d'Excel, non lu",
                )
            )
        elif _hidden(path, name):
            skipped.append(
                FileResult(
                    path,
                    Status.HIDDEN,
                    name,
                    problems=[
                        Problem.make(
                            "hidden-file",
                            "Fichier caché (système ou temporaire) : il n'a pas été lu. Si "
                            "c'est un retour, renommez-le sans point au début.",
                            file=path,
                        )
                    ],
                    note="fichier caché (système ou temporaire), non lu",
                )
            )
        elif (kind := _not_a_regular_file(path)) is not None:
            to_read.append(
                FileResult(
                    path,
                    Status.UNREADABLE,
                    name,
                    problems=[Problem.from_error(UnreadableFile(path, kind))],
                )
            )
        else:
            try:
                to_read.append(FileResult(path, Status.VALID, name, _sha256(path)))
            except OSError as exc:
                to_read.append(
                    FileResult(
                        path,
                        Status.UNREADABLE,
                        name,
                        problems=[
                            Problem.from_error(UnreadableFile(path, exc.strerror or str(exc)))
                        ],
                    )
                )
    kept: dict[str, str] = {}
    for f in sorted(to_read, key=lambda f: (len(f.name), f.name)):
        if f.sha256 is not None:
            kept.setdefault(f.sha256, f.name)
    for f in to_read:
        if f.sha256 is not None and kept[f.sha256] != f.name:
            original = kept[f.sha256]
            f.status, f.note = Status.DUPLICATE_FILE, f"copie de « {original} »"
            f.problems = [
                Problem.make(
                    "duplicate-file",
                    f"Même contenu que « {original} » : lu une seule fois.",
                    file=f.path,
                    value=original,
                )
            ]
    skipped += [f for f in to_read if f.status is Status.DUPLICATE_FILE]
    return skipped, [f for f in to_read if f.status is not Status.DUPLICATE_FILE]


def _hidden(path: Path, name: str) -> bool:
    if any(part.startswith(".") for part in Path(name).parts):
        return True
    try:
        attributes = getattr(path.stat(follow_symlinks=False), "st_file_attributes", 0)
    except OSError:
        return False
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` cannot even be hashed (a pipe would block forever), or None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return exc.strerror or str(exc)
    if not stat.S_ISREG(mode):
        return "ce n'est pas un fichier ordinaire (tube, périphérique ou socket)"
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_returns(
    paths: Iterable[Path], settings: Settings, *, processes: int | None = None
) -> Iterator[FileResult]:
    """Read each file on its own, check them ``BATCH`` at a time in one schema pass (each alone
    if that pass fails). Never raises for a file. With many files and several cores, the batches run
    in worker processes (``xlfunding.parallel``), results in completion order."""
    paths = [Path(p) for p in paths]
    processes = parallel.workers() if processes is None else processes
    if processes > 1 and len(paths) >= PARALLEL_FROM:
        yield from parallel.map_chunks(
            paths,
            functools.partial(_read_batch, settings=settings),
            _died,
            chunk=BATCH,
            processes=processes,
        )
        return
    for start in range(0, len(paths), BATCH):
        yield from _read_batch(paths[start : start + BATCH], settings)


def _read_batch(paths: list[Path], settings: Settings) -> list[FileResult]:
    from xlfunding.reader import TemplateRead, read_template
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
    return _unreadable(
        path,
        f"Illisible : {why}. Ouvrez-le dans Excel, enregistrez-le de nouveau au format "
        ".xlsx et renvoyez-le.",
    )


def _unreadable(path: Path, message: str, value: object = None) -> FileResult:
    """``path`` could not be read: one « unreadable-file » problem, saying why and what to do."""
    problem = Problem.make("unreadable-file", message, file=path, value=value)
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
            f"La lecture a échoué ({type(exc).__name__} : {str(exc)[:200]}) "
            ": enregistrez-le de nouveau au format .xlsx dans Excel et renvoyez-le.",
            type(exc).__name__,
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
        modified=saved_at(path),
        mtime=_mtime(path),
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


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def saved_at(path: Path) -> dt.datetime | None:
    """The workbook's own last save (docProps/core.xml dcterms:modified), or None."""
    from defusedxml.ElementTree import fromstring

    try:
        with zipfile.ZipFile(path) as book, book.open("docProps/core.xml") as handle:
            root = fromstring(handle.read(1 << 16))
        for element in root:
            if element.tag == "{http://purl.org/dc/terms/}modified" and element.text:
                when = dt.datetime.fromisoformat(element.text.strip())
                return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    except Exception:  # no usable date: the next rule decides
        return None
    return None


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
            bar.update(task, advance=1, description=f"Lecture des retours : {result.name[:40]}")
            yield result
