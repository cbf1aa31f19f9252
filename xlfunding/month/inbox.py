"""The inbox: which files there are, which to read, and what each file became (FileResult).

Lock files, hidden files and byte-identical copies are set aside; every other file is read and
checked (``reading``), and ends as a FileResult with one status — never an exception, whatever
the file.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xlfunding.errors import UnreadableFile
from xlfunding.model import Action
from xlfunding.problems import Problem, Severity

OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)
CACHE_FOLDER = ".xlfunding-cache"  # the consolidation's cache (``cache``): never an input


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
    cached: bool = False  # taken from the cache (``cache``), not read

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


def find_inputs(
    paths_or_folder: Path | str | Iterable[Path | str],
    *,
    named: bool = False,
    cache: Path | None = None,
) -> list[tuple[Path, str]]:
    """Every file under the folder(s), sorted, with the name the report shows; not those of a
    cache folder (``.xlfunding-cache``, or ``cache``). ``named``: the paths as given (no folder
    walked), each shown by its path."""
    if isinstance(paths_or_folder, str | Path):
        paths_or_folder = [paths_or_folder]
    items = [Path(p) for p in paths_or_folder]
    if named:
        return [(item, str(item)) for item in items]
    found: list[tuple[Path, str]] = []
    for item in items:
        if not item.is_dir():
            found.append((item, item.name))
            continue
        for folder, dirs, files in os.walk(item):
            dirs[:] = sorted(d for d in dirs if not _cache_folder(Path(folder) / d, cache))
            for name in sorted(files):
                path = Path(folder) / name
                shown = path.relative_to(item).as_posix()
                found.append((path, shown if len(items) == 1 else f"{item.name}/{shown}"))
    return found


def triage(
    found: Sequence[tuple[Path, str]], *, named: bool = False
) -> tuple[list[FileResult], list[FileResult]]:
    """Set aside lock files, hidden files and byte-identical copies (the copy with the shortest
    name is read: copies add « (1) » or « - Copie »; the same path twice is read once); the
    rest are to be read, returned as placeholders carrying their name and SHA-256. ``named``:
    files the user named; only copies are set aside, the reader judges the rest."""
    skipped: list[FileResult] = []
    to_read: list[FileResult] = []
    for path, name in found:
        if named and _not_a_regular_file(path) is not None:
            to_read.append(FileResult(path, Status.VALID, name))  # the reader says what it is
        elif named:
            to_read.append(_placeholder(path, name))
        elif path.name.startswith("~$"):
            skipped.append(
                FileResult(
                    path,
                    Status.OPEN_IN_EXCEL,
                    name,
                    problems=[Problem.make("open-in-excel", file=path, workbook=path.name[2:])],
                    note="fichier de verrouillage d'Excel, non lu",
                )
            )
        elif _hidden(path, name):
            skipped.append(
                FileResult(
                    path,
                    Status.HIDDEN,
                    name,
                    problems=[Problem.make("hidden-file", file=path)],
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
            to_read.append(_placeholder(path, name))
    kept: dict[str, FileResult] = {}
    for f in sorted(to_read, key=lambda f: (len(f.name), f.name)):
        if (key := _identity(f)) is not None:
            kept.setdefault(key, f)
    for f in to_read:
        if (key := _identity(f)) is not None and kept[key] is not f:
            original = kept[key].name
            f.status, f.note = Status.DUPLICATE_FILE, f"copie de « {original} »"
            f.problems = [
                Problem.make("duplicate-file", file=f.path, value=original, original=original)
            ]
    skipped += [f for f in to_read if f.status is Status.DUPLICATE_FILE]
    return skipped, [f for f in to_read if f.status is not Status.DUPLICATE_FILE]


def _identity(f: FileResult) -> str | None:
    """What makes two files to read the same: their bytes, or (not hashed) their path."""
    if f.sha256 is not None:
        return f.sha256
    return f"path:{f.path.absolute()}" if f.status is Status.VALID else None


def _placeholder(path: Path, name: str) -> FileResult:
    """A file to read, with its SHA-256; unreadable when it cannot even be hashed."""
    try:
        return FileResult(path, Status.VALID, name, sha256_of(path))
    except OSError as exc:
        why = UnreadableFile(path, exc.strerror or str(exc))
        return FileResult(path, Status.UNREADABLE, name, problems=[Problem.from_error(why)])


def _cache_folder(folder: Path, cache: Path | None) -> bool:
    if folder.name == CACHE_FOLDER:
        return True
    return cache is not None and folder.resolve() == cache.resolve()


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


def mtime_of(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
