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
back a transaction it interrupted; nothing is synced to the disk (``cachedb``): after a power
cut the file may be damaged, and is then treated as below. Each entry carries a checksum of its
text and of its key, and an entry that fails it, or does not decode, is a miss (read again, and
replaced). Two runs may share a cache at once (each waits up to ``cachedb.BUSY_SECONDS`` for
the other's commit). A file that is not a cache of ours (corrupt, foreign, of a later format)
is never trusted nor changed: the run goes on without a cache and says so (``cache-ignored``);
so does a file SQLite finds damaged while it is read (the files not yet taken from it are
read).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import pickle
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from xlfunding.month import cachecodec, cachedb
from xlfunding.month.inbox import CACHE_FOLDER, FileResult, Status, mtime_of, sha256_of
from xlfunding.month.reading import PARALLEL_FROM, read_encoded
from xlfunding.problems import Problem
from xlfunding.settings import Settings
from xlfunding.text import shown

FOLDER = CACHE_FOLDER  # in the returns folder; never read as a return
DATABASE = "resultats.sqlite"
COMMIT_EVERY = 32
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

    def __init__(
        self, connection: sqlite3.Connection, path: Path, settings: Settings, notices: list[Problem]
    ) -> None:
        self.connection, self.path, self.notices = connection, path, notices
        self.settings = settings_digest(settings)
        self.version = code_version()
        self.pending: list[tuple[str, str, str, str, bytes, int]] = []  # key, entry, checksum
        self.hits = self.stored = 0
        self.broken = False

    def _damaged(self, exc: sqlite3.DatabaseError) -> None:
        """SQLite found the file damaged: stop using it (never write to it again) and say so;
        the files not yet taken from it are read."""
        if not self.broken:
            self.broken = True
            self.pending.clear()
            reason = f"cache abîmé : {exc}"
            self.notices.append(Problem.make("cache-ignored", file=self.path, reason=reason))

    @classmethod
    def open(cls, folder: Path, settings: Settings) -> tuple[ResultCache | None, list[Problem]]:
        """The cache in ``folder`` (created if missing), or None and the warning saying why the
        run goes on without one."""
        path = Path(folder) / DATABASE
        connection = None
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            # Used by one thread at a time: the last writes are handed over to one (closing).
            connection = sqlite3.connect(
                path, timeout=cachedb.BUSY_SECONDS, isolation_level=None, check_same_thread=False
            )
            cachedb.prepare(connection)
        except (OSError, sqlite3.Error, cachedb.ForeignCache) as exc:
            if connection is not None:
                connection.close()
            foreign = isinstance(exc, cachedb.ForeignCache)
            why = exc.args[0] if foreign else f"{type(exc).__name__} : {exc}"
            return None, [Problem.make("cache-ignored", file=path, reason=why)]
        notices: list[Problem] = []
        return cls(connection, path, settings, notices), notices

    def known(self) -> set[str]:
        """The hashes of the files that have an entry under these settings and this version
        (one query, without the entries: the files to read are known at once)."""
        if self.broken:
            return set()
        try:
            rows = self.connection.execute(
                "SELECT sha256 FROM results WHERE settings = ? AND version = ?",
                (self.settings, self.version),
            ).fetchall()
        except sqlite3.OperationalError:  # locked past the timeout: read the files instead
            return set()
        except sqlite3.DatabaseError as exc:
            self._damaged(exc)
            return set()
        return {sha256 for (sha256,) in rows}

    def entry(self, sha256: str, name: str) -> bytes | None:
        """The stored entry of these bytes under these settings and this version, if its
        checksum holds; None for a miss."""
        if self.broken:
            return None
        try:
            row = self.connection.execute(
                "SELECT data, checksum, name FROM results WHERE sha256 = ? AND settings = ? "
                "AND version = ? AND name IN ('', ?)",
                (sha256, self.settings, self.version, shown(name)),  # SQLite holds UTF-8
            ).fetchone()
        except sqlite3.OperationalError:  # locked past the timeout: read the file instead
            return None
        except sqlite3.DatabaseError as exc:
            self._damaged(exc)
            return None
        if row is None or type(row[0]) is not bytes or type(row[2]) is not str:
            return None
        if _check((sha256, self.settings, self.version, row[2]), row[0]) != row[1]:
            return None
        return row[0]

    def get(self, entry: bytes, placeholder: FileResult) -> FileResult | None:
        """The result ``entry`` holds, re-pointed at the file of ``placeholder`` (from
        ``triage``: its path, name and hash); None when the entry does not decode."""
        path = placeholder.path
        try:
            result = cachecodec.decode(entry, path, mtime_of(path))
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, EOFError,
                pickle.UnpicklingError):  # not an entry of this format
            return None
        result.cached = True
        self.hits += 1
        return result

    def put(self, result: FileResult, sha256: str, text: bytes | None = None) -> None:
        """Keep ``result`` (its entry ``text``, made by the reader, or made here) if its file
        still has the bytes ``sha256`` (it was read from them) and the codec can carry it
        exactly; written every ``COMMIT_EVERY`` files."""
        if not cacheable(result):
            return
        try:
            text = cachecodec.encode(result) if text is None else text
            if sha256_of(result.path) != sha256:
                return
        except (cachecodec.NotCodable, OSError):
            return
        # A message that names the file (none does today) is only valid under that name.
        name = result.path.name
        tied = shown(name) if any(name in p.message for p in result.problems) else ""
        key = (sha256, self.settings, self.version, tied)
        self.pending.append((*key, text, _check(key, text)))
        if len(self.pending) >= COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        """Write the results kept so far in one transaction (the write lock is held only
        for it); a failure loses them, not the cache."""
        if not self.pending or self.broken:
            return
        rows, self.pending = self.pending, []
        try:
            with self.connection:
                self.connection.executemany(
                    "INSERT OR REPLACE INTO results (sha256, settings, version, name, data, "
                    "checksum) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.OperationalError:
            return
        except sqlite3.DatabaseError as exc:
            self._damaged(exc)
            return
        self.stored += len(rows)

    @contextlib.contextmanager
    def closing(self) -> Iterator[None]:
        """Close (``close``) in a thread of its own while the block runs, and wait for it at
        the end of the block: SQLite writes the file without holding the interpreter's lock,
        so the block's work goes on meanwhile."""
        thread = threading.Thread(target=self.close, name="xlfunding-cache")
        thread.start()
        try:
            yield
        finally:
            thread.join()

    def close(self) -> None:
        """Write what is left, forget the entries of other versions (they can never hit
        again), close."""
        try:
            self.commit()
            if not self.broken:
                with self.connection:
                    self.connection.execute(
                        "DELETE FROM results WHERE version != ?", (self.version,)
                    )
        except sqlite3.Error:  # another run holds the lock: its own close will prune
            pass
        finally:
            self.connection.close()


def read_through(
    store: ResultCache, waiting: dict[Path, FileResult], settings: Settings
) -> Iterator[FileResult]:
    """The result of every file of ``waiting`` (placeholders from ``triage``): from the cache
    when its entry is there, else read and stored. The files to read, known from the hashes
    alone, are sent to the readers first: this process fetches and decodes the cached ones
    while the readers start and read."""
    known = store.known()
    hits: list[Path] = []
    misses: list[Path] = []
    for path, placeholder in waiting.items():
        (hits if placeholder.sha256 in known else misses).append(path)
    again: list[Path] = []
    reading = read_encoded(misses, settings, overlap=len(hits) >= PARALLEL_FROM)
    for path in hits:
        placeholder = waiting[path]
        entry = store.entry(placeholder.sha256 or "", placeholder.name)
        result = None if entry is None else store.get(entry, placeholder)
        if result is None:
            again.append(path)
        else:
            yield result
    for result, entry in itertools.chain(reading, read_encoded(again, settings)):
        sha256 = waiting[result.path].sha256
        if sha256 is not None:
            store.put(result, sha256, entry)  # before the consolidation's rules change it
        yield result


CACHED = (Status.VALID, Status.ERRORS, Status.OTHER_PROGRAMME, Status.UNREADABLE)


def cacheable(result: FileResult) -> bool:
    """What reading a file gave, as it will give it again: not a reader that died or crashed
    (it may not next time), not a result the consolidation already marked."""
    return (
        result.status in CACHED
        and not result.note
        and not any(p.code == "unreadable-file" for p in result.problems)
    )


def _check(key: tuple[str, str, str, str], data: bytes) -> int:
    """A checksum of an entry and of the key it is stored under (CRC-32: against damage, not
    against an adversary): an entry found under another file's key, as a damaged database
    could give, fails it."""
    return zlib.crc32(data, zlib.crc32("\0".join(key).encode()))
