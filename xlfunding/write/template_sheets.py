"""The template's other sheets (« Mode d'emploi », the hidden lists, the metadata) and the
checks Excel makes as a sponsor types (drop-down lists, amounts, help on each column)."""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from xlfunding import layout as L
from xlfunding.settings import Settings


def validations(
    sheet: Worksheet, settings: Settings, cols: L.Columns, first: int, last: int, *, locked: bool
) -> None:
    """Each input column's check and help message, over rows ``first`` to ``last`` (0-based);
    the sponsor column has no drop-down list when the template is ``locked`` to a sponsor."""

    def column(key: str, options: dict[str, object]) -> None:
        index = cols.index(key)
        sheet.data_validation(first, index, last, index, options)

    column(
        "axis",
        {
            "validate": "list",
            "source": f"={L.AXES_NAME}",
            "input_title": "Axe du contrat de ville",
            "input_message": "Choisissez l'axe dans la liste.",
            "error_title": "Axe inconnu",
            "error_type": "stop",
            "error_message": "Choisissez un des axes de la liste déroulante.",
        },
    )
    column(
        "title",
        {
            "validate": "length",
            "criteria": "between",
            "minimum": 1,
            "maximum": L.TITLE_MAX,
            "input_title": "Intitulé de l'action",
            "input_message": "Le titre de l'action, unique pour un même porteur "
            f"({L.TITLE_MAX} caractères au plus).",
            "error_title": "Intitulé trop long",
            "error_message": f"L'intitulé fait au plus {L.TITLE_MAX} caractères.",
        },
    )
    column(
        "description",
        {
            "validate": "any",
            "input_title": "Description",
            "input_message": "Ce que fait l'action, pour qui, avec quels partenaires.",
        },
    )
    if not locked:
        column(
            "sponsor",
            {
                "validate": "list",
                "source": f"={L.SPONSORS_NAME}",
                "input_title": "Porteur",
                "input_message": "Choisissez le porteur dans la liste.",
                "error_title": "Porteur inconnu",
                "error_type": "stop",
                "error_message": "Choisissez un des porteurs de la liste déroulante.",
            },
        )
    money = {
        "validate": "decimal",
        "criteria": ">=",
        "value": 0,
        "error_title": "Montant invalide",
        "error_type": "stop",
        "error_message": "Tapez un montant en euros, positif ou nul, sans texte (ex. 4500 "
        "ou 4500,50).",
    }
    column(
        "total",
        {
            **money,
            "input_title": "Coût total (€)",
            "input_message": "Le coût total de l'action ; il doit être égal à la somme des "
            "financements.",
        },
    )
    for funder in settings.funders:
        column(
            L.funder_key(funder.code),
            {
                **money,
                "input_title": funder.label[:32],
                "input_message": f"Montant demandé à {funder.code} ; laissez vide si aucun.",
            },
        )
    for key, message in (
        ("reference", "Le numéro du dossier sur la plateforme Dauphin, s'il y en a un."),
        ("siret", "Le SIRET du porteur : 14 chiffres (facultatif si la ville le connaît)."),
        ("rna", "Pour une association : son numéro RNA, W suivi de 9 chiffres (facultatif)."),
    ):
        column(
            key,
            {"validate": "any", "input_title": L.OPTIONAL_HEADERS[key], "input_message": message},
        )


def help_sheet(
    book: xlsxwriter.Workbook, s: Settings, f: dict[str, Format], link: str | None = None
) -> None:
    """« Mode d'emploi »: what to fill in, the rules, where to send the file (and the sponsor's
    page of ``xlfunding serve``, when there is one)."""
    sheet = book.add_worksheet(L.HELP_SHEET)
    sheet.set_column(0, 0, 110)
    lines: list[tuple[str, Format | None]] = [
        (f"Mode d'emploi — {s.title}", f["help_title"]),
        (f"{s.commune}, quartier prioritaire « {s.qpv} »", f["help"]),
        ("", None),
        ("Ce qu'il faut remplir", f["help_head"]),
        (
            "Dans l'onglet « Actions », une ligne par action, sans ligne vide entre deux actions :",
            f["help"],
        ),
        ("• Axe du contrat de ville : choisissez dans la liste déroulante.", f["help"]),
        ("• Intitulé de l'action : son titre, unique pour un même porteur.", f["help"]),
        (
            "• Description : ce que fait l'action, pour qui, avec quels partenaires.",
            f["help"],
        ),
        ("• Porteur : choisissez dans la liste déroulante.", f["help"]),
        ("• Coût total (€) : le budget prévisionnel de l'action.", f["help"]),
        (
            "• Une colonne par financeur : le montant demandé ou obtenu ; laissez vide si aucun.",
            f["help"],
        ),
        (
            "• Référence Dauphin, SIRET et RNA du porteur (facultatifs) : le numéro du dossier "
            "sur la plateforme Dauphin, et les numéros du porteur pour les données ouvertes.",
            f["help"],
        ),
        ("", None),
        ("Les règles", f["help_head"]),
        (
            "• Le coût total est égal à la somme des financements : la colonne « Écart » "
            "devient rouge tant que ce n'est pas le cas.",
            f["help"],
        ),
        (
            "• Les montants sont en euros, positifs, avec au plus deux décimales (les "
            "centimes) ; tapez des nombres, pas du texte.",
            f["help"],
        ),
        ("• Chaque action a au moins un financeur.", f["help"]),
        (
            "• Ne renommez pas les colonnes, n'ajoutez pas d'onglet à la place de "
            "« Actions » : le classeur est relu automatiquement.",
            f["help"],
        ),
        ("• Les cellules grisées sont calculées ou verrouillées.", f["help"]),
        ("", None),
        ("Où l'envoyer", f["help_head"]),
        (
            f"Renvoyez ce classeur, au format .xlsx, à : {s.contact}, avant {s.deadline}.",
            f["help"],
        ),
        (
            "En cas d'erreur, vous recevrez une copie de votre classeur avec un onglet "
            "« À corriger » qui indique chaque cellule à reprendre et comment.",
            f["help"],
        ),
    ]
    if link:
        lines += [
            ("", None),
            ("Ou le déposer en ligne", f["help_head"]),
            (
                "Déposez-le sur votre page personnelle, qui le vérifie aussitôt et vous dit quoi "
                "corriger (ne communiquez pas ce lien : il est à vous seul) :",
                f["help"],
            ),
        ]
    for row, (text, fmt) in enumerate(lines):
        if text:
            sheet.write_string(row, 0, text, fmt)
    if link:
        sheet.write_url(len(lines), 0, link, string=link)
    sheet.protect("")


def lists_sheet(book: xlsxwriter.Workbook, settings: Settings) -> None:
    """The hidden « Listes » behind the drop-down lists (never an inline list: Excel limits
    those to 255 characters)."""
    sheet = book.add_worksheet(L.LISTS_SHEET)
    sheet.write_string(0, 0, "Axes")
    sheet.write_string(0, 1, "Porteurs")
    for row, axis in enumerate(settings.axes, start=1):
        sheet.write_string(row, 0, axis)
    for row, sponsor in enumerate(settings.sponsors, start=1):
        sheet.write_string(row, 1, sponsor)
    sheet.set_column(0, 1, 50)
    book.define_name(L.AXES_NAME, f"='{L.LISTS_SHEET}'!$A$2:$A${len(settings.axes) + 1}")
    book.define_name(L.SPONSORS_NAME, f"='{L.LISTS_SHEET}'!$B$2:$B${len(settings.sponsors) + 1}")
    sheet.protect("")
    sheet.hide()


def meta_sheet(book: xlsxwriter.Workbook, metadata: list[tuple[str, str]]) -> None:
    """The very hidden metadata sheet the reader recognises the template by."""
    sheet = book.add_worksheet(L.META_SHEET)
    for row, (key, value) in enumerate(metadata):
        sheet.write_string(row, 0, key)
        sheet.write_string(row, 1, value)
    sheet.protect("")
    sheet.very_hidden()
