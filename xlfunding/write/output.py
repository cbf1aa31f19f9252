"""Writing outputs safely: checked path, temporary file in the same folder, then rename.

A failure half-way leaves the previous output intact and no stray file; an input is never
overwritten (not even through another name for the same file: a hard or symbolic link, a
different case), and nothing but a regular file is ever replaced (not a device, not a pipe).

Every command passes ``check_output`` *every* path it reads (the returns, the previous annex,
the settings file, the import source): this is the one place the rule lives.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from xlfunding.errors import OutputError

NOT_REGULAR = (
    "ce n'est pas un fichier ordinaire (périphérique, tube nommé…) : il ne sera pas remplacé ; "
    "donnez le nom d'un fichier"
)
_UMASK = os.umask(0)
os.umask(_UMASK)


def check_output(
    path: Path | str, *, force: bool = False, inputs: Iterable[Path | str | None] = ()
) -> None:
    """Refuse, with a French message, an output we must not or cannot write: one of the
    ``inputs`` (``None`` entries are skipped) under any name, anything that exists and is not a
    regular file, an existing file without ``force``."""
    path = Path(path)
    folder = path.parent
    if not folder.exists():
        raise OutputError(path, f"le dossier « {folder} » n'existe pas")
    if not folder.is_dir():
        raise OutputError(path, f"« {folder} » n'est pas un dossier")
    if path.is_dir():
        raise OutputError(path, "c'est un dossier ; donnez un nom de fichier")
    for source in inputs:
        if source is not None and _same_file(Path(source), path):
            raise OutputError(path, "c'est un des fichiers lus : choisissez un autre nom de sortie")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:  # nothing there (or a broken link, which the rename replaces)
        mode = None
    except OSError as exc:
        raise OutputError(path, _explain(exc)) from exc
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(path, NOT_REGULAR)
    if mode is not None and not force:
        raise OutputError(path, "le fichier existe déjà ; ajoutez --force pour le remplacer")
    if not os.access(folder, os.W_OK):
        raise OutputError(path, f"pas le droit d'écrire dans le dossier « {folder} »")


def make_folder(folder: Path | str) -> Path:
    """Create the output folder (and its parents) when missing; refuse, in French, a path
    that exists and is not a folder, or that cannot be created."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(folder, "ce n'est pas un dossier")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(folder, f"impossible de créer le dossier : {_explain(exc)}") from exc
    return folder


def _same_file(source: Path, output: Path) -> bool:
    """The same file by its device and inode, following symbolic links on both sides (hard
    links, case-insensitive disks), or by its resolved name."""
    try:
        if source.resolve() == output.resolve():
            return True
        a, b = os.stat(source), os.stat(output)
    except (OSError, RuntimeError):  # one of them does not exist (or a link loop)
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    Whatever happens before the rename (an exception, a full disk), ``path`` keeps its old
    bytes and the temporary file is removed; an ``OSError`` becomes an ``OutputError`` that
    names ``path`` and says what to do."""
    path = Path(path)
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{path.stem}.", suffix=path.suffix or ".tmp", dir=path.parent
        )
    except OSError as exc:
        why = (
            f"pas le droit d'écrire dans le dossier « {path.parent} »"
            if isinstance(exc, PermissionError)
            else f"impossible de créer un fichier dans « {path.parent} » : {_explain(exc)}"
        )
        raise OutputError(path, why) from exc
    os.close(handle)
    temporary = Path(name)
    try:
        try:
            yield temporary
        except Exception as exc:
            cause = _os_error(exc)
            if cause is None:
                raise
            raise OutputError(path, _explain(cause)) from exc
        if path.exists() and not path.is_file():  # appeared since check_output
            raise OutputError(path, NOT_REGULAR)
        try:
            # mkstemp makes the file private (0600): give it the mode a normal write would.
            mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_UMASK
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except OSError as exc:
            raise OutputError(path, _explain(exc)) from exc
    finally:
        temporary.unlink(missing_ok=True)


def _os_error(exc: Exception) -> OSError | None:
    """The system error behind a failed write: the exception itself, or the one a library
    wrapped (XlsxWriter's ``FileCreateError(OSError)``); None for ours and for anything else."""
    if isinstance(exc, OutputError):
        return None
    if isinstance(exc, OSError):
        return exc
    if exc.args and isinstance(exc.args[0], OSError):
        return exc.args[0]
    return None


def _explain(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return (
            "accès refusé (le fichier est peut-être ouvert dans Excel : fermez-le et recommencez)"
        )
    if isinstance(exc, FileNotFoundError):
        return "un fichier ou le dossier a disparu pendant l'écriture"
    if exc.errno == errno.ENOSPC:
        return "disque plein : libérez de la place et recommencez"
    return exc.strerror or str(exc)
