"""The sponsor's page, ``/depot/<lien>``: the upload form, the report in place, the « À
corriger » copy to download, the earlier sends. Works as a plain form post; the page's script
only adds drag and drop and a progress bar. A wrong link is a bare 404."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from xlfunding.money import ZERO, format_euros
from xlfunding.month.inbox import sha256_of
from xlfunding.problems import Report, Severity
from xlfunding.render import problem_groups, verdict
from xlfunding.web.links import sign, sponsor_of
from xlfunding.web.store import REFUSED_STATUS, SAVED, Send
from xlfunding.web.uploads import ClientDisconnect, NoFile, Received, TooLarge, receive_upload

if TYPE_CHECKING:
    from xlfunding.web.app import Server
    from xlfunding.web.checks import Outcome

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Deposit:
    """One upload, checked and filed."""

    send: Send
    report: Report
    corrections_error: str | None = None


def routes(server: Server) -> list[Route]:
    async def page(request: Request) -> Response:
        sponsor = sponsor_of(request.path_params["token"], server.links)
        if sponsor is None:
            return _404()
        return _depot_page(server, request, sponsor)

    async def upload(request: Request) -> Response:
        sponsor = sponsor_of(request.path_params["token"], server.links)
        if sponsor is None:
            return _404()
        outcome = await deposit(server, request, sponsor, form=True)
        if isinstance(outcome, Response):
            return outcome
        return _depot_page(server, request, sponsor, outcome)

    async def corrections(request: Request) -> Response:
        sponsor = sponsor_of(request.path_params["token"], server.links)
        path = sponsor and server.store.corrections_file(sponsor, request.path_params["stem"])
        if not sponsor or not path:
            return _404()
        return attachment(path, f"a-corriger-{path.name}")

    return [
        Route("/depot/{token}", page, methods=["GET"]),
        Route("/depot/{token}", upload, methods=["POST"]),
        Route("/depot/{token}/corrections/{stem}", corrections, methods=["GET"]),
    ]


def _404() -> Response:
    return PlainTextResponse("Page introuvable.", 404)


def attachment(path: Path, name: str) -> FileResponse:
    """A file to download, never to show: attachment, and its type not to be guessed."""
    media = XLSX if path.suffix == ".xlsx" else "application/pdf"
    response = FileResponse(path, media_type=media, filename=name)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def csrf_token(server: Server, sponsor: str) -> str:
    return sign(server.secret, "csrf-depot", sponsor)


async def deposit(
    server: Server, request: Request, sponsor: str, *, form: bool
) -> Deposit | Response:
    """Receive, check and file one upload of ``sponsor``; a Response says why not (413, 429,
    403, 400), as a page for the form, as JSON for the API."""
    config = server.config
    if not server.limit.allow(sponsor):
        return refusal(
            server,
            form,
            429,
            "Trop d'envois",
            f"Pas plus de {config.per_minute} "
            "envois par minute : attendez une minute et recommencez.",
        )
    try:
        received = await receive_upload(request, config.max_bytes, server.workdir)
    except TooLarge:
        return refusal(
            server,
            form,
            413,
            "Fichier trop gros",
            f"Le fichier dépasse {config.max_bytes / 1024 / 1024:.0f} Mo, la taille "
            "permise : un modèle rempli pèse bien moins. Vérifiez que c'est le bon "
            "fichier, ou enregistrez-le de nouveau au format .xlsx dans Excel.",
        )
    except NoFile:
        return refusal(
            server,
            form,
            400,
            "Aucun fichier",
            "Choisissez le classeur .xlsx à envoyer, puis cliquez sur « Envoyer ».",
        )
    except ClientDisconnect:
        return Response(status_code=400)
    try:
        if form and not hmac.compare_digest(
            received.fields.get("csrf", ""), csrf_token(server, sponsor)
        ):
            return refusal(
                server,
                form,
                403,
                "Formulaire expiré",
                "Rechargez la page et envoyez de nouveau le fichier.",
            )
        return await _check_and_file(server, sponsor, received)
    finally:
        received.discard()


async def _check_and_file(server: Server, sponsor: str, received: Received) -> Deposit:
    store = server.store
    stem = store.new_stem(received.name)
    corrections = store.corrections_path(sponsor, stem)
    assert server.checker is not None
    outcome = await server.checker.check(received.path, sponsor, corrections)
    report = outcome.report
    send = await asyncio.to_thread(_file, server, sponsor, received, stem, outcome)
    return Deposit(send, report, outcome.corrections_error)


def _file(server: Server, sponsor: str, received: Received, stem: str, outcome: Outcome) -> Send:
    """File the upload and its record (in a thread: the disk's waits never hold the server)."""
    report = outcome.report
    saved = server.store.save(received.path, sponsor, stem, report.valid)
    send = Send(
        stem=stem,
        sponsor=sponsor,
        file=saved.name,
        name=received.name,
        at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        status=SAVED if report.valid else REFUSED_STATUS,
        sha256=sha256_of(saved),
        actions=len(report.actions),
        total=str(sum((a.total for a in report.actions), start=ZERO)),
        errors=len(report.errors),
        warnings=len(report.warnings),
        corrections=outcome.corrections is not None,
    )
    server.store.record(send)
    return send


def refusal(server: Server, form: bool, status: int, title: str, text: str) -> Response:
    if form:
        return server.page("message.html", status, title=title, text=text)
    from starlette.responses import JSONResponse

    return JSONResponse({"erreur": title, "message": text}, status)


def report_view(report: Report) -> dict[str, Any]:
    """The report as the page shows it: grouped by code, counted, each problem at its cell."""
    groups = []
    for code, items in problem_groups(report):
        error = items[0].severity is Severity.ERROR
        groups.append(
            {
                "code": code,
                "title": items[0].title,
                "error": error,
                "count": len(items),
                "kind": ("erreur" if error else "avertissement") + ("s" if len(items) > 1 else ""),
                "problems": [(p.where or "—", p.message) for p in items],
            }
        )
    return {"groups": groups, "verdict": verdict(report), "valid": report.valid}


def _depot_page(
    server: Server, request: Request, sponsor: str, done: Deposit | None = None
) -> Response:
    token = request.path_params["token"]
    sends = server.store.sends(sponsor)
    return server.page(
        "depot.html",
        sponsor=sponsor,
        token=token,
        csrf=csrf_token(server, sponsor),
        max_mo=f"{server.config.max_bytes / 1024 / 1024:.0f}",
        done=done,
        report=report_view(done.report) if done else None,
        total=format_euros(sum((a.total for a in done.report.actions), start=ZERO)) if done else "",
        sends=sends,
        euros=euros,
    )


def euros(text: str) -> str:
    """A recorded amount (decimal text), in euros."""
    try:
        return format_euros(Decimal(text))
    except InvalidOperation:
        return "—"
