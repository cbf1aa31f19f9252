"""Many sponsors' returns -> one programme, and a report of everything left out and why.

Rules (the README and the report say the same):

* **Every file is accounted for.** Each file found (recursively) gets one status: ``valide``;
  ``erreurs``; ``actions en double``; ``remplacé``; ``doublon`` (same bytes as another file,
  read once); ``ignoré (ouvert dans Excel)`` (an Excel lock file ``~$…``); ``ignoré (fichier
  caché)``; ``illisible``; ``autre programmation`` (a template of another year, commune or
  settings). A file that crashes or exhausts the reader is ``illisible``; the batch goes on.
* **A file with any error contributes nothing.** All its rows are rejected, so a half-corrected
  return never enters the annex; the sponsor corrects it and sends it again.
* **Newest return wins.** Two templates locked to the same sponsor: the one saved last counts,
  by the workbook's own save time (docProps/core.xml ``dcterms:modified``, which Excel sets;
  a workbook without one counts as older), then the file's modification time, then the name
  (the one that sorts last). It counts even if it has errors: an outdated return never stands
  in for a newer one. The older ones are ``remplacé`` and their rows rejected. An unreadable
  file replaces nothing.
* **The same action twice** (same sponsor and title, case aside, in two files) is kept once,
  from the newest file by the same rule; each other copy is rejected (``duplicate-action``).
* **The ledger balances, checked in code**: files found = read + skipped + unreadable, actions
  read = accepted + rejected; a violation is a bug (``ConsolidationBug``), never silent.
* The run is **complete** when no error was found and some action accepted (exit code 0).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from xlfunding.errors import ConsolidationBug
from xlfunding.model import Programme
from xlfunding.month.cache import ResultCache, read_through
from xlfunding.month.evolutions import Evolutions, action_key, compare
from xlfunding.month.inbox import (
    OLDEST,
    READ,
    SKIPPED,
    UNREAD,
    FileResult,
    RowResult,
    Status,
    find_inputs,
    triage,
)
from xlfunding.month.parallel import without_cycle_collector
from xlfunding.month.reading import read_returns, with_progress
from xlfunding.problems import CODES, Problem, Severity
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
    cache: Path | str | None = None,
) -> Consolidation:
    """Read every return under the folder(s), apply the rules above. ``previous``: an earlier
    annex written by this tool (its path, or its Programme) to compare with. ``cache``: the
    folder of the cache (``xlfunding.month.cache``): a file whose bytes, settings and version
    are there is taken from it instead of being read; the result is the same."""
    settings = settings or load_settings()
    before, origin = previous, None
    if isinstance(previous, str | Path):
        from xlfunding.read.annex import read_annex

        before, origin = read_annex(previous, settings), Path(previous)
    folder = Path(cache) if cache is not None else None
    found = find_inputs(paths_or_folder, cache=folder)
    skipped, to_read = triage(found)
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
        finally:
            if store is not None:
                store.close()
        order: dict[Path, int] = {}
        for index, (path, _) in enumerate(found):
            order.setdefault(path, index)
        files = sorted([*skipped, *results], key=lambda f: order[f.path])
        _supersede(files)
        _deduplicate(files)
        programme = Programme(
            settings,
            tuple(r.action for f in files for r in f.rows if r.accepted and r.action is not None),
        )
        ledger = _ledger(files, len(found), programme)
    changes = compare(before, programme, origin) if isinstance(before, Programme) else None
    return Consolidation(settings, files, programme, ledger, strict, changes, notices)


def _supersede(files: list[FileResult]) -> None:
    by_sponsor: dict[str, list[FileResult]] = defaultdict(list)
    for f in files:
        if f.status in (Status.VALID, Status.ERRORS) and f.sponsor:
            by_sponsor[f.sponsor].append(f)
    for sponsor, group in by_sponsor.items():
        group.sort(key=FileResult.recency, reverse=True)
        kept = group[0]
        for old in group[1:]:
            old.status, old.note = Status.SUPERSEDED, f"remplacé par « {kept.name} »"
            old.problems = [
                Problem.make(
                    "superseded-file",
                    file=old.path,
                    value=kept.name,
                    kept=kept.name,
                    why=_newer(kept, old),
                    sponsor=sponsor,
                )
            ]
            for row in old.rows:
                row.reason = f"retour remplacé par « {kept.name} »"
        if len(group) > 1:
            kept.note = "retenu ; remplace " + ", ".join(f"« {o.name} »" for o in group[1:])


def _newer(kept: FileResult, old: FileResult) -> str:
    """Why ``kept`` counts as the newer return, in French."""
    why = CODES["superseded-file"]
    if (kept.modified or OLDEST) != (old.modified or OLDEST):
        return why.text("saved", when=kept.modified)
    if kept.mtime != old.mtime:
        return why.text("modified", when=dt.datetime.fromtimestamp(kept.mtime or 0, dt.UTC))
    return why.text("same-dates")


def _deduplicate(files: list[FileResult]) -> None:
    seen: dict[tuple[str, str], tuple[FileResult, RowResult]] = {}
    valid = sorted(
        (f for f in files if f.status is Status.VALID), key=FileResult.recency, reverse=True
    )
    for f in valid:
        for row in f.rows:
            if row.action is None or not row.accepted:
                continue
            kept, first = seen.setdefault(action_key(row.action), (f, row))
            if first is row:
                continue
            row.reason = f"action en double : déjà retenue depuis « {kept.name} » ligne {first.row}"
            f.status = Status.DUPLICATE_ACTIONS
            f.problems.append(
                Problem.make(
                    "duplicate-action",
                    variant="" if first.action == row.action else "different",
                    kept=kept.name,
                    row=first.row,
                    file=row.file,
                    sheet=row.sheet,
                    cell=row.action.source.cell("title") if row.action.source else None,
                    value=row.title,
                )
            )


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
