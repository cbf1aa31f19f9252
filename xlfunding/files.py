"""Reading a small input file whole (the settings, an annex's text): bounded and never blocking.

``open()`` on a named pipe waits for a writer, and ``read()`` of ``/dev/zero`` never ends; so
the file is opened without blocking, must be a regular file, and is read up to a size limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from xlfunding.errors import XlfundingError

KiB, MiB = 2**10, 2**20


def read_small(path: Path, limit: int, error: type[XlfundingError], what: str) -> bytes:
    """The bytes of ``path``, or ``error(path, French reason)``: missing, a folder, not a
    regular file (a device, a pipe, a socket), or larger than ``limit`` bytes (``what`` says
    what such a file usually weighs: « un fichier de paramètres fait quelques Ko »)."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as exc:
        raise error(path, "fichier introuvable") from exc
    except IsADirectoryError as exc:
        raise error(path, "c'est un dossier, pas un fichier") from exc
    except OSError as exc:
        raise error(path, f"impossible de l'ouvrir ({exc.strerror or exc})") from exc
    try:
        status = os.fstat(handle)
        mode = status.st_mode
        if stat.S_ISDIR(mode):
            raise error(path, "c'est un dossier, pas un fichier")
        if not stat.S_ISREG(mode):
            raise error(path, "ce n'est pas un fichier ordinaire (périphérique, tube nommé…)")
        if status.st_size > limit:
            raise error(path, f"fichier trop gros (plus de {_size(limit)}) : {what}")
        chunks, size = [], 0
        while chunk := os.read(handle, 64 * KiB):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise error(path, f"fichier trop gros (plus de {_size(limit)}) : {what}")
        return b"".join(chunks)
    except OSError as exc:
        raise error(path, f"impossible de le lire ({exc.strerror or exc})") from exc
    finally:
        os.close(handle)


def _size(limit: int) -> str:
    return f"{limit // MiB} Mo" if limit >= MiB else f"{limit // KiB} Ko"
