"""``consolidate --archive``: the month's inputs as the run used them, for an auditor.

One .zip: ``retours/`` holds the bytes of every file read (or taken from the cache: the same
bytes), ``manifeste.json`` lists every file found with its status and SHA-256 (``"format": 1,
"kind": "archive"``), ``consolidation.json`` is the run's JSON (as ``--json``) and
``parametres.json`` the settings. A file changed on disk since the run read it is listed with
``"archived": false``: its new bytes are not the ones the annex came from.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlfunding.month.cache import package_version
from xlfunding.month.inbox import SKIPPED
from xlfunding.month.report import write_json
from xlfunding.text import shown
from xlfunding.write.output import atomic_path, check_output

if TYPE_CHECKING:
    from xlfunding.month.consolidate import Consolidation

FOLDER = "retours"
STAMP = (1980, 1, 1, 0, 0, 0)  # zip entries carry no run-dependent date: the manifest has them


def write_archive(
    result: Consolidation,
    path: Path | str,
    *,
    annex: Path | None = None,
    force: bool = False,
    inputs: Iterable[Path | None] = (),
) -> Path:
    """Write the archive of ``result`` to ``path`` (atomically; never over a file read: the
    returns, the settings, the other ``inputs``, the annex just written)."""
    path = Path(path)
    read = [*(f.path for f in result.files), result.settings.path, *inputs, annex]
    check_output(path, force=force, inputs=read)
    entries: list[dict[str, Any]] = []
    with atomic_path(path) as temporary, zipfile.ZipFile(temporary, "w") as book:
        for f in result.files:
            entry: dict[str, Any] = {
                "file": shown(f.name),
                "status": str(f.status),
                "sha256": f.sha256,
                "archived": False,
            }
            if f.sha256 is not None and f.status not in SKIPPED:
                data = _bytes(f.path)
                if data is not None and hashlib.sha256(data).hexdigest() == f.sha256:
                    _add(book, f"{FOLDER}/{shown(f.name)}", data, zipfile.ZIP_DEFLATED)
                    entry.update(archived=True, size=len(data), cached=f.cached)
            entries.append(entry)
        run = io.StringIO()
        write_json(result, annex, run)
        manifest = {
            "format": 1,
            "kind": "archive",
            "xlfunding": package_version(),
            "settings_fingerprint": result.settings.fingerprint,
            "files": entries,
        }
        _add(book, "manifeste.json", _json(manifest), zipfile.ZIP_DEFLATED)
        _add(book, "consolidation.json", run.getvalue().encode(), zipfile.ZIP_DEFLATED)
        _add(book, "parametres.json", _json(result.settings.to_dict()), zipfile.ZIP_DEFLATED)
    return path


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _json(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n").encode()


def _add(book: zipfile.ZipFile, name: str, data: bytes, method: int) -> None:
    info = zipfile.ZipInfo(name, STAMP)
    info.compress_type = method
    book.writestr(info, data)
