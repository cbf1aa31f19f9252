"""The drop zone command: ``xlfunding serve DOSSIER``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlfunding.cli import common


def serve(
    inbox: Annotated[
        Path,
        typer.Argument(
            help="Dossier des retours : les dépôts y sont rangés, un dossier par porteur.",
            file_okay=False,
        ),
    ],
    port: Annotated[int, typer.Option("--port", help="Port d'écoute.", min=1, max=65535)] = 8000,
    host: Annotated[
        str, typer.Option("--host", help="Adresse d'écoute (127.0.0.1 : cette machine seule).")
    ] = "127.0.0.1",
    public_url: Annotated[
        str | None,
        typer.Option(
            "--adresse",
            help="Adresse publique du site, pour les liens affichés (défaut : http://HOST:PORT).",
        ),
    ] = None,
    outputs: Annotated[
        Path | None,
        typer.Option(
            "--sorties",
            help="Dossier des consolidations lancées depuis /suivi "
            "(défaut : DOSSIER-suivi, à côté du dossier des retours).",
            file_okay=False,
        ),
    ] = None,
    max_mb: Annotated[
        int, typer.Option("--taille-max", help="Taille maximale d'un dépôt, en Mo.", min=1)
    ] = 5,
    per_minute: Annotated[
        int,
        typer.Option("--envois-par-minute", help="Dépôts permis par lien et par minute.", min=1),
    ] = 10,
    processes: Annotated[
        int, typer.Option("--processus", help="Processus qui vérifient les dépôts.", min=1)
    ] = 2,
    settings: common.SettingsOption = None,
) -> None:
    """Lance le site de dépôt : chaque porteur dépose son retour sur son lien personnel et voit
    aussitôt ce qu'il doit corriger ; le suivi (/suivi) est protégé par le mot de passe
    XLFUNDING_SUIVI_MOT_DE_PASSE (ou [serveur] mot_de_passe_suivi des paramètres).

    Exemple : xlfunding serve examples/retours --port 8000
    """
    import uvicorn

    from xlfunding.web.app import ServeConfig, create_app
    from xlfunding.web.links import sponsor_links

    if not inbox.is_dir():
        raise typer.BadParameter(f"le dossier « {inbox} » n'existe pas", param_hint="DOSSIER")
    config = ServeConfig(
        inbox, common.load(settings), outputs, max_mb * 1024 * 1024, per_minute, processes
    )
    app = create_app(config)
    base = (public_url or f"http://{host}:{port}").rstrip("/")
    common.say(f"Dépôt des retours : {inbox} — un lien personnel par porteur :")
    server = app.state.server
    for sponsor, link in sponsor_links(server.secret, config.settings.sponsors, base).items():
        common.say(f"  {sponsor} : {link}")
    if config.password:
        common.say(f"Suivi : {base}/suivi")
    else:
        common.say("Suivi : désactivé (définissez XLFUNDING_SUIVI_MOT_DE_PASSE).")
    uvicorn.run(app, host=host, port=port, log_level="warning")
