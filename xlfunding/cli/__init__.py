"""Command line: each command parses, calls one library function, renders, and exits.

Exit codes: 0 done (warnings allowed), 1 the data has errors (or the run is incomplete),
2 misuse or a file that cannot be read or written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xlfunding.cli.french import FrenchCommand, FrenchGroup
from xlfunding.errors import XlfundingError
from xlfunding.render import totals_line

if TYPE_CHECKING:
    from xlfunding.settings import Settings


class _Group(FrenchGroup):
    """Misuse and unreadable files end in one French sentence and exit code 2, no traceback."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except XlfundingError as exc:
            typer.echo(f"✗ {exc.message}", err=True)
            raise typer.Exit(2) from exc


app = typer.Typer(
    cls=_Group,
    help="xlfunding : programmation politique de la ville — modèle Excel des porteurs, "
    "contrôle des retours, annexe du conseil municipal et consolidation mensuelle.",
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

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


def _settings(path: Path | None):  # type: ignore[no-untyped-def]
    from xlfunding.settings import load_settings

    return load_settings(path)


def _say(text: str) -> None:
    typer.echo(text, err=True)


@app.command(cls=FrenchCommand)
def template(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Classeur à écrire.", dir_okay=False)
    ] = None,
    sponsor: Annotated[
        str | None,
        typer.Option("--sponsor", help="Pré-remplir et verrouiller le modèle pour ce porteur."),
    ] = None,
    all_sponsors: Annotated[
        Path | None,
        typer.Option(
            "--all-sponsors", help="Écrire un modèle par porteur dans ce dossier.", file_okay=False
        ),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Pré-remplir avec les actions de ce fichier : modèle rempli (vérifié avec "
            "--settings), annexe .xlsx écrite par xlfunding ou texte d'une annexe.",
            dir_okay=False,
        ),
    ] = None,
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            min=2000,
            max=2100,
            help="Année du nouveau modèle : les paramètres (année, années du titre et de la date "
            "limite) passent à cette année et sont écrits à côté, parametres-ANNÉE.toml.",
        ),
    ] = None,
    sans_montants: Annotated[
        bool,
        typer.Option(
            "--sans-montants",
            help="Avec --from : reprendre les actions sans leurs montants (coût total et "
            "financeurs vides, à remplir par les porteurs).",
        ),
    ] = False,
    settings: SettingsOption = None,
    force: ForceOption = False,
) -> None:
    """Écrit le modèle Excel à envoyer aux porteurs.

    Exemple : xlfunding template -o modele-2025.xlsx
    L'an suivant, pré-rempli avec les actions de l'année, sans leurs montants :
    xlfunding template --from programme.xlsx --year 2026 --all-sponsors envois/ --sans-montants
    """
    from xlfunding.write.template import write_all_sponsors, write_template

    chosen = _settings(settings)
    if (output is None) == (all_sponsors is None):
        raise typer.BadParameter("donnez soit -o FICHIER, soit --all-sponsors DOSSIER")
    if sans_montants and source is None:
        raise typer.BadParameter("--sans-montants ne s'utilise qu'avec --from FICHIER")
    if all_sponsors is None and sponsor is not None and sponsor not in chosen.sponsors:
        raise typer.BadParameter(
            f"porteur inconnu « {sponsor} » (connus : {', '.join(chosen.sponsors)})",
            param_hint="--sponsor",
        )
    if source is not None or year is not None:
        _renew(source, chosen, year, sans_montants, all_sponsors, output, sponsor, force)
        return
    if all_sponsors is not None:
        for path in write_all_sponsors(chosen, all_sponsors, force=force):
            _say(f"✓ {path}")
        return
    assert output is not None
    write_template(chosen, output, sponsor=sponsor, force=force)
    _say(f"✓ {output}")


def _renew(
    source: Path | None,
    chosen: Settings,
    year: int | None,
    sans_montants: bool,
    folder: Path | None,
    output: Path | None,
    sponsor: str | None,
    force: bool,
) -> None:
    """``template --from/--year``: next year's templates, pre-filled, and their settings."""
    from xlfunding.year.prefilled import renewal_summary, write_renewed
    from xlfunding.year.renew import renew

    renewal = renew(source, chosen, year=year, clear_amounts=sans_montants)
    if renewal.report.problems:
        _show(renewal.report, False)
    if not renewal.report.valid:
        _say(f"✗ modèles non écrits : corrigez d'abord les erreurs de {source}.")
        raise typer.Exit(_exit_code(renewal.report))
    inputs = [p for p in (source, chosen.path) if p is not None]
    paths, toml = write_renewed(
        renewal, folder=folder, output=output, sponsor=sponsor, force=force, inputs=inputs
    )
    for line in renewal_summary(renewal, paths, toml):
        _say(line)


@app.command("import", cls=FrenchCommand)
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
    settings: SettingsOption = None,
    json_out: JsonOption = False,
    force: ForceOption = False,
) -> None:
    """Importe l'annexe de l'an dernier dans un modèle rempli, en vérifiant ses totaux.

    Chaque action doit s'équilibrer, et les totaux de l'annexe correspondre aux actions.
    Les lignes incomprises sont signalées et recopiées dans l'onglet « Non importé ».
    Code de sortie : 0 importée sans problème ; 1 importée, problèmes signalés ;
    2 fichier illisible ou mauvais usage.
    Exemple : xlfunding import annexe-2025.txt -o programme.xlsx
    """
    from xlfunding.text import name_key
    from xlfunding.year.importer import import_annex
    from xlfunding.year.prefilled import import_summary, write_import

    chosen = _settings(settings)
    if add_funders is not None and name_key(add_funders) not in {
        name_key(g) for g in chosen.groups
    }:
        raise typer.BadParameter(
            f"groupe inconnu « {add_funders} » (groupes : {', '.join(chosen.groups)})",
            param_hint="--add-funders",
        )
    result = import_annex(source, chosen, add_funders=add_funders)
    written, toml = write_import(result, output, force=force)
    if result.problems or json_out:
        _show(result.report, json_out)
    for line in import_summary(result, written, toml):
        _say(line)
    raise typer.Exit(1 if result.problems else 0)


@app.command(cls=FrenchCommand)
def validate(
    files: Annotated[list[Path], typer.Argument(help="Modèles remplis à vérifier.")],
    settings: SettingsOption = None,
    json_out: JsonOption = False,
    corrections: Annotated[
        Path | None,
        typer.Option(
            "--corrections",
            help="Écrire une copie du classeur avec les cellules à corriger "
            "surlignées et un onglet « À corriger » (un seul fichier vérifié).",
            dir_okay=False,
        ),
    ] = None,
    force: ForceOption = False,
) -> None:
    """Vérifie des modèles remplis et signale chaque problème à sa cellule.

    Code de sortie : 0 valide (avertissements permis), 1 erreurs, 2 fichier illisible.
    Exemple : xlfunding validate retour-ccas.xlsx --corrections a-corriger.xlsx
    """
    from xlfunding.validate import validate_files

    if corrections is not None and len(files) != 1:
        raise typer.BadParameter("--corrections ne s'utilise qu'avec un seul fichier")
    report = validate_files(files, _settings(settings))
    _show(report, json_out)
    if corrections is not None and not report.unreadable:
        from xlfunding.write.corrections import write_corrections

        write_corrections(files[0], report, corrections, force=force)
        _say(f"✓ copie à corriger : {corrections}")
    raise typer.Exit(_exit_code(report))


@app.command(cls=FrenchCommand)
def annex(
    files: Annotated[list[Path], typer.Argument(help="Modèles remplis (un ou plusieurs).")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Annexe à écrire (.xlsx).", dir_okay=False)
    ],
    settings: SettingsOption = None,
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf", help="Exporter aussi l'annexe en PDF (LibreOffice), à côté du .xlsx."
        ),
    ] = False,
    sources: SourcesOption = False,
    json_out: JsonOption = False,
    force: ForceOption = False,
) -> None:
    """Écrit l'annexe du conseil municipal (tableau, totaux, synthèse en pourcentages).

    Les fichiers sont d'abord vérifiés : s'il reste une erreur, l'annexe n'est pas écrite.
    Exemple : xlfunding annex examples/programmation-2025.xlsx -o annexe-2025.xlsx
    """
    from xlfunding.model import Programme
    from xlfunding.validate import validate_files
    from xlfunding.write.annex import export_pdf, write_annex

    chosen = _settings(settings)
    report = validate_files(files, chosen)
    if not report.valid:
        _show(report, json_out)
        _say("✗ annexe non écrite : corrigez d'abord les erreurs ci-dessus.")
        raise typer.Exit(_exit_code(report))
    if json_out:
        _show(report, json_out)
    programme = Programme(chosen, tuple(report.actions))
    write_annex(programme, output, force=force, show_sources=sources, inputs=files)
    _say(f"✓ {output}")
    _say(totals_line(programme))
    if pdf:
        target = export_pdf(output, output.with_suffix(".pdf"), force=force)
        _say(f"✓ {target}")


@app.command(cls=FrenchCommand)
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
    sources: SourcesOption = False,
    settings: SettingsOption = None,
    json_out: JsonOption = False,
    force: ForceOption = False,
) -> None:
    """Consolide tous les retours d'un dossier en une annexe et un rapport.

    Ne s'arrête jamais sur un fichier abîmé : il est signalé et la consolidation continue.
    Code de sortie : 0 tout est accepté, 1 consolidation incomplète (voir le rapport),
    2 mauvais usage. Exemple : xlfunding consolidate retours/ -o annexe-2025-11.xlsx
    --report rapport-2025-11.xlsx
    """
    from xlfunding.month.job import run_consolidate

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
            settings=_settings(settings),
        )
    )


def _show(report, json_out: bool) -> None:  # type: ignore[no-untyped-def]
    from xlfunding.render import report_text, write_json

    if json_out:
        write_json(report.to_dict(), sys.stdout)
    elif len(report.files) == 1 and report.unreadable:
        _say(f"✗ {report.files[0]} : {report.problems[0].message}")
    else:
        typer.echo(report_text(report))


def _exit_code(report) -> int:  # type: ignore[no-untyped-def]
    return 2 if report.unreadable else 0 if report.valid else 1


def main() -> None:
    app()
