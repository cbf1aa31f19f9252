"""Writing what last year gives: next year's templates, pre-filled with each sponsor's renewed
actions; the imported annex as a filled template with its « Non importé » sheet; and the
settings files that go with them (new year, or funders added by the import).

The source of a renewal is a filled template (checked with the settings it was made for) or
last year's annex (imported). ``--year`` moves the settings to the new year: its year, and the
years written in its title and deadline; last year's prefecture acknowledgements are dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import xlsxwriter

from xlfunding import layout as L
from xlfunding.annex_reader import NotAnAnnex, settings_to_dict
from xlfunding.errors import NotATemplate
from xlfunding.import_text import NOT_IMPORTED_SHEET, Leftover
from xlfunding.model import Action
from xlfunding.money import ZERO, format_euros
from xlfunding.output import atomic_path, check_output
from xlfunding.problems import Report
from xlfunding.settings import Settings, load_settings, settings_from_dict

if TYPE_CHECKING:
    from xlfunding.importer import ImportResult

_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
TOTAL_COLUMN = list(L.FIXED_HEADERS).index("total")


@dataclass
class Renewal:
    """The new year's settings and actions, and what reading the source found."""

    settings: Settings
    actions: tuple[Action, ...]
    report: Report
    settings_changed: bool  # the settings differ from the given ones: write them beside
    amounts_cleared: bool


def settings_for_year(settings: Settings, year: int) -> Settings:
    """The same programme for ``year``: years in the title and deadline moved by as much."""
    delta = year - settings.year

    def shift(text: str) -> str:
        return _YEAR.sub(lambda m: str(int(m.group()) + delta), text)

    return replace(
        settings,
        year=year,
        title=shift(settings.title),
        deadline=shift(settings.deadline),
        deliberations=(),
        path=None,
    )


def renew(
    source: Path | str | None,
    settings: Settings,
    *,
    year: int | None = None,
    clear_amounts: bool = False,
) -> Renewal:
    """Read ``source`` (a filled template of ``settings``, or an annex: text or workbook) and
    carry its actions into ``year``; ``clear_amounts`` leaves every amount to the sponsors.
    Actions are taken only from a source without errors: check ``report.valid`` first."""
    report = Report() if source is None else read_source(Path(source), settings)
    new = settings if year is None or year == settings.year else settings_for_year(settings, year)
    actions = tuple(_carried(a, clear_amounts) for a in report.actions) if report.valid else ()
    return Renewal(new, actions, report, new is not settings, clear_amounts)


def read_source(path: Path, settings: Settings) -> Report:
    """A filled template is validated; anything else is imported as an annex."""
    from xlfunding.importer import import_annex, source_kind
    from xlfunding.validate import validate_file

    if source_kind(path) == "xlsx":
        try:
            return validate_file(path, settings)
        except NotATemplate:
            pass
        try:
            return import_annex(path, settings).report
        except NotAnAnnex as exc:
            raise NotATemplate(
                path, "ni un modèle rempli, ni une annexe écrite par xlfunding"
            ) from exc
    return import_annex(path, settings).report


def _carried(action: Action, clear_amounts: bool) -> Action:
    if not clear_amounts:
        return replace(action, source=None)
    return replace(action, total=ZERO, funding={}, source=None)


def write_renewed(
    renewal: Renewal,
    *,
    folder: Path | str | None = None,
    output: Path | str | None = None,
    sponsor: str | None = None,
    force: bool = False,
    inputs: Sequence[Path] = (),
) -> tuple[list[Path], Path | None]:
    """One template per sponsor in ``folder``, or one template at ``output`` (only
    ``sponsor``'s actions when given); the new settings beside them as
    ``parametres-ANNÉE.toml`` when they changed. Checks every output before writing any."""
    from xlfunding.template import sponsor_filename, write_template

    settings, actions = renewal.settings, renewal.actions
    if (folder is None) == (output is None):
        raise ValueError("donnez soit un dossier, soit un fichier de sortie")
    strays = sorted({a.sponsor for a in actions} - set(settings.sponsors))
    if strays:
        raise ValueError("porteur(s) absent(s) des paramètres : " + ", ".join(strays))
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
        written.append(write_template(settings, path, sponsor=who, actions=mine, force=force))
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


# -- the import's output ------------------------------------------------------------------------
def extended_settings(settings: Settings, names: Sequence[str], group: str) -> Settings:
    """The settings plus a funder for each name, in ``group`` (checked like a settings file)."""
    data = settings_to_dict(settings)
    for name in names:
        data["funders"].append({"code": name, "label": name, "group": group})
    for entry in data["deliberations"]:
        for key in ("teletransmission", "reception"):
            if key in entry:
                entry[key] = dt.date.fromisoformat(entry[key])
    return replace(settings_from_dict(data, settings.path), path=None)


def write_import(
    result: ImportResult, output: Path | str, *, force: bool = False
) -> tuple[Path, Path | None]:
    """Write the filled template (with a « Non importé » sheet when something was left out),
    and, when funders were added, the extended settings beside it (``programme.toml`` for
    ``programme.xlsx``). Returns both paths (the second ``None`` when nothing was added)."""
    from xlfunding.template import write_template

    output = Path(output)
    inputs = list(result.inputs)
    toml = output.with_suffix(".toml") if result.added_funders else None
    check_output(output, force=force, inputs=inputs)
    if toml is not None:
        check_output(toml, force=force, inputs=inputs)
    sheets = [not_imported_sheet(result.leftovers)] if result.leftovers else []
    write_template(
        result.settings, output, actions=result.actions, force=force, extra_sheets=sheets
    )
    if toml is not None:
        write_settings(result.settings, toml, force=force, inputs=inputs)
    return output, toml


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
        head = book.add_format({"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        top = book.add_format({"valign": "top"})
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


# -- the settings as a TOML file ----------------------------------------------------------------
def settings_toml(settings: Settings) -> str:
    """The settings as a file ``load_settings`` reads back to equal settings."""
    data = settings_to_dict(settings)
    out = [
        f"# Paramètres de la programmation politique de la ville — {settings.commune} "
        f"{settings.year}.",
        "# Écrit par xlfunding ; passez-le aux commandes avec --settings FICHIER.",
        "",
        f"axes = {_array(data['axes'])}",
        f"sponsors = {_array(data['sponsors'])}",
        f"groups = {_array(data['groups'])}",
        "",
        "[programme]",
    ]
    out += [f"{key} = {_value(value)}" for key, value in data["programme"].items()]
    for funder in data["funders"]:
        out += ["", "[[funders]]"]
        out += [f"{key} = {_value(value)}" for key, value in funder.items()]
    for entry in data["deliberations"]:
        out += ["", "[[deliberations]]"]
        for key, value in entry.items():
            out.append(f"{key} = {value if key != 'acte' else _value(value)}")
    return "\n".join(out) + "\n"


def write_settings(
    settings: Settings, path: Path | str, *, force: bool = False, inputs: Sequence[Path] = ()
) -> Path:
    """Write ``settings_toml`` atomically, after checking it reads back to the same settings."""
    path = Path(path)
    check_output(path, force=force, inputs=inputs)
    with atomic_path(path) as temporary:
        temporary.write_text(settings_toml(settings), encoding="utf-8")
        if replace(load_settings(temporary), path=None) != replace(settings, path=None):
            raise RuntimeError(f"{path} : les paramètres écrits ne se relisent pas à l'identique")
    return path


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def _array(values: Sequence[str]) -> str:
    """One item a line when the array would be long."""
    items = [_value(v) for v in values]
    if sum(len(i) + 2 for i in items) <= 80:
        return "[" + ", ".join(items) + "]"
    return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
