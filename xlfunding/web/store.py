"""The returns folder as the drop zone's only store.

A valid return goes to ``<inbox>/<PORTEUR>/<horodatage>-<nom>.xlsx``, a refused one to
``<inbox>/.refus/<PORTEUR>/…`` (hidden: the consolidation never reads it), the « À corriger »
copy to ``<inbox>/.corrections/<PORTEUR>/…`` and a line about each send to
``<inbox>/.envois/<PORTEUR>/….json``. A file reaches its final name in one hard link from a
``.depot-*.part`` file beside it, never over another: a server killed mid-write leaves at most
a hidden part file, swept at the next start. The sender's file name is only ever a label.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

REFUSED, CORRECTIONS, SENDS = ".refus", ".corrections", ".envois"
PART_PREFIX = ".depot-"
STEM = re.compile(r"\d{8}-\d{6}-\d{6}-[A-Za-z0-9_-]{1,64}")
SAVED, REFUSED_STATUS = "enregistré", "refusé"


def safe_label(name: str | None, *, limit: int = 60, default: str = "retour") -> str:
    """A name made only of ASCII letters, digits, ``-`` and ``_``, at most ``limit`` long:
    the last part of the sender's name (no folder, no ``..``, no NUL), accents dropped."""
    base = re.split(r"[\\/]", name or "")[-1].replace("\0", "")
    base = re.sub(r"\.xlsx$", "", base, flags=re.IGNORECASE)
    ascii_only = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_only).strip("-_")[:limit].strip("-_")
    return cleaned or default


def sponsor_folder(sponsor: str) -> str:
    """The sponsor's folder name (« Centre social » -> ``Centre-social``)."""
    return safe_label(sponsor, limit=80, default="porteur")


@dataclass(frozen=True)
class Send:
    """One upload, as the sponsor's page and the staff page list it."""

    stem: str  # <horodatage>-<nom>: the send's id (its record's, its corrections')
    sponsor: str
    file: str  # the return's name in its folder (the stem, unless that name was taken)
    name: str  # the sender's file name, shown (never used as a path)
    at: str  # ISO time, UTC
    status: str  # SAVED or REFUSED_STATUS
    sha256: str
    actions: int = 0
    total: str = "0"
    errors: int = 0
    warnings: int = 0
    corrections: bool = False

    @property
    def when(self) -> str:
        moment = dt.datetime.fromisoformat(self.at).astimezone()
        return moment.strftime("%d/%m/%Y à %H:%M:%S")


class Store:
    def __init__(self, inbox: Path, sponsors: tuple[str, ...]) -> None:
        self.inbox = inbox
        self._issued: set[str] = set()
        self.folders = {sponsor: sponsor_folder(sponsor) for sponsor in sponsors}
        if len(set(self.folders.values())) != len(self.folders):
            raise ValueError("deux porteurs donnent le même nom de dossier")

    def place(self, kind: str, sponsor: str) -> Path:
        folder = self.folders[sponsor]
        return self.inbox / folder if kind == SAVED else self.inbox / kind / folder

    def new_stem(self, name: str | None) -> str:
        """``<horodatage>-<nom>``, never twice from this server."""
        while True:
            stem = f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S-%f}-{safe_label(name)}"
            if stem not in self._issued:
                self._issued.add(stem)
                return stem

    def save(self, source: Path, sponsor: str, stem: str, valid: bool) -> Path:
        """Copy ``source`` under its final name (a new name if that one is taken)."""
        folder = self.place(SAVED if valid else REFUSED, sponsor)
        with open(source, "rb") as stream:
            return _publish(stream, folder, stem, ".xlsx")

    def corrections_path(self, sponsor: str, stem: str) -> Path:
        folder = self.place(CORRECTIONS, sponsor)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{stem}.xlsx"

    def record(self, send: Send) -> None:
        data = json.dumps(asdict(send), ensure_ascii=False).encode()
        folder = self.place(SENDS, send.sponsor)
        _publish(io.BytesIO(data), folder, send.stem, ".json", replace=True)

    def sends(self, sponsor: str) -> list[Send]:
        """The sponsor's sends, newest first: each recorded one, and any return file whose
        record was lost (a server stopped between the two) by its place."""
        found: dict[str, Send] = {}
        for path in self.place(SENDS, sponsor).glob("*.json"):
            with contextlib.suppress(OSError, ValueError, TypeError):
                send = Send(**json.loads(path.read_text(encoding="utf-8")))
                found[send.stem] = send
        for status, kind in ((SAVED, SAVED), (REFUSED_STATUS, REFUSED)):
            for path in self.place(kind, sponsor).glob("*.xlsx"):
                if STEM.fullmatch(path.stem) and path.name not in {s.file for s in found.values()}:
                    at = dt.datetime.strptime(path.stem[:22], "%Y%m%d-%H%M%S-%f")
                    found[path.stem] = Send(
                        path.stem,
                        sponsor,
                        path.name,
                        path.name,
                        at.replace(tzinfo=dt.UTC).isoformat(),
                        status,
                        "",
                    )
        return sorted(found.values(), key=lambda s: s.stem, reverse=True)

    def corrections_file(self, sponsor: str, stem: str) -> Path | None:
        """The sponsor's own corrections copy ``stem``, or None (any other name, any other
        sponsor's)."""
        if not STEM.fullmatch(stem):
            return None
        path = self.place(CORRECTIONS, sponsor) / f"{stem}.xlsx"
        return path if path.is_file() else None

    def returns(self) -> list[Path]:
        """What the consolidation reads: every visible file and folder of the inbox."""
        return sorted(p for p in self.inbox.iterdir() if not p.name.startswith("."))

    def sweep(self) -> list[Path]:
        """Remove the part files a stopped server left; returns them."""
        swept = []
        for folder in [self.inbox, *(p for p in self.inbox.rglob("*") if p.is_dir())]:
            for part in folder.glob(f"{PART_PREFIX}*.part"):
                part.unlink(missing_ok=True)
                swept.append(part)
        return swept


def _publish(
    stream: BinaryIO, folder: Path, stem: str, suffix: str, *, replace: bool = False
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with _part(folder) as part:
        with open(part, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            target = folder / f"{stem}{suffix}"
            os.replace(part, target)
        else:
            target = _link_new(part, folder, stem, suffix)
    _sync(folder)
    return target


def _link_new(part: Path, folder: Path, stem: str, suffix: str) -> Path:
    for number in range(1, 1000):
        target = folder / (f"{stem}{suffix}" if number == 1 else f"{stem}-{number}{suffix}")
        try:
            os.link(part, target)  # atomic, and never over an existing file
            return target
        except FileExistsError:
            continue
    raise FileExistsError(folder / f"{stem}{suffix}")


@contextlib.contextmanager
def _part(folder: Path) -> Iterator[Path]:
    part = folder / f"{PART_PREFIX}{secrets.token_hex(8)}.part"
    try:
        yield part
    finally:
        part.unlink(missing_ok=True)


def _sync(folder: Path) -> None:
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
