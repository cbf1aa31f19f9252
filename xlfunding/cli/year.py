"""Last year's annex brought in: the import command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlfunding.cli import common


def import_(
    source: Annotated[
        Path,
        typer.Argument(
            help="L'annexe de l'an dernier : son texte (.txt, copié du PDF ou du Word) ou une "
            "annexe .xlsx écrite par xlfunding.",
            dir_okay=False,
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Modèle rempli à écrire.", dir_okay=False)
    ],
    add_funders: Annotated[
        str | None,
        typer.Option(
            "--add-funders",
            metavar="GROUPE",
            help="Ajouter tout financeur inconnu des paramètres à ce groupe de la synthèse ; "
            "les paramètres ainsi étendus sont écrits à côté du modèle (FICHIER.toml).",
        ),
    ] = None,
    settings: common.SettingsOption = None,
    json_out: common.JsonOption = False,
    force: common.ForceOption = False,
) -> None:
    """Importe l'annexe de l'an dernier dans un modèle rempli, en vérifiant ses totaux.

    Chaque action doit s'équilibrer, et les totaux de l'annexe correspondre aux actions.
    Les lignes incomprises sont signalées et recopiées dans l'onglet « Non importé ».
    Code de sortie : 0 importée sans problème ; 1 importée, problèmes signalés ;
    2 fichier illisible ou mauvais usage.
    Exemple : xlfunding import annexe-2025.txt -o programme.xlsx
    """
    from xlfunding.year.importer import import_annex
    from xlfunding.year.prefilled import import_summary, write_import

    chosen = common.load(settings)
    result = import_annex(source, chosen, add_funders=add_funders)
    written, toml = write_import(result, output, force=force)
    if result.problems or json_out:
        common.show(result.report, json_out)
    for line in import_summary(result, written, toml):
        common.say(line)
    raise typer.Exit(1 if result.problems else 0)
