"""The cache's SQLite file: created in WAL mode with large pages and never synced, recognised
as ours (its ``meta`` table) or refused (``ForeignCache``): what ``cache`` opens."""

from __future__ import annotations

import sqlite3
import time

APPLICATION = "xlfunding-cache"
SCHEMA = "1"
PAGE_SIZE = 65536  # SQLite's largest
BUSY_SECONDS = 60.0


class ForeignCache(Exception):
    """Not a cache written by xlfunding in this format."""


def prepare(connection: sqlite3.Connection) -> None:
    """Check that the database is ours, creating it when empty (raise ForeignCache if it is
    not); again while another run holds the file (two runs that create the cache at
    once: SQLite refuses the second one's switch to WAL at once, without waiting), for up to
    ``BUSY_SECONDS``. Preparing again is harmless: every step is done only if not done."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            _prepare(connection)
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY,
                                                              sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _prepare(connection: sqlite3.Connection) -> None:
    """Check that the database is ours (creating it when empty); raise ForeignCache if not."""
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
    # No disk sync: what is written is safe when the run is killed (it is with the system),
    # and a cache can be rebuilt. A power cut while it is written may damage the file: SQLite
    # says so (the run goes on without it, ``cache-ignored``), or an entry fails its checksum
    # (it is read again). Syncing made a first month 9 % slower (1 000 returns, 130 MB written:
    # 5.13 s against 4.70 s, medians of 7 runs side by side).
    connection.execute("PRAGMA synchronous = OFF")
    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    if not tables:
        # Entries are about 100 KB: large pages store them in a few pages, not in chains of
        # thirty (measured: a third less time writing 1 000 of them).
        connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            connection.execute(
                "CREATE TABLE IF NOT EXISTS results (sha256 TEXT NOT NULL, settings TEXT NOT "
                "NULL, version TEXT NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL, checksum "
                "INTEGER NOT NULL, PRIMARY KEY (sha256, settings, version, name))"
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
