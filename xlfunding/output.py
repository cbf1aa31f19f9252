"""Writing outputs safely: checked path, temporary file in the same folder, then rename.

A failure half-way leaves the previous output intact and no stray file; an input is never
overwritten.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from xlfunding.errors import OutputError

_UMASK = os.umask(0)
os.umask(_UMASK)


def check_output(path: Path, *, force: bool = False, inputs: Iterable[Path] = ()) -> None:
    """Refuse, with a French message, an output we must not or cannot write."""
    folder = path.parent
    if not folder.exists():
        raise OutputError(path, f"le dossier « {folder} » n'existe pas")
    if not folder.is_dir():
        raise OutputError(path, f"« {folder} » n'est pas un dossier")
    if path.is_dir():
        raise OutputError(path, "c'est un dossier ; donnez un nom de fichier")
    resolved = path.resolve()
    for source in inputs:
        if Path(source).resolve() == resolved:
            raise OutputError(path, "c'est un des fichiers lus : choisissez un autre nom de sortie")
    if path.exists() and not force:
        raise OutputError(path, "le fichier existe déjà ; ajoutez --force pour le remplacer")
    if not os.access(folder, os.W_OK):
        raise OutputError(path, f"pas le droit d'écrire dans le dossier « {folder} »")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename."""
    path = Path(path)
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{path.stem}.", suffix=path.suffix or ".tmp", dir=path.parent
        )
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from exc
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        try:
            # mkstemp makes the file private (0600): give it the mode a normal write would.
            mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_UMASK
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except OSError as exc:
            raise OutputError(path, _explain(exc)) from exc
    finally:
        temporary.unlink(missing_ok=True)


def _explain(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return (
            "accès refusé (le fichier est peut-être ouvert dans Excel : fermez-le et recommencez)"
        )
    return exc.strerror or str(exc)
