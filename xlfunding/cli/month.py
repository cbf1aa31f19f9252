"""The monthly consolidation command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlfunding.cli import common


def consolidate(
    inbox: Annotated[Path, typer.Argument(help="Dossier où arrivent les retours des porteurs.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Annexe consolidée à écrire.", dir_okay=False)
    ],
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Rapport Excel : un fichier par ligne, chaque problème à sa cellule.",
            dir_okay=False,
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="N'écrire aucune annexe si un fichier a une erreur.")
    ] = False,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="Annexe du mois précédent : ajoute l'onglet « Évolutions ».",
            dir_okay=False,
        ),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            help="Dossier du cache (défaut : .xlfunding-cache dans le dossier des retours) : "
            "un fichier inchangé n'est pas relu.",
            file_okay=False,
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Tout relire, sans lire ni écrire de cache.")
    ] = False,
    archive: Annotated[
        Path | None,
        typer.Option(
            "--archive",
            help="Archive .zip des fichiers lus, de leur SHA-256 et du rapport JSON.",
            dir_okay=False,
        ),
    ] = None,
    sources: common.SourcesOption = False,
    decision: common.DecisionOption = None,
    date_decision: common.DecisionDateOption = None,
    settings: common.SettingsOption = None,
    json_out: common.JsonOption = False,
    force: common.ForceOption = False,
) -> None:
    """Consolide tous les retours d'un dossier en une annexe et un rapport.

    Ne s'arrête jamais sur un fichier abîmé : il est signalé et la consolidation continue.
    Un fichier déjà lu, aux mêmes octets, est repris du cache (--no-cache : tout relire).
    Code de sortie : 0 tout est accepté, 1 consolidation incomplète (voir le rapport),
    2 mauvais usage. Exemple : xlfunding consolidate retours/ -o annexe-2025-11.xlsx
    --report rapport-2025-11.xlsx
    """
    from xlfunding.month.job import run_consolidate

    if no_cache and cache is not None:
        raise typer.BadParameter("--cache et --no-cache ne vont pas ensemble")

    raise typer.Exit(
        run_consolidate(
            inbox,
            output,
            report=report,
            json_out=json_out,
            strict=strict,
            previous=previous,
            show_sources=sources,
            force=force,
            settings=common.with_decision(common.load(settings), decision, date_decision),
            cache=False if no_cache else cache or True,
            archive=archive,
        )
    )
