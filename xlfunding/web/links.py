"""The server's secret and each sponsor's personal link: HMAC-SHA256 of the sponsor, in
base64url (256 bits), so a link cannot be guessed and names no one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from xlfunding.errors import OutputError

if TYPE_CHECKING:
    from xlfunding.settings import Settings

SECRET_FILE = ".xlfunding-secret"
SECRET_ENV = "XLFUNDING_SECRET"


def load_secret(inbox: Path, settings: Settings | None = None) -> bytes:
    """The key of the links: ``XLFUNDING_SECRET``, else the settings' ``[serveur] secret``,
    else ``<inbox>/.xlfunding-secret`` (made once, readable by its owner only)."""
    configured = dict(settings.server).get("secret") if settings is not None else None
    given = os.environ.get(SECRET_ENV) or configured
    if given:
        return given.encode("utf-8")
    path = inbox / SECRET_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(32).encode("ascii")
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server made it meanwhile: use theirs
        return path.read_bytes().strip()
    except OSError as exc:
        why = f"le secret des liens ne peut pas être écrit ({exc.strerror})"
        raise OutputError(path, why) from exc
    with os.fdopen(handle, "wb") as stream:
        stream.write(key + b"\n")
    return key


def sign(secret: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for ``purpose``, in base64url without padding."""
    digest = hmac.new(secret, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sponsor_links(secret: bytes, sponsors: tuple[str, ...], site: str = "") -> dict[str, str]:
    """Each sponsor's link, by sponsor: its token alone, or with ``site`` (the drop zone's
    address, « https://depot.ville.fr ») the whole address of its page, ``site/depot/token``."""
    tokens = {sponsor: sign(secret, "depot", sponsor) for sponsor in sponsors}
    if not site:
        return tokens
    return {sponsor: f"{site.rstrip('/')}/depot/{token}" for sponsor, token in tokens.items()}


def sponsor_of(token: str | None, links: Mapping[str, str]) -> str | None:
    """The sponsor whose token this is, compared in constant time; None for anything else."""
    if not token or len(token) > 100:
        return None
    found = None
    for sponsor, expected in links.items():
        if hmac.compare_digest(token.encode("ascii", "replace"), expected.encode("ascii")):
            found = sponsor
    return found
