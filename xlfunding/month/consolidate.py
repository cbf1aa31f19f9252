"""Many sponsors' returns -> one programme, and a report of everything left out and why.

Rules (the README and the report say the same):

* **Every file is accounted for.** Each file found (recursively) gets one status: ``valide``;
  ``erreurs``; ``actions en double``; ``remplacé``; ``doublon`` (same bytes as another file,
  read once); ``ignoré (ouvert dans Excel)`` (an Excel lock file ``~$…``); ``ignoré (fichier
  caché)``; ``illisible``; ``autre programmation`` (a template of another year, commune or
  settings). A file that crashes or exhausts the reader is ``illisible``; the batch goes on.
* **A file with any error contributes nothing.** All its rows are rejected, so a half-corrected
  return never enters the annex; the sponsor corrects it and sends it again.
* **Newest return wins; the same action is taken once** (``newest``): of a sponsor's returns
  (locked to it, or generic with only its actions), the newest counts, even with errors, and
  what the older ones still held is reported; an action in two files is kept from the newest.
* **The ledger balances, checked in code**: files found = read + skipped + unreadable, actions
  read = accepted + rejected; a violation is a bug (``ConsolidationBug``), never silent.
* The run is **complete** when no error was found and some action accepted (exit code 0).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from xlfunding.errors import ConsolidationBug
from xlfunding.model import Programme
from xlfunding.month.cache import ResultCache, read_through
from xlfunding.month.evolutions import Evolutions, compare
from xlfunding.month.inbox import (
    READ,
    SKIPPED,
    UNREAD,
    FileResult,
    RowResult,
    Status,
    find_inputs,
    triage,
)
from xlfunding.month.newest import deduplicate, supersede
from xlfunding.month.parallel import without_cycle_collector
from xlfunding.month.reading import read_returns, with_progress
from xlfunding.problems import Problem, Report, Severity
from xlfunding.settings import Settings, load_settings

__all__ = [
    "Consolidation",
    "ConsolidationBug",
    "FileResult",
    "Ledger",
    "RowResult",
    "Status",
    "consolidate",
]


@dataclass(frozen=True)
class Ledger:
    """The « Bilan »: files found = read + skipped + unreadable; actions read = accepted +
    rejected."""

    files_found: int
    files_read: int
    files_skipped: int
    files_unreadable: int
    actions_read: int
    actions_accepted: int
    actions_rejected: int


@dataclass
class Consolidation:
    settings: Settings
    files: list[FileResult]
    programme: Programme
    ledger: Ledger
    strict: bool = False
    evolutions: Evolutions | None = None
    notices: list[Problem] = field(default_factory=list)  # about the run (the cache), no file

    @property
    def problems(self) -> list[Problem]:
        return [*(p for f in self.files for p in f.problems), *self.notices]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def rejected_rows(self) -> list[RowResult]:
        return [r for f in self.files for r in f.rows if not r.accepted]

    @property
    def complete(self) -> bool:
        """Nothing left out by an error, and something to put in the annex."""
        return not self.errors and bool(self.programme.actions)

    @property
    def writes_annex(self) -> bool:
        return self.complete or not self.strict


def consolidate(
    paths_or_folder: Path | str | Iterable[Path | str],
    settings: Settings | None = None,
    *,
    strict: bool = False,
    previous: Path | str | Programme | None = None,
    progress: bool = False,
    named: bool = False,
    cache: Path | str | None = None,
) -> Consolidation:
    """Read every return under the folder(s), apply the rules above. ``previous``: an earlier
    annex written by this tool (its path, or its Programme) to compare with. ``named``: the
    paths are files the user named (``validate``, ``annex``): each is read as given (a hidden
    name, a lock file or a folder is the reader's to judge), shown by its path. ``cache``: the
    folder of the cache (``xlfunding.month.cache``): a file whose bytes, settings and version
    are there is taken from it instead of being read; the result is the same."""
    settings = settings or load_settings()
    before, origin = previous, None
    if isinstance(previous, str | Path):
        from xlfunding.read.annex import read_annex

        before, origin = read_annex(previous, settings), Path(previous)
    folder = Path(cache) if cache is not None else None
    found = find_inputs(paths_or_folder, named=named, cache=folder)
    skipped, to_read = triage(found, named=named)
    waiting = {p.path: p for p in to_read if p.status is Status.VALID}
    results = [p for p in to_read if p.status is not Status.VALID]
    store, notices = ResultCache.open(folder, settings) if folder else (None, [])
    # A hundred thousand actions arrive, a million small objects: every pass of the cycle
    # collector would walk them all (see parallel.py).
    with without_cycle_collector():
        try:
            reading = (
                read_through(store, waiting, settings)
                if store is not None
                else read_returns(list(waiting), settings)
            )
            for result in with_progress(reading, len(waiting), progress):
                placeholder = waiting[result.path]
                result.name, result.sha256 = placeholder.name, placeholder.sha256
                results.append(result)
        except BaseException:
            if store is not None:
                store.close()
            raise
        # The cache's last writes run while the rules are applied (see ResultCache.closing).
        with store.closing() if store is not None else contextlib.nullcontext():
            order: dict[Path, int] = {}
            for index, (path, _) in enumerate(found):
                order.setdefault(path, index)
            files = sorted([*skipped, *results], key=lambda f: order[f.path])
            supersede(files)
            deduplicate(files)
            programme = Programme(
                settings,
                tuple(r.action for f in files for r in f.rows if r.accepted and r.action),
            )
            ledger = _ledger(files, len(found), programme)
    changes = compare(before, programme, origin) if isinstance(before, Programme) else None
    return Consolidation(settings, files, programme, ledger, strict, changes, notices)


def _ledger(files: list[FileResult], found: int, programme: Programme) -> Ledger:
    def count(statuses: tuple[Status, ...]) -> int:
        return sum(f.status in statuses for f in files)

    rows = [r for f in files for r in f.rows]
    ledger = Ledger(
        found,
        count(READ),
        count(SKIPPED),
        count(UNREAD),
        len(rows),
        len(programme.actions),
        sum(not r.accepted for r in rows),
    )
    balanced = (
        len(files) == found
        and found == ledger.files_read + ledger.files_skipped + ledger.files_unreadable
        and ledger.actions_read == ledger.actions_accepted + ledger.actions_rejected
        and all(r.reason for r in rows if not r.accepted)
        and all(f.status in READ for f in files if f.rows)
    )
    if not balanced:
        raise ConsolidationBug(f"{ConsolidationBug.__doc__} {ledger}")
    return ledger


def check_files(paths: Iterable[Path | str], settings: Settings | None = None) -> Report:
    """The files named to ``validate`` or ``annex``, under the rules of ``consolidate``: a
    byte-identical copy (or the same path twice) read once, the newest return of each sponsor
    counted. One Report; its actions are those an annex would take."""
    result = consolidate(list(paths), settings, named=True)
    report = Report(files=[f.path for f in result.files], actions=list(result.programme.actions))
    for f in result.files:
        report.problems.extend(f.problems)
        if f.status in UNREAD:
            report.unreadable.append(f.path)
        report.rejected.extend((row.file, row.row) for row in f.rows if not row.accepted)
    return report
