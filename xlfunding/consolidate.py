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
import enum
import hashlib
import os
import stat
import sys
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from xlfunding.errors import OutputError, UnreadableFile, WrongProgramme, XlfundingError
from xlfunding.evolutions import Evolutions, action_key, compare
from xlfunding.model import Action, Programme
from xlfunding.problems import Problem, Report, Severity
from xlfunding.settings import Settings, load_settings

if TYPE_CHECKING:
    from xlfunding.reader import TemplateRead

OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)
BATCH = 16  # files checked in one schema pass


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


@dataclass
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
            skipped.append(FileResult(path, Status.OPEN_IN_EXCEL, name, problems=[Problem.make(
                "open-in-excel", f"Fichier de verrouillage d'Excel : un classeur (sans doute "
                f"« {path.name[2:]} ») était ouvert pendant la consolidation. Il a été lu tel "
                "qu'enregistré ; relancez quand il sera fermé.", file=path)],
                note="fichier de verrouillage d'Excel, non lu"))
        elif _hidden(path, name):
            skipped.append(FileResult(path, Status.HIDDEN, name,
                                      note="fichier caché (système ou temporaire), non lu"))
        else:
            try:
                to_read.append(FileResult(path, Status.VALID, name, _sha256(path)))
            except OSError as exc:
                to_read.append(FileResult(path, Status.UNREADABLE, name, problems=[
                    Problem.from_error(UnreadableFile(path, exc.strerror or str(exc)))]))
    kept: dict[str, str] = {}
    for f in sorted(to_read, key=lambda f: (len(f.name), f.name)):
        if f.sha256 is not None:
            kept.setdefault(f.sha256, f.name)
    for f in to_read:
        if f.sha256 is not None and kept[f.sha256] != f.name:
            original = kept[f.sha256]
            f.status, f.note = Status.DUPLICATE_FILE, f"copie de « {original} »"
            f.problems = [Problem.make("duplicate-file", f"Même contenu que « {original} » : lu "
                                       "une seule fois.", file=f.path, value=original)]
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_returns(paths: Iterable[Path], settings: Settings) -> Iterator[FileResult]:
    """Read each file on its own, check them ``BATCH`` at a time in one schema pass (each alone
    if that pass fails): the seam a parallel reader can replace. Never raises for a file."""
    batch: list[Path] = []
    for path in paths:
        batch.append(Path(path))
        if len(batch) == BATCH:
            yield from _read_batch(batch, settings)
            batch = []
    if batch:
        yield from _read_batch(batch, settings)


def _read_batch(paths: list[Path], settings: Settings) -> list[FileResult]:
    from xlfunding.reader import TemplateRead, read_template
    from xlfunding.validate import check_read, check_reads

    outcomes = [_guarded(path, read_template, path, settings) for path in paths]
    reads = [o for o in outcomes if isinstance(o, TemplateRead)]
    try:
        reports = iter(check_reads(reads, settings))
    except Exception:  # one file broke the common pass: check each alone
        reports = iter([_guarded(r.path, check_read, r, settings) for r in reads])
    return [o if isinstance(o, FileResult) else _result(o, next(reports)) for o in outcomes]


def _guarded(path: Path, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``, or the FileResult saying why ``path`` could not be read."""
    try:
        return function(*args)
    except WrongProgramme as exc:
        return FileResult(path, Status.OTHER_PROGRAMME, problems=[Problem.from_error(exc)])
    except UnreadableFile as exc:
        return FileResult(path, Status.UNREADABLE, problems=[Problem.from_error(exc)])
    except Exception as exc:  # also MemoryError, RecursionError: one bad file, not the batch
        return FileResult(path, Status.UNREADABLE, problems=[Problem.make(
            "unreadable-file", f"La lecture a échoué ({type(exc).__name__} : {str(exc)[:200]}) "
            ": enregistrez-le de nouveau au format .xlsx dans Excel et renvoyez-le.",
            file=path, value=type(exc).__name__)])


def _result(read: TemplateRead, report: Report | FileResult) -> FileResult:
    """One file's rows, each accepted or rejected with its reason, under the file policy."""
    if isinstance(report, FileResult):
        return report
    path = read.path
    actions = {a.source.row: a for a in report.actions if a.source is not None}
    bad = {row for _, row in report.rejected}
    if len(actions) + len(bad) != len(read.rows) or bad & set(actions):
        raise ConsolidationBug(f"{ConsolidationBug.__doc__} {path} : {len(read.rows)} lignes "
                               f"lues, {len(actions)} acceptées, {len(bad)} rejetées")
    result = FileResult(path, Status.VALID, problems=list(report.problems),
                        sponsor=read.sponsor, template_version=read.metadata.get(
                            "template_version"), modified=saved_at(path), mtime=_mtime(path))
    errors = report.errors
    for raw in read.rows:
        total = raw.values.get("total")
        row = RowResult(path, read.sheet, raw.row, str(raw.values.get("sponsor") or
                        read.sponsor or ""), str(raw.values.get("title") or ""),
                        total if isinstance(total, Decimal) else None, actions.get(raw.row))
        if raw.row in bad:
            mine = [f"{p.title} ({p.cell})" for p in errors if _row(p.cell) == raw.row]
            row.reason = "erreur dans la ligne : " + "; ".join(mine)
        elif errors:
            row.reason = (f"le fichier a {len(errors)} erreur{'s' if len(errors) > 1 else ''} : "
                          "aucune de ses lignes n'est reprise avant correction")
        result.rows.append(row)
    if errors:
        result.status = Status.ERRORS
    return result


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _row(cell: str | None) -> int | None:
    digits = "".join(ch for ch in cell or "" if ch.isdigit())
    return int(digits) if digits else None


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


def with_progress(results: Iterator[FileResult], total: int, enabled: bool
                  ) -> Iterator[FileResult]:
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

    @property
    def problems(self) -> list[Problem]:
        return [p for f in self.files for p in f.problems]

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


def consolidate(paths_or_folder: Path | str | Iterable[Path | str],
                settings: Settings | None = None, *, strict: bool = False,
                previous: Path | str | Programme | None = None,
                progress: bool = False) -> Consolidation:
    """Read every return under the folder(s), apply the rules above. ``previous``: an earlier
    annex written by this tool (its path, or its Programme) to compare with."""
    settings = settings or load_settings()
    before, origin = previous, None
    if isinstance(previous, str | Path):
        from xlfunding.annex_reader import read_annex

        before, origin = read_annex(previous, settings), Path(previous)
    found = find_inputs(paths_or_folder)
    skipped, to_read = triage(found)
    waiting = {p.path: p for p in to_read if p.status is Status.VALID}
    results = [p for p in to_read if p.status is not Status.VALID]
    for result in with_progress(read_returns(list(waiting), settings), len(waiting), progress):
        result.name, result.sha256 = waiting[result.path].name, waiting[result.path].sha256
        results.append(result)
    order: dict[Path, int] = {}
    for index, (path, _) in enumerate(found):
        order.setdefault(path, index)
    files = sorted([*skipped, *results], key=lambda f: order[f.path])
    _supersede(files)
    _deduplicate(files)
    programme = Programme(settings, tuple(r.action for f in files for r in f.rows
                                          if r.accepted and r.action is not None))
    ledger = _ledger(files, len(found), programme)
    changes = compare(before, programme, origin) if isinstance(before, Programme) else None
    return Consolidation(settings, files, programme, ledger, strict, changes)


def run_consolidate(inbox: Path | str, output: Path | str, *, report: Path | str | None = None,
                    json_out: bool = False, strict: bool = False,
                    previous: Path | str | None = None, show_sources: bool = False,
                    force: bool = False, settings: Settings | Path | str | None = None,
                    stdout: TextIO | None = None) -> int:
    """What ``xlfunding consolidate`` does: the annex (unless ``strict`` and errors), the report
    workbook, the JSON or text summary on ``stdout``. Returns the exit code: 0 complete, 1
    something was left out (or nothing accepted), 2 misuse (inbox missing, output not
    writable or inside the inbox, ``previous`` not an annex), said in one line on stderr."""
    from xlfunding import report_workbook as out

    stdout = stdout or sys.stdout
    inbox, output = Path(inbox), Path(output)
    report = Path(report) if report is not None else None
    try:
        chosen = settings if isinstance(settings, Settings) else load_settings(settings)
        if not inbox.is_dir():
            raise UnreadableFile(inbox, "dossier des retours introuvable")
        for path in (output, report):
            if path is not None:
                out.check_outputs(path, inbox, force)
        if report is not None and report.resolve() == output.resolve():
            raise OutputError(report, "le rapport et l'annexe doivent être deux fichiers")
        result = consolidate(inbox, chosen, strict=strict, previous=previous, progress=True)
        annex = (out.write_annex_of(result, output, show_sources, force)
                 if result.writes_annex else None)
        if report is not None:
            out.write_report(result, report, force=force, annex=annex)
    except XlfundingError as exc:
        print(f"✗ {exc.message}", file=sys.stderr)
        return 2
    if json_out:
        out.write_json(result, annex, stdout)
    else:
        stdout.write(out.summary_text(result, annex, report) + "\n")
    return 0 if result.complete else 1


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
            old.problems = [Problem.make(
                "superseded-file", f"Retour remplacé par « {kept.name} », plus récent "
                f"({_newer(kept, old)}) : seul ce fichier compte pour le porteur {sponsor}.",
                file=old.path, value=kept.name)]
            for row in old.rows:
                row.reason = f"retour remplacé par « {kept.name} »"
        if len(group) > 1:
            kept.note = "retenu ; remplace " + ", ".join(f"« {o.name} »" for o in group[1:])


def _newer(kept: FileResult, old: FileResult) -> str:
    if (kept.modified or OLDEST) != (old.modified or OLDEST):
        return f"enregistré dans Excel le {kept.modified:%d/%m/%Y à %H:%M} UTC"
    if kept.mtime != old.mtime:
        when = dt.datetime.fromtimestamp(kept.mtime or 0, dt.UTC)
        return f"fichier modifié le {when:%d/%m/%Y à %H:%M:%S} UTC"
    return "mêmes dates : le nom qui vient en dernier dans l'ordre alphabétique l'emporte"


def _deduplicate(files: list[FileResult]) -> None:
    seen: dict[tuple[str, str], tuple[FileResult, RowResult]] = {}
    valid = sorted((f for f in files if f.status is Status.VALID), key=FileResult.recency,
                   reverse=True)
    for f in valid:
        for row in f.rows:
            if row.action is None or not row.accepted:
                continue
            kept, first = seen.setdefault(action_key(row.action), (f, row))
            if first is row:
                continue
            same = "à l'identique" if first.action == row.action else "avec des différences"
            row.reason = f"action en double : déjà retenue depuis « {kept.name} » ligne {first.row}"
            f.status = Status.DUPLICATE_ACTIONS
            f.problems.append(Problem.make(
                "duplicate-action", f"Action déjà envoyée dans « {kept.name} » (ligne "
                f"{first.row}), {same} : elle n'est reprise qu'une fois, depuis le fichier le "
                "plus récent. Retirez-la de l'un des deux fichiers.", file=row.file,
                sheet=row.sheet, cell=row.action.source.cell("title") if row.action.source
                else None, value=row.title))


def _ledger(files: list[FileResult], found: int, programme: Programme) -> Ledger:
    def count(statuses: tuple[Status, ...]) -> int:
        return sum(f.status in statuses for f in files)

    rows = [r for f in files for r in f.rows]
    ledger = Ledger(found, count(READ), count(SKIPPED), count(UNREAD), len(rows),
                    len(programme.actions), sum(not r.accepted for r in rows))
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
