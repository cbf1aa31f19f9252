"""The consolidation's cache: each file's reading result, found again by the file's bytes.

A return that has not changed since last month gives the same actions and problems: the cache
keeps, in an SQLite database (the standard library's ``sqlite3``), each file's result
(``cachecodec``) under a key of three parts, and any change of one is a miss:

* the SHA-256 of the file's bytes (hashed from the bytes themselves: never the name, size or
  modification time), checked again after a miss is read, so a file replaced while it was read
  is not stored under the bytes it no longer has;
* a digest of the whole settings (every axis, sponsor, funder, cap and label);
* the version: xlfunding's version and a digest of its own code and data, and the versions of
  the readers it relies on (python-calamine, pandas, pandera).

The database is in WAL mode; results are written in transactions of ``COMMIT_EVERY`` files and
at the end: a run killed at any point leaves the results already committed, and SQLite rolls
back a transaction it interrupted. Each entry carries a checksum of its text, and an entry that
fails it, or does not decode, is a miss (read again, and replaced). Two runs may share a cache
at once (each waits up to ``BUSY_SECONDS`` for the other's commit). A file that is not a cache
of ours (corrupt, foreign, of a later format) is never trusted nor changed: the run goes on
without a cache and says so (``cache-ignored``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from importlib import metadata
from pathlib import Path

from xlfunding.month import cachecodec
from xlfunding.month.inbox import CACHE_FOLDER, FileResult, mtime_of, sha256_of
from xlfunding.problems import Problem
from xlfunding.settings import Settings
from xlfunding.text import shown

FOLDER = CACHE_FOLDER  # in the returns folder; never read as a return
DATABASE = "resultats.sqlite"
APPLICATION = "xlfunding-cache"
SCHEMA = "1"
COMMIT_EVERY = 32
BUSY_SECONDS = 60.0
READERS = ("python-calamine", "pandas", "pandera", "openpyxl", "defusedxml")


def default_folder(inbox: Path) -> Path:
    return Path(inbox) / FOLDER


@functools.cache
def code_version() -> str:
    """xlfunding's version, a digest of its code and data, and the readers' versions."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    readers = [f"{name}={package_version(name)}" for name in READERS]
    return f"{package_version()}+{digest.hexdigest()[:16]};{','.join(readers)}"


def package_version(name: str = "xlfunding") -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def settings_digest(settings: Settings) -> str:
    canonical = json.dumps(settings.to_dict(), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ResultCache:
    """An open cache; ``get`` a file's result by its hash, ``put`` what was read."""

    def __init__(self, connection: sqlite3.Connection, path: Path, settings: Settings) -> None:
        self.connection, self.path = connection, path
        self.settings = settings_digest(settings)
        self.version = code_version()
        self.pending: list[tuple[str, ...]] = []
        self.hits = self.stored = 0

    @classmethod
    def open(cls, folder: Path, settings: Settings) -> tuple[ResultCache | None, list[Problem]]:
        """The cache in ``folder`` (created if missing), or None and the warning saying why the
        run goes on without one."""
        path = Path(folder) / DATABASE
        connection = None
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
            _prepare(connection)
        except (OSError, sqlite3.Error, ForeignCache) as exc:
            if connection is not None:
                connection.close()
            why = exc.args[0] if isinstance(exc, ForeignCache) else f"{type(exc).__name__} : {exc}"
            return None, [Problem.make("cache-ignored", file=path, reason=why)]
        return cls(connection, path, settings), []

    def get(self, sha256: str, path: Path, name: str, mtime: float | None) -> FileResult | None:
        """The stored result of these bytes under these settings and this version, re-pointed
        at ``path``; None for a miss, or for an entry that does not decode."""
        try:
            row = self.connection.execute(
                "SELECT data, checksum FROM results WHERE sha256 = ? AND settings = ? AND "
                "version = ? AND name IN ('', ?)",
                (sha256, self.settings, self.version, shown(name)),  # SQLite holds UTF-8
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None or _check(row[0]) != row[1]:
            return None
        try:
            result = cachecodec.decode(row[0], path, mtime)
        except (ValueError, KeyError, TypeError, IndexError):
            return None
        result.name, result.sha256, result.cached = name, sha256, True
        self.hits += 1
        return result

    def take(self, waiting: dict[Path, FileResult]) -> list[FileResult]:
        """The results of the files of ``waiting`` (placeholders from ``triage``) found in the
        cache; those files are removed from ``waiting``: what is left is to be read."""
        found = []
        for path, placeholder in list(waiting.items()):
            if placeholder.sha256 is None:
                continue
            result = self.get(placeholder.sha256, path, placeholder.name, mtime_of(path))
            if result is not None:
                found.append(result)
                del waiting[path]
        return found

    def put(self, result: FileResult, sha256: str) -> None:
        """Keep ``result`` if its file still has the bytes ``sha256`` (it was read from them)
        and the codec can carry it exactly; written every ``COMMIT_EVERY`` files."""
        try:
            text = cachecodec.encode(result)
            if sha256_of(result.path) != sha256:
                return
        except (cachecodec.NotCacheable, OSError):
            return
        # A message that names the file (none does today) is only valid under that name.
        name = result.path.name
        tied = shown(name) if any(name in p.message for p in result.problems) else ""
        self.pending.append((sha256, self.settings, self.version, tied, text, _check(text)))
        if len(self.pending) >= COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        """Write the results kept so far in one transaction (the write lock is held only
        for it); a failure loses them, not the cache."""
        if not self.pending:
            return
        rows, self.pending = self.pending, []
        try:
            with self.connection:
                self.connection.executemany(
                    "INSERT OR REPLACE INTO results (sha256, settings, version, name, data, "
                    "checksum) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.Error:
            return
        self.stored += len(rows)

    def close(self) -> None:
        """Write what is left, forget the entries of other versions (they can never hit
        again), close."""
        try:
            self.commit()
            with self.connection:
                self.connection.execute("DELETE FROM results WHERE version != ?", (self.version,))
        except sqlite3.Error:  # another run holds the lock: its own close will prune
            pass
        finally:
            self.connection.close()


def _check(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ForeignCache(Exception):
    """Not a cache written by xlfunding in this format."""


def _prepare(connection: sqlite3.Connection) -> None:
    """Check that the database is ours (creating it when empty); raise ForeignCache if not."""
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    if not tables:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            connection.execute(
                "CREATE TABLE IF NOT EXISTS results (sha256 TEXT NOT NULL, settings TEXT NOT "
                "NULL, version TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, checksum "
                "TEXT NOT NULL, PRIMARY KEY (sha256, settings, version, name))"
            )
            connection.executemany(
                "INSERT OR IGNORE INTO meta VALUES (?, ?)",
                [("application", APPLICATION), ("schema", SCHEMA)],
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        connection.execute(
            "SELECT sha256, settings, version, name, data, checksum FROM results LIMIT 0"
        )
    except sqlite3.Error as exc:
        raise ForeignCache("ce fichier n'est pas un cache de xlfunding") from exc
    if meta.get("application") != APPLICATION:
        raise ForeignCache("ce fichier n'est pas un cache de xlfunding")
    if meta.get("schema") != SCHEMA:
        raise ForeignCache(f"cache au format « {meta.get('schema')} », inconnu de cette version")
    check = connection.execute("PRAGMA quick_check").fetchone()
    if check is None or check[0] != "ok":
        raise ForeignCache(f"cache abîmé ({check[0] if check else 'illisible'})")
