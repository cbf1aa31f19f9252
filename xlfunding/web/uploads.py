"""Receiving an upload: bounded in size while it streams, bounded in number per link and per
minute, written to a private work folder under a name of our own (the sender's is a label)."""

from __future__ import annotations

import collections
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request

from xlfunding.web.store import safe_label

FORM_OVERHEAD = 64 * 1024  # the form's other fields and multipart headers
CHUNK = 256 * 1024


class TooLarge(Exception):
    """Le fichier dépasse la taille permise."""


class NoFile(Exception):
    """Aucun fichier n'a été envoyé."""


@dataclass
class Received:
    path: Path  # in the work folder, named by us
    name: str  # the sender's file name, cleaned: a label
    fields: dict[str, str]

    def discard(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


def _bounded(receive: Callable[[], Awaitable[Any]], limit: int) -> Callable[[], Awaitable[Any]]:
    seen = 0

    async def counted() -> Any:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise TooLarge
        return message

    return counted


async def receive_upload(request: Request, limit: int, workdir: Path) -> Received:
    """The form's file, copied in chunks to ``workdir``; ``TooLarge`` as soon as the body passes
    ``limit`` (announced or streamed), ``ClientDisconnect`` if the sender goes away, ``NoFile``
    when there is none. Nothing is left behind by a failure."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise TooLarge
    bounded = Request(request.scope, _bounded(request.receive, limit + FORM_OVERHEAD))
    form = await bounded.form(max_files=1, max_fields=8)
    folder = Path(tempfile.mkdtemp(prefix="envoi-", dir=workdir))
    try:
        upload = form.get("fichier")
        if not isinstance(upload, UploadFile):
            raise NoFile
        label = safe_label(upload.filename)
        target = folder / f"{label}.xlsx"
        size = 0
        with target.open("wb") as out:
            while block := await upload.read(CHUNK):
                size += len(block)
                if size > limit:
                    raise TooLarge
                out.write(block)
        if size == 0 and not upload.filename:
            raise NoFile
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        return Received(target, (upload.filename or label)[:200].replace("\0", ""), fields)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        await form.close()


class RateLimit:
    """At most ``per_minute`` uploads per link in any 60 seconds."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._times: dict[str, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        times = self._times[key]
        while times and now - times[0] >= 60:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        return True


async def bounded_form(request: Request, limit: int) -> dict[str, str]:
    """A small form's text fields; ``TooLarge`` past ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    form = await Request(request.scope, _bounded(request.receive, limit)).form(max_files=0)
    try:
        return {k: v for k, v in form.items() if isinstance(v, str)}
    finally:
        await form.close()


__all__ = ["ClientDisconnect", "NoFile", "RateLimit", "Received", "TooLarge", "receive_upload"]
