"""Read back an annex workbook that ``write_annex`` wrote: for month-to-month comparison and
re-import.

The annex is recognised by its very hidden metadata sheet, which also holds the settings it was
written with and where each column and axis section is. The numeric cells are the truth; the
printed budget text is never parsed.
"""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlfunding.errors import NotATemplate, UnreadableFile, WrongProgramme
from xlfunding.model import Action, Location, Programme
from xlfunding.money import ZERO, AmountError, parse_amount
from xlfunding.settings import Settings, settings_from_json, settings_to_dict

ANNEX_FORMAT = "xlfunding-annexe"
ANNEX_VERSION = "1"
KNOWN_VERSIONS = ("1",)
ANNEX_SHEET = "Annexe"
SUMMARY_SHEET = "Synthèse"
META_SHEET = "_xlfunding"


class NotAnAnnex(NotATemplate):
    """Ce classeur n'est pas une annexe écrite par xlfunding."""

    code = "not-an-annex"


def annex_metadata(settings: Settings, layout: dict[str, Any]) -> list[tuple[str, str]]:
    """The rows of the very hidden metadata sheet: everything ``read_annex`` relies on."""
    return [
        ("format", ANNEX_FORMAT),
        ("version", ANNEX_VERSION),
        ("year", str(settings.year)),
        ("commune", settings.commune),
        ("qpv", settings.qpv),
        ("settings_fingerprint", settings.fingerprint),
        ("settings", json.dumps(settings_to_dict(settings), ensure_ascii=False)),
        ("layout", json.dumps(layout, ensure_ascii=False)),
    ]


def read_annex(path: Path | str, settings: Settings | None = None) -> Programme:
    """The programme an annex holds; its own stored settings unless ``settings`` is given.

    Raises ``NotAnAnnex`` for any other workbook, ``WrongProgramme`` when ``settings`` is not
    the one the annex was written with.
    """
    path = Path(path)
    book = _open(path)
    try:
        meta = _metadata(book, path)
        stored = _stored_settings(meta, path)
        if settings is None:
            settings = stored
        elif settings.fingerprint != meta.get("settings_fingerprint"):
            raise WrongProgramme(
                path,
                f"annexe écrite pour {stored.programme_id} {stored.year}, avec d'autres paramètres",
            )
        try:
            layout = json.loads(meta["layout"])
            sheet = book[layout["sheet"]]
        except (KeyError, ValueError, TypeError) as exc:
            raise NotAnAnnex(path, "la description de la mise en page est illisible") from exc
        actions = _actions(sheet, layout, path)
    finally:
        book.close()
    return Programme(settings, actions)


def _open(path: Path) -> Any:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise UnreadableFile(path, "fichier introuvable")
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise NotAnAnnex(path, "ce n'est pas un classeur .xlsx lisible") from exc


def _metadata(book: Any, path: Path) -> dict[str, str]:
    if META_SHEET not in book.sheetnames:
        raise NotAnAnnex(path)
    meta: dict[str, str] = {}
    for row in book[META_SHEET].iter_rows(max_col=2, values_only=True):
        if len(row) == 2 and isinstance(row[0], str) and isinstance(row[1], str):
            meta[row[0]] = row[1]
    if meta.get("format") != ANNEX_FORMAT:
        raise NotAnAnnex(path)
    if meta.get("version") not in KNOWN_VERSIONS:
        raise NotAnAnnex(
            path, f"version « {meta.get('version')} » inconnue de cette version de xlfunding"
        )
    return meta


def _stored_settings(meta: dict[str, str], path: Path) -> Settings:
    try:
        return settings_from_json(json.loads(meta["settings"]))
    except Exception as exc:  # any damage to the stored settings means the same thing
        raise NotAnAnnex(path, "les paramètres enregistrés dans l'annexe sont illisibles") from exc


def _actions(sheet: Any, layout: dict[str, Any], path: Path) -> tuple[Action, ...]:
    columns: dict[str, str] = layout["columns"]
    funders: dict[str, str] = layout["funders"]
    sections = layout["axes"]
    if not sections:
        return ()
    first, last = sections[0]["row"], sections[-1]["subtotal_row"]
    rows = {
        first + offset: values
        for offset, values in enumerate(
            sheet.iter_rows(min_row=first, max_row=last, values_only=True)
        )
    }
    fields = {key: columns[key] for key in ("title", "description", "sponsor", "total")}
    actions = []
    for section in sections:
        for row in range(section["row"] + 1, section["subtotal_row"]):
            cells = _Row(rows.get(row, ()), row, path)
            funding = {}
            for code, letter in funders.items():
                value = cells.amount(letter)
                if value:
                    funding[code] = value
            actions.append(
                Action(
                    axis=section["name"],
                    title=cells.text(columns["title"]),
                    description=cells.text(columns["description"]),
                    sponsor=cells.text(columns["sponsor"]),
                    total=cells.amount(columns["total"]) or ZERO,
                    funding=funding,
                    source=Location(path, sheet.title, row, fields),
                )
            )
    return tuple(actions)


class _Row:
    """One row's values, read by column letter."""

    def __init__(self, values: tuple[Any, ...], row: int, path: Path) -> None:
        self.values, self.row, self.path = values, row, path

    def value(self, letter: str) -> Any:
        from openpyxl.utils import column_index_from_string

        index = column_index_from_string(letter) - 1
        return self.values[index] if index < len(self.values) else None

    def text(self, letter: str) -> str:
        value = self.value(letter)
        return "" if value is None else str(value)

    def amount(self, letter: str) -> Decimal | None:
        try:
            return parse_amount(self.value(letter))
        except AmountError as exc:
            raise UnreadableFile(self.path, f"cellule {letter}{self.row} : {exc}") from exc
