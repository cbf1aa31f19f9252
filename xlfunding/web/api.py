"""For scripts: ``POST /api/retours`` (multipart, the sponsor's link in a header) answers with
``validate --json``'s document; ``/openapi.json`` describes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from xlfunding.render import neutralise
from xlfunding.web.links import sponsor_of
from xlfunding.web.sponsor import Deposit, deposit

if TYPE_CHECKING:
    from xlfunding.web.app import Server

TOKEN_HEADER = "X-Xlfunding-Lien"


def routes(server: Server) -> list[Route]:
    async def upload(request: Request) -> Response:
        token = request.headers.get(TOKEN_HEADER)
        sponsor = sponsor_of(token, server.links)
        if sponsor is None:
            return JSONResponse({"erreur": "Page introuvable."}, 404)
        outcome = await deposit(server, request, sponsor, form=False)
        if not isinstance(outcome, Deposit):
            return outcome
        return JSONResponse(
            document(outcome),
            headers={"X-Xlfunding-Sha256": outcome.send.sha256},
        )

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    return [
        Route("/api/retours", upload, methods=["POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]


def document(done: Deposit) -> dict[str, Any]:
    """``validate --json``'s document for the upload, naming the file as the sender did (the
    work folder's path is ours), plus where it went: ``deposit``."""
    data = done.report.to_dict()
    ours = {str(path) for path in done.report.files}
    data["files"] = [done.send.name for _ in data["files"]]
    data["unreadable"] = [done.send.name for _ in data["unreadable"]]
    for problem in data["problems"]:
        if problem["file"] in ours:
            problem["file"] = done.send.name
    data["deposit"] = {
        "status": done.send.status,
        "file": done.send.file,
        "received_at": done.send.at,
        "sha256": done.send.sha256,
        "corrections": done.send.corrections,
    }
    return neutralise(data)


_REPORT = {
    "type": "object",
    "required": ["format", "valid", "files", "unreadable", "counts", "problems"],
    "properties": {
        "format": {"type": "integer", "enum": [1]},
        "valid": {"type": "boolean"},
        "files": {"type": "array", "items": {"type": "string"}},
        "unreadable": {"type": "array", "items": {"type": "string"}},
        "counts": {
            "type": "object",
            "properties": {
                name: {"type": "integer"}
                for name in ("actions", "rejected_rows", "errors", "warnings")
            }
            | {"by_code": {"type": "object", "additionalProperties": {"type": "integer"}}},
        },
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "severity": {"type": "string", "enum": ["error", "warning"]},
                    "file": {"type": ["string", "null"]},
                    "sheet": {"type": ["string", "null"]},
                    "cell": {"type": ["string", "null"]},
                    "value": {},
                    "message": {"type": "string"},
                },
            },
        },
        "deposit": {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["enregistré", "refusé"]},
                "file": {"type": "string", "description": "nom du fichier rangé"},
                "received_at": {"type": "string", "format": "date-time"},
                "sha256": {"type": "string"},
                "corrections": {"type": "boolean"},
            },
        },
    },
}
_ERROR = {
    "description": "Refusé",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"erreur": {"type": "string"}, "message": {"type": "string"}},
            }
        }
    },
}
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "xlfunding — dépôt des retours",
        "version": "1",
        "description": "Déposer le retour d'un porteur et recevoir le rapport de "
        "`xlfunding validate --json`. Le lien personnel du porteur va dans l'en-tête "
        f"`{TOKEN_HEADER}`.",
    },
    "components": {
        "securitySchemes": {"lien": {"type": "apiKey", "in": "header", "name": TOKEN_HEADER}},
        "schemas": {"Rapport": _REPORT},
    },
    "paths": {
        "/api/retours": {
            "post": {
                "summary": "Déposer un retour (.xlsx) et recevoir son rapport",
                "security": [{"lien": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["fichier"],
                                "properties": {"fichier": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Le rapport (valide : enregistré ; sinon : refusé)",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Rapport"}}
                        },
                    },
                    "400": _ERROR,
                    "404": _ERROR,
                    "413": _ERROR,
                    "429": _ERROR,
                },
            }
        }
    },
}
