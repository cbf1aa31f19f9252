"""The staff page, ``/suivi``: a password (never in the URL) opens a signed session cookie
(HttpOnly, SameSite=Strict); every form carries a CSRF token bound to the session. One row per
sponsor, the running totals and shares, and the consolidation button (``follow``)."""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import time
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from xlfunding.web import follow
from xlfunding.web.links import sign
from xlfunding.web.sponsor import attachment
from xlfunding.web.uploads import TooLarge, bounded_form

if TYPE_CHECKING:
    from xlfunding.web.app import Server

COOKIE = "xlfunding_suivi"
SESSION_SECONDS = 12 * 3600
FILE_NAME = re.compile(r"(annexe|rapport)-\d{8}-\d{6}\.(xlsx|pdf)")
RUN_NAME = re.compile(r"\d{8}-\d{6}")


class Session:
    """``sid.issued.auth`` signed with the server's secret."""

    def __init__(self, sid: str, issued: int, auth: bool) -> None:
        self.sid, self.issued, self.auth = sid, issued, auth

    @classmethod
    def fresh(cls, auth: bool = False) -> Session:
        return cls(secrets.token_urlsafe(18), int(time.time()), auth)

    @classmethod
    def read(cls, server: Server, value: str | None) -> Session | None:
        try:
            sid, issued, auth, signature = (value or "").split(".")
            body = f"{sid}.{issued}.{auth}"
            if not hmac.compare_digest(signature, sign(server.secret, "session", body)):
                return None
            if time.time() - int(issued) > SESSION_SECONDS:
                return None
            return cls(sid, int(issued), auth == "1")
        except ValueError:
            return None

    def cookie(self, server: Server) -> str:
        body = f"{self.sid}.{self.issued}.{int(self.auth)}"
        return f"{body}.{sign(server.secret, 'session', body)}"

    def csrf(self, server: Server) -> str:
        return sign(server.secret, "csrf-suivi", self.sid)


def _set(response: Response, server: Server, session: Session, request: Request) -> Response:
    response.set_cookie(
        COOKIE,
        session.cookie(server),
        max_age=SESSION_SECONDS,
        path="/suivi",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def routes(server: Server) -> list[Route]:
    def session_of(request: Request) -> Session | None:
        return Session.read(server, request.cookies.get(COOKIE))

    def disabled() -> Response:
        return server.page(
            "message.html",
            403,
            title="Suivi désactivé",
            text="Aucun mot de passe n'est défini : lancez le serveur avec la "
            "variable XLFUNDING_SUIVI_MOT_DE_PASSE, ou la clé [serveur] "
            "mot_de_passe_suivi des paramètres.",
        )

    async def posted(request: Request, session: Session | None) -> dict[str, str] | None:
        """The form's fields if its CSRF token is this session's, else None."""
        try:
            fields = await bounded_form(request, 16 * 1024)
        except TooLarge:
            return None
        given = fields.get("csrf", "")
        if session is None or not hmac.compare_digest(given, session.csrf(server)):
            return None
        return fields

    def expired() -> Response:
        return server.page(
            "message.html",
            403,
            title="Formulaire expiré",
            text="Rechargez la page /suivi et recommencez.",
        )

    async def page(request: Request) -> Response:
        if not server.config.password:
            return disabled()
        session = session_of(request)
        if session is None or not session.auth:
            session = session or Session.fresh()
            return _set(login_page(server, session), server, session, request)
        view = await asyncio.to_thread(follow.overview, server)
        return server.page("suivi.html", csrf=session.csrf(server), **view)

    async def login(request: Request) -> Response:
        if not server.config.password:
            return disabled()
        session = session_of(request)
        fields = await posted(request, session)
        if fields is None or session is None:
            return expired()
        host = request.client.host if request.client else "?"
        if not server.logins.allow(host):
            return server.page(
                "message.html",
                429,
                title="Trop d'essais",
                text="Attendez une minute avant de réessayer.",
            )
        password = fields.get("mot_de_passe", "")
        if not hmac.compare_digest(password.encode(), server.config.password.encode()):
            return _set(login_page(server, session, wrong=True), server, session, request)
        return _set(RedirectResponse("/suivi", 303), server, Session.fresh(auth=True), request)

    async def logout(request: Request) -> Response:
        session = session_of(request)
        if await posted(request, session) is None:
            return expired()
        response = RedirectResponse("/suivi", 303)
        response.delete_cookie(COOKIE, path="/suivi", httponly=True, samesite="strict")
        return response

    async def consolidate(request: Request) -> Response:
        session = session_of(request)
        if not server.config.password or session is None or not session.auth:
            return RedirectResponse("/suivi", 303)
        if await posted(request, session) is None:
            return expired()
        await asyncio.to_thread(follow.run, server)
        return RedirectResponse("/suivi#consolidation", 303)

    async def download(request: Request) -> Response:
        session = session_of(request)
        if not server.config.password or session is None or not session.auth:
            return Response("Page introuvable.", 404, media_type="text/plain")
        run, name = request.path_params["run"], request.path_params["name"]
        assert server.config.outputs is not None
        path = server.config.outputs / run / name
        if not (RUN_NAME.fullmatch(run) and FILE_NAME.fullmatch(name) and path.is_file()):
            return Response("Page introuvable.", 404, media_type="text/plain")
        return attachment(path, name)

    return [
        Route("/suivi", page, methods=["GET"]),
        Route("/suivi/connexion", login, methods=["POST"]),
        Route("/suivi/deconnexion", logout, methods=["POST"]),
        Route("/suivi/consolider", consolidate, methods=["POST"]),
        Route("/suivi/fichiers/{run}/{name}", download, methods=["GET"]),
    ]


def login_page(server: Server, session: Session, wrong: bool = False) -> Response:
    return server.page(
        "connexion.html", 403 if wrong else 200, csrf=session.csrf(server), wrong=wrong
    )
