"""The commands of staff who work in Excel: the template, checking a return, the annex."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xlfunding.cli import common
from xlfunding.render import totals_line

if TYPE_CHECKING:
    from xlfunding.settings import Settings


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
    deposit: Annotated[
        str | None,
        typer.Option(
            "--depot",
            help="Adresse du site de dépôt (xlfunding serve), par exemple "
            "https://depot.ville.fr : le lien personnel de chaque porteur est écrit dans son "
            "« Mode d'emploi ». Avec --retours.",
        ),
    ] = None,
    inbox: Annotated[
        Path | None,
        typer.Option(
            "--retours",
            help="Avec --depot : le dossier des retours de xlfunding serve (son secret fait "
            "les liens).",
            file_okay=False,
        ),
    ] = None,
    settings: common.SettingsOption = None,
    force: common.ForceOption = False,
) -> None:
    """Écrit le modèle Excel à envoyer aux porteurs.

    Exemple : xlfunding template -o modele-2025.xlsx
    L'an suivant, pré-rempli avec les actions de l'année, sans leurs montants :
    xlfunding template --from programme.xlsx --year 2026 --all-sponsors envois/ --sans-montants
    """
    from xlfunding.write.template import write_all_sponsors, write_template

    chosen = common.load(settings)
    if (output is None) == (all_sponsors is None):
        raise typer.BadParameter("donnez soit -o FICHIER, soit --all-sponsors DOSSIER")
    if sans_montants and source is None:
        raise typer.BadParameter("--sans-montants ne s'utilise qu'avec --from FICHIER")
    links = _links(chosen, deposit, inbox)
    if source is not None or year is not None:
        if links is not None:
            raise typer.BadParameter("--depot ne s'utilise pas avec --from ni --year")
        _renew(source, chosen, year, sans_montants, all_sponsors, output, sponsor, force)
        return
    if all_sponsors is not None:
        paths = write_all_sponsors(
            chosen, all_sponsors, force=force, inputs=[settings], links=links
        )
        for path in paths:
            common.say(f"✓ {path}")
        return
    assert output is not None
    link = (links or {}).get(sponsor or "")
    if links is not None and link is None:
        raise typer.BadParameter("--depot demande --sponsor ou --all-sponsors")
    write_template(chosen, output, sponsor=sponsor, force=force, inputs=[settings], link=link)
    common.say(f"✓ {output}")


def _links(settings: Settings, deposit: str | None, inbox: Path | None) -> dict[str, str] | None:
    """Each sponsor's page on the drop zone at ``deposit``, made with the secret of ``inbox``."""
    if deposit is None and inbox is None:
        return None
    if deposit is None or inbox is None or not inbox.is_dir():
        raise typer.BadParameter("--depot ADRESSE et --retours DOSSIER (existant) vont ensemble")
    from xlfunding.web.links import load_secret, sponsor_links

    return sponsor_links(load_secret(inbox, settings), settings.sponsors, deposit)


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
        common.show(renewal.report, False)
    if not renewal.report.valid:
        common.say(f"✗ modèles non écrits : corrigez d'abord les erreurs de {source}.")
        raise typer.Exit(common.exit_code(renewal.report))
    paths, toml = write_renewed(
        renewal,
        folder=folder,
        output=output,
        sponsor=sponsor,
        force=force,
        inputs=[source, chosen.path],
    )
    for line in renewal_summary(renewal, paths, toml):
        common.say(line)


def validate(
    files: Annotated[list[Path], typer.Argument(help="Modèles remplis à vérifier.")],
    settings: common.SettingsOption = None,
    json_out: common.JsonOption = False,
    corrections: Annotated[
        Path | None,
        typer.Option(
            "--corrections",
            help="Écrire une copie du classeur avec les cellules à corriger "
            "surlignées et un onglet « À corriger » (un seul fichier vérifié).",
            dir_okay=False,
        ),
    ] = None,
    force: common.ForceOption = False,
) -> None:
    """Vérifie des modèles remplis et signale chaque problème à sa cellule.

    Plusieurs fichiers sont vérifiés comme le fait consolidate : une copie lue une fois, le
    retour le plus récent de chaque porteur retenu.
    Code de sortie : 0 valide (avertissements permis), 1 erreurs, 2 fichier illisible.
    Exemple : xlfunding validate retour-ccas.xlsx --corrections a-corriger.xlsx
    """
    if corrections is not None and len(files) != 1:
        raise typer.BadParameter("--corrections ne s'utilise qu'avec un seul fichier")
    report = common.checked(files, common.load(settings))
    common.show(report, json_out)
    if corrections is not None and not report.unreadable:
        from xlfunding.write.corrections import write_corrections

        write_corrections(files[0], report, corrections, force=force, inputs=[settings])
        common.say(f"✓ copie à corriger : {corrections}")
    raise typer.Exit(common.exit_code(report))


def annex(
    files: Annotated[list[Path], typer.Argument(help="Modèles remplis (un ou plusieurs).")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Annexe à écrire (.xlsx).", dir_okay=False)
    ],
    settings: common.SettingsOption = None,
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf", help="Exporter aussi l'annexe en PDF (LibreOffice), à côté du .xlsx."
        ),
    ] = False,
    sources: common.SourcesOption = False,
    decision: common.DecisionOption = None,
    date_decision: common.DecisionDateOption = None,
    json_out: common.JsonOption = False,
    force: common.ForceOption = False,
) -> None:
    """Écrit l'annexe du conseil municipal (tableau, totaux, synthèse en pourcentages).

    Les fichiers sont d'abord vérifiés, comme le fait consolidate (une copie lue une fois, le
    retour le plus récent de chaque porteur retenu) : s'il reste une erreur, l'annexe n'est
    pas écrite.
    Exemple : xlfunding annex examples/programmation-2025.xlsx -o annexe-2025.xlsx
    """
    from xlfunding.model import Programme
    from xlfunding.month.consolidate import check_files
    from xlfunding.write.annex import export_pdf, write_annex

    chosen = common.with_decision(common.load(settings), decision, date_decision)
    report = check_files(files, chosen)
    if not report.valid:
        common.show(report, json_out)
        common.say("✗ annexe non écrite : corrigez d'abord les erreurs ci-dessus.")
        raise typer.Exit(common.exit_code(report))
    if json_out:
        common.show(report, json_out)
    programme = Programme(chosen, tuple(report.actions))
    write_annex(programme, output, force=force, show_sources=sources, inputs=files)
    common.say(f"✓ {output}")
    common.say(totals_line(programme))
    if pdf:
        pdf_path = output.with_suffix(".pdf")
        target = export_pdf(output, pdf_path, force=force, inputs=[*files, chosen.path])
        common.say(f"✓ {target}")
