"""The open data commands: the SCDL « Subventions » export and each funder's statement."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xlfunding.cli import common

if TYPE_CHECKING:
    import datetime as dt

    from xlfunding.model import Programme
    from xlfunding.opendata.scdl import Export

SourceArgument = Annotated[
    Path,
    typer.Argument(
        help="Une annexe écrite par xlfunding (.xlsx), ou le dossier des retours des porteurs "
        "(consolidé comme par « consolidate »)."
    ),
]


def scdl(
    source: SourceArgument,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Fichier CSV à écrire.", dir_okay=False)
    ],
    attribuant: Annotated[
        str | None,
        typer.Option("--attribuant", help="Le financeur qui publie (par exemple Ville)."),
    ] = None,
    tous: Annotated[
        bool,
        typer.Option("--tous", help="Tous les financeurs dont les paramètres donnent le SIRET."),
    ] = False,
    tout: Annotated[
        bool,
        typer.Option(
            "--tout",
            help="Toutes les subventions, pas seulement celles des couples financeur–"
            "bénéficiaire qui atteignent 23 000 € dans l'année.",
        ),
    ] = False,
    notification_ue: Annotated[
        bool,
        typer.Option("--notification-ue", help="notificationUE « oui » (« non » sinon)."),
    ] = False,
    decision: common.DecisionOption = None,
    date_decision: common.DecisionDateOption = None,
    settings: common.SettingsOption = None,
    force: common.ForceOption = False,
) -> None:
    """Écrit les subventions au format SCDL « Subventions » 2.1.1 (données ouvertes).

    Une ligne par action financée, montant = la part du financeur. Par défaut, seuls les
    couples financeur–bénéficiaire qui atteignent 23 000 € dans l'année (convention
    obligatoire) ; le fichier est vérifié contre le schéma avant d'être écrit.
    Code de sortie : 0 écrit ; 1 un SIRET, la date de la décision ou une valeur manque (rien
    n'est écrit) ; 2 mauvais usage.
    Exemple : xlfunding scdl annexe-2025.xlsx -o subventions-2025.csv --attribuant Ville
    """
    from xlfunding.opendata.publish import write_scdl
    from xlfunding.opendata.scdl import funder_code, publishing_funders, scdl_export
    from xlfunding.problems import Report

    if (attribuant is None) == (not tous):
        raise typer.BadParameter("donnez soit --attribuant FINANCEUR, soit --tous")
    programme, inputs = _programme(source, settings, decision, date_decision)
    chosen = programme.settings
    if attribuant is not None:
        funders: tuple[str, ...] = (funder_code(chosen, attribuant),)
    else:
        funders = publishing_funders(chosen)
        if not funders:
            raise typer.BadParameter(
                "aucun financeur n'a de SIRET dans les paramètres ([identity.NOM] siret = …)"
            )
    export = scdl_export(
        programme,
        funders,
        decision=chosen.decision,
        everything=tout,
        notification_ue=notification_ue,
    )
    for line in _pairs_lines(export):
        common.say(line)
    problems = export.problems or write_scdl(export, output, force=force, inputs=inputs)
    if problems:
        common.show(Report(files=[source], problems=problems), False)
        common.say(f"✗ {output} non écrit.")
        raise typer.Exit(1)
    totals = " · ".join(f"{code} {_euros(export.total(code))}" for code in funders)
    common.say(f"✓ {output} : {len(export.rows)} subventions ({totals})")


def _programme(
    source: Path, settings: Path | None, decision: str | None, date: dt.datetime | None
) -> tuple[Programme, list[Path]]:
    """The programme of an annex, or of a folder consolidated, its settings given the
    council's decision, and the files the output must not overwrite; exit 1 if the folder
    has errors (a publication never leaves out a grant without a word)."""
    from xlfunding.model import Programme
    from xlfunding.opendata.publish import read_programme

    programme, consolidation = read_programme(
        source, common.load(settings) if settings or source.is_dir() else None
    )
    if consolidation is not None and not consolidation.valid:
        common.show(consolidation, False)
        common.say("✗ consolidation incomplète : corrigez d'abord les retours ci-dessus.")
        raise typer.Exit(1)
    chosen = common.with_decision(programme.settings, decision, date)
    inputs = [p for p in (source, chosen.path, settings) if p]
    return Programme(chosen, programme.actions), inputs


def _euros(amount: Decimal) -> str:
    from xlfunding.money import format_euros

    return format_euros(amount)


def _pairs_lines(export: Export) -> list[str]:
    """The pairs that reach the threshold: the conventions required."""
    due = export.due
    if not due:
        return [
            "Aucun couple financeur–bénéficiaire n'atteint 23 000 € : aucune convention "
            "obligatoire."
        ]
    lines = ["Conventions obligatoires (23 000 € atteints par un financeur pour un bénéficiaire) :"]
    for pair in due:
        lines.append(
            f"  {pair.funder} → {pair.beneficiary} : {_euros(pair.amount)} "
            f"({pair.actions} action{'s' if pair.actions > 1 else ''})"
        )
    return lines


def etat_financeur(
    source: SourceArgument,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Classeur à écrire (.xlsx).", dir_okay=False)
    ],
    groupe: Annotated[
        list[str] | None,
        typer.Option(
            "--groupe",
            help="Le groupe de financeurs (par exemple CAF) ; à répéter ; tous par défaut.",
        ),
    ] = None,
    decision: common.DecisionOption = None,
    date_decision: common.DecisionDateOption = None,
    settings: common.SettingsOption = None,
    force: common.ForceOption = False,
) -> None:
    """Écrit l'état de chaque financeur : un onglet par groupe de la synthèse, avec les
    actions qu'il finance, son montant, sa part du coût de chaque action et son total.

    C'est ce que la CAF ou le délégué du préfet demande à la ville après le vote.
    Exemple : xlfunding etat-financeur annexe-2025.xlsx -o etats-2025.xlsx --groupe CAF
    """
    from xlfunding.opendata.statement import write_statements

    programme, inputs = _programme(source, settings, decision, date_decision)
    written = write_statements(programme, output, groupe or None, force=force, inputs=inputs)
    common.say(f"✓ {output}")
    for statement in written:
        plural = "s" if len(statement.actions) > 1 else ""
        common.say(
            f"  {statement.group} : {len(statement.actions)} action{plural}, "
            f"{_euros(statement.total)}"
        )
