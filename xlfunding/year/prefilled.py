"""What last year gives, written out: next year's templates, pre-filled with each sponsor's
renewed actions; the imported annex as a filled template with its « Non importé » sheet; and
what the commands say once they have written."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import xlsxwriter

from xlfunding import layout as L
from xlfunding.errors import Misuse, UnknownSponsor
from xlfunding.model import Action
from xlfunding.money import ZERO, format_euros
from xlfunding.write import styles
from xlfunding.write.output import check_output
from xlfunding.write.settings_toml import write_settings
from xlfunding.year.import_text import NOT_IMPORTED_SHEET, Leftover
from xlfunding.year.renew import Renewal

if TYPE_CHECKING:
    from xlfunding.year.importer import ImportResult


def write_renewed(
    renewal: Renewal,
    *,
    folder: Path | str | None = None,
    output: Path | str | None = None,
    sponsor: str | None = None,
    force: bool = False,
    inputs: Sequence[Path | None] = (),
) -> tuple[list[Path], Path | None]:
    """One template per sponsor in ``folder``, or one template at ``output`` (only
    ``sponsor``'s actions when given); the new settings beside them as
    ``parametres-ANNÉE.toml`` when they changed. Checks every output before writing any."""
    from xlfunding.write.template import sponsor_filename, write_template

    settings, actions = renewal.settings, renewal.actions
    if (folder is None) == (output is None):
        raise Misuse(None, "donnez soit un dossier, soit un fichier de sortie")
    strays = sorted({a.sponsor for a in actions} - set(settings.sponsors))
    if strays:
        raise UnknownSponsor(None, "porteur(s) absent(s) des paramètres : " + ", ".join(strays))
    jobs: list[tuple[Path, str | None, list[Action]]]
    if folder is not None:
        place = Path(folder)
        jobs = [
            (place / sponsor_filename(settings, s), s, [a for a in actions if a.sponsor == s])
            for s in settings.sponsors
        ]
    else:
        assert output is not None
        mine = [a for a in actions if sponsor is None or a.sponsor == sponsor]
        jobs = [(Path(output), sponsor, mine)]
        place = Path(output).parent
    toml = place / f"parametres-{settings.year}.toml" if renewal.settings_changed else None
    for path in [*(job[0] for job in jobs), *([toml] if toml else [])]:
        check_output(path, force=force, inputs=inputs)
    written = []
    for path, who, mine in jobs:
        written.append(
            write_template(settings, path, sponsor=who, actions=mine, force=force, inputs=inputs)
        )
    if toml is not None:
        write_settings(settings, toml, force=force, inputs=inputs)
    return written, toml


def renewal_summary(renewal: Renewal, paths: Sequence[Path], toml: Path | None) -> list[str]:
    """What ``xlfunding template --from/--year`` says once it has written: a line a template,
    then the new settings, to check, and how to pass them on."""
    lines = [f"✓ {path}" for path in paths]
    new = renewal.settings
    if toml is not None:
        lines.append(
            f"✓ paramètres {new.year} : {toml} — titre « {new.title} », date limite "
            f"« {new.deadline} » (à vérifier). Vérifiez les retours avec : xlfunding validate "
            f"RETOUR.xlsx --settings {toml}"
        )
    return lines


def write_import(
    result: ImportResult, output: Path | str, *, force: bool = False
) -> tuple[Path, Path | None]:
    """Write the filled template (with a « Non importé » sheet when something was left out),
    and, when funders were added, the extended settings beside it (``programme.toml`` for
    ``programme.xlsx``). Returns both paths (the second ``None`` when nothing was added)."""
    from xlfunding.write.template import write_template

    output = Path(output)
    inputs = list(result.inputs)
    toml = output.with_suffix(".toml") if result.added_funders else None
    check_output(output, force=force, inputs=inputs)
    if toml is not None:
        check_output(toml, force=force, inputs=inputs)
    sheets = [not_imported_sheet(result.leftovers)] if result.leftovers else []
    write_template(
        result.settings,
        output,
        actions=result.actions,
        force=force,
        extra_sheets=sheets,
        inputs=inputs,
        metadata=import_metadata(result),
    )
    if toml is not None:
        write_settings(result.settings, toml, force=force, inputs=inputs)
    return output, toml


def import_metadata(result: ImportResult) -> list[tuple[str, str]]:
    """What the imported workbook keeps of the document beyond its table: its heading lines
    (« heading », one a line) and the decision its prefecture stamp names."""
    rows = [("heading", "\n".join(result.heading))] if result.heading else []
    if result.decision is not None:
        rows += [(f"decision_{key}", value) for key, value in result.decision.to_dict().items()]
    return rows


def import_summary(result: ImportResult, written: Path, toml: Path | None) -> list[str]:
    """What ``xlfunding import`` says once it has written: the actions and their total, whether
    the annex's totals agree, what was not imported, the extended settings."""
    total = sum((a.total for a in result.actions), ZERO)
    plural = "s" if len(result.actions) > 1 else ""
    lines = [
        f"✓ {written} : {len(result.actions)} action{plural} importée{plural}, "
        f"coût total {format_euros(total)}"
    ]
    mismatched = {p.cell for p in result.problems if p.code == "annex-total-mismatch"}
    if result.checked_totals and not mismatched:
        allowing = ", compte tenu des problèmes signalés" if result.problems else ""
        lines.append(
            f"✓ les {len(result.checked_totals)} totaux de l'annexe correspondent aux "
            f"actions{allowing}"
        )
    elif not result.checked_totals:
        lines.append("! aucun bloc de totaux trouvé dans l'annexe : totaux non vérifiés")
    if result.heading:
        lines.append(f"✓ en-tête du document gardé dans le modèle : {' / '.join(result.heading)}")
    if result.decision is not None:
        lines.append(f"✓ {result.decision.line} (tampon de la préfecture)")
    if result.leftovers:
        lines.append(
            f"! {len(result.leftovers)} élément(s) non importé(s) : voir l'onglet "
            "« Non importé » du modèle"
        )
    if toml is not None:
        added = ", ".join(f"« {f.code} » ({f.group})" for f in result.added_funders)
        lines.append(
            f"✓ paramètres étendus : {toml} (financeur(s) ajouté(s) : {added}). Passez-les aux "
            f"commandes suivantes : xlfunding validate {written} --settings {toml}"
        )
    return lines


def not_imported_sheet(leftovers: Sequence[Leftover]) -> Callable[[xlsxwriter.Workbook], None]:
    """The « Non importé » sheet: line, why, and the original text (split across cells when
    longer than a cell can hold, so nothing is cut)."""

    def add(book: xlsxwriter.Workbook) -> None:
        sheet = book.add_worksheet(NOT_IMPORTED_SHEET)
        f = styles.add_formats(
            book, {"head": styles.HEADER, "wrap": {"text_wrap": True}, "top": {}}
        )
        head, wrap, top = f["head"], f["wrap"], f["top"]
        for col, title in enumerate(("Ligne", "Ce qui n'a pas été importé", "Texte d'origine")):
            sheet.write_string(0, col, title, head)
        sheet.set_column(0, 0, 8)
        sheet.set_column(1, 1, 60)
        sheet.set_column(2, 2, 100)
        for row, item in enumerate(leftovers, start=1):
            if item.where.sheet is None:
                sheet.write_number(row, 0, item.line, top)
            else:
                sheet.write_string(row, 0, item.where.label, top)
            sheet.write_string(row, 1, item.reason, wrap)
            for offset in range(0, max(len(item.text), 1), L.MAX_CELL_TEXT):
                chunk = item.text[offset : offset + L.MAX_CELL_TEXT]
                sheet.write_string(row, 2 + offset // L.MAX_CELL_TEXT, chunk, wrap)
        sheet.freeze_panes(1, 0)

    return add
