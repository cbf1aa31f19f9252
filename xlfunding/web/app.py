"""The application: its settings (``ServeConfig``), the pieces every page shares (``Server``)
and the routes. The pages are in ``sponsor``, ``staff`` and ``api``."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xlfunding.settings import Settings
from xlfunding.web.checks import Checker
from xlfunding.web.links import load_secret, sponsor_links
from xlfunding.web.store import Store
from xlfunding.web.uploads import RateLimit

PASSWORD_ENV = "XLFUNDING_SUIVI_MOT_DE_PASSE"
HERE = Path(__file__).resolve().parent
NOT_FOUND = "Page introuvable."
WORK_PREFIX = "xlfunding-serve-"  # then the server's pid: the folders of dead ones are removed
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # a sponsor's link never leaves in a Referer
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}


@dataclass
class ServeConfig:
    """What ``xlfunding serve`` was given. ``outputs``: where the staff's consolidations go
    (by default the folder ``<inbox>-suivi`` beside the inbox, never inside it)."""

    inbox: Path
    settings: Settings
    outputs: Path | None = None
    max_bytes: int = 5 * 1024 * 1024
    per_minute: int = 10
    processes: int = 2
    password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.inbox = Path(self.inbox)
        if self.outputs is None:
            self.outputs = self.inbox.resolve().parent / f"{self.inbox.resolve().name}-suivi"
        if self.password is None:
            self.password = os.environ.get(PASSWORD_ENV) or dict(self.settings.server).get(
                "mot_de_passe_suivi"
            )


class Server:
    """The state every page shares: the store, the links, the checker, the limits."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.settings = config.settings
        self.secret = load_secret(config.inbox, config.settings)
        self.links = sponsor_links(self.secret, config.settings.sponsors)
        self.store = Store(config.inbox, config.settings.sponsors)
        self.limit = RateLimit(config.per_minute)
        self.logins = RateLimit(10)
        self.checker: Checker | None = None
        self._workdir: Path | None = None
        self.state: dict[str, Any] = {}  # the staff page's last consolidation
        self.pages = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    def start(self) -> None:
        # the heavy imports (pandas, pandera), once
        import xlfunding.month.consolidate
        import xlfunding.validate  # noqa: F401

        self.store.sweep()
        self._workdir = make_workdir()
        self.checker = Checker(self.settings, self.config.processes)
        self.checker.warm(self.workdir)

    def stop(self) -> None:
        if self.checker is not None:
            self.checker.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    @property
    def workdir(self) -> Path:
        """The uploads' work folder, made by ``start`` and removed by ``stop``."""
        if self._workdir is None:
            raise RuntimeError("serveur non démarré : pas de dossier de travail (bogue)")
        return self._workdir

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        values.setdefault("settings", self.settings)
        return HTMLResponse(self.pages.get_template(name).render(**values), status)


def make_workdir(root: Path | None = None) -> Path:
    """A new work folder in ``root`` (the system's temporary folder), named after this
    process, ``xlfunding-serve-<pid>-…``; first those of servers no longer running are removed
    (a server killed by SIGKILL cannot remove its own)."""
    root = Path(root or tempfile.gettempdir())
    for folder in root.glob(f"{WORK_PREFIX}*-*"):
        pid = folder.name.removeprefix(WORK_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=root))


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists (another user's counts; off POSIX, always assumed)."""
    if os.name != "posix" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # someone else's (PermissionError), or no pid at all
        return True
    return True


class SecurityHeaders:
    """The same defensive headers on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, sending)


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return PlainTextResponse(NOT_FOUND, 404)
    if status == 405:
        return PlainTextResponse("Méthode non permise.", 405)
    return PlainTextResponse("Erreur.", status)


def create_app(config: ServeConfig) -> Starlette:
    from xlfunding.web import api, sponsor, staff

    server = Server(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        server.start()
        try:
            yield
        finally:
            server.stop()

    routes = [
        *sponsor.routes(server),
        *staff.routes(server),
        *api.routes(server),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        Route("/", lambda request: PlainTextResponse(NOT_FOUND, 404)),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: _not_found},
        lifespan=lifespan,
    )
    app.state.server = server
    return app
