"""What every command shares: its options, how it speaks, and its exit codes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xlfunding.cli.plain import checked, exit_code, say, show

if TYPE_CHECKING:
    from xlfunding.settings import Settings

__all__ = ["checked", "exit_code", "load", "say", "show", "with_decision"]

SettingsOption = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        "-s",
        help="Fichier de paramètres TOML (défaut : Libercourt 2025 fourni).",
        dir_okay=False,
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Remplacer un fichier existant.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Rapport JSON sur la sortie standard.")]
SourcesOption = Annotated[
    bool,
    typer.Option(
        "--sources", help="Afficher la colonne « Source » (fichier et ligne de chaque action)."
    ),
]
DecisionOption = Annotated[
    str | None,
    typer.Option(
        "--decision",
        help="Référence de la délibération du conseil (par exemple DELIB-2024-1179) ; "
        "remplace celle des paramètres.",
    ),
]
DecisionDateOption = Annotated[
    dt.datetime | None,
    typer.Option(
        "--date-decision",
        formats=["%Y-%m-%d"],
        metavar="AAAA-MM-JJ",
        help="Date de la délibération ; remplace celle des paramètres.",
    ),
]


def load(path: Path | None) -> Settings:
    from xlfunding.settings import load_settings

    return load_settings(path)


def with_decision(settings: Settings, reference: str | None, date: dt.datetime | None) -> Settings:
    """The settings with the decision given on the command line, where given."""
    from dataclasses import replace

    from xlfunding.identity import Decision

    if reference is None and date is None:
        return settings
    known = settings.decision
    chosen = Decision(reference or known.reference, date.date() if date else known.date)
    return replace(settings, decision=chosen)
