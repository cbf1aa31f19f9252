"""Read back an annex workbook that ``write_annex`` wrote: for month-to-month comparison and
re-import.

The annex is recognised by its very hidden metadata sheet, which also holds the settings it was
written with and where each column and axis section is. The numeric cells are the truth; the
printed budget text is never parsed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlfunding import layout as L
from xlfunding.errors import (
    NotAnAnnex,
    NotAnXlsx,
    UnreadableFile,
    WrongProgramme,
    XlfundingError,
)
from xlfunding.model import Action, Location, Programme
from xlfunding.money import ZERO, AmountError, parse_amount
from xlfunding.read.xlsx import SheetInfo, XlsxFile
from xlfunding.settings import Settings, settings_from_json

_DAUPHIN = re.compile(r"(?:^| — )Dauphin (.+)$")  # see layout.DAUPHIN_MARK
# An annex holds a whole programme: a consolidation of a thousand returns is some ten thousand
# rows. Beyond these, or the archive's own bounds, it is refused (a cell at XFD1048576 is one
# cell, kept as such: no grid is ever allocated).
MAX_ANNEX_ROWS = 200_000
MAX_ANNEX_CELLS = 3_000_000
MAX_ANNEX_COLUMNS = 1_000  # its six columns and one per funder: a cell beyond is never read


@dataclass(frozen=True)
class AnnexRead:
    """An annex read once: its programme, where each column and section is (``layout``, as
    the annex stores it), and the values of every row of its main sheet."""

    path: Path
    programme: Programme
    layout: dict[str, Any]
    rows: dict[int, tuple[Any, ...]]  # 1-based row -> its values, from column A

    @property
    def sheet(self) -> str:
        return str(self.layout["sheet"])

    def value(self, letter: str, row: int) -> object:
        values = self.rows.get(row, ())
        index = L.column_index(letter)
        return values[index] if index < len(values) else None


def read_annex(path: Path | str, settings: Settings | None = None) -> Programme:
    """The programme an annex holds; its own stored settings unless ``settings`` is given.

    Raises ``NotAnAnnex`` for any other workbook, ``WrongProgramme`` when ``settings`` is not
    the one the annex was written with.
    """
    return open_annex(path, settings).programme


def open_annex(path: Path | str, settings: Settings | None = None) -> AnnexRead:
    """``read_annex``, keeping what the import compares: the layout and every row's values.

    The annex goes through the same defended engine as a return (``XlsxFile``: zip and XML
    bounds, defused parser, only the cells with data kept), with room for a large programme;
    a damaged or hostile annex is an ``UnreadableFile`` naming it, never a traceback."""
    path = Path(path)
    with _open(path) as book:
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
            sheet = book.sheet(layout["sheet"])
            if sheet is None:
                raise KeyError(layout["sheet"])
            rows = _values(book, sheet)
            actions = _actions(rows, layout, path)
        except XlfundingError:  # the file's damage, said by the engine: not the layout's
            raise
        except (KeyError, ValueError, TypeError) as exc:
            raise NotAnAnnex(path, "la description de la mise en page est illisible") from exc
    return AnnexRead(path, Programme(settings, actions), layout, rows)


class _AnnexFile(XlsxFile):
    """A return's engine, bounded for an annex: a whole programme, not one sponsor's rows."""

    max_rows, max_cells = MAX_ANNEX_ROWS, MAX_ANNEX_CELLS
    too_big = " : ce n'est pas une annexe écrite par xlfunding, ou elle a été agrandie depuis"


def _open(path: Path) -> _AnnexFile:
    if not path.is_file():
        raise UnreadableFile(path, "fichier introuvable" if not path.exists() else "pas un fichier")
    try:
        return _AnnexFile(path)
    except NotAnXlsx as exc:
        raise NotAnAnnex(path, exc.detail or "ce n'est pas un classeur .xlsx lisible") from exc


def _values(book: XlsxFile, sheet: SheetInfo) -> dict[int, tuple[Any, ...]]:
    """Each row with data, 1-based, as its values from column A (None where empty, and for a
    formula without a saved value; an error's text, « #REF! », for an error), up to column
    ``MAX_ANNEX_COLUMNS``: rows with a cell at XFD never become 16 384 values each."""
    rows: dict[int, tuple[Any, ...]] = {}
    for number, cells in book.rows(sheet):
        placed = {L.column_index(letter): cell.value for letter, cell in cells.items()}
        placed = {index: value for index, value in placed.items() if index < MAX_ANNEX_COLUMNS}
        if not placed:
            continue
        values: list[Any] = [None] * (max(placed) + 1)
        for index, value in placed.items():
            values[index] = value
        rows[number] = tuple(values)
    return rows


def _metadata(book: XlsxFile, path: Path) -> dict[str, str]:
    sheet = book.sheet(L.META_SHEET)
    if sheet is None:
        raise NotAnAnnex(path)
    meta: dict[str, str] = {}
    for row in _values(book, sheet).values():
        if len(row) >= 2 and isinstance(row[0], str) and isinstance(row[1], str):
            meta[row[0]] = row[1]
    if meta.get("format") != L.ANNEX_FORMAT:
        raise NotAnAnnex(path)
    if meta.get("version") not in L.KNOWN_ANNEX_VERSIONS:
        raise NotAnAnnex(
            path, f"version « {meta.get('version')} » inconnue de cette version de xlfunding"
        )
    return meta


def _stored_settings(meta: dict[str, str], path: Path) -> Settings:
    try:
        return settings_from_json(json.loads(meta["settings"]))
    except Exception as exc:  # any damage to the stored settings means the same thing
        raise NotAnAnnex(path, "les paramètres enregistrés dans l'annexe sont illisibles") from exc


def _actions(
    rows: dict[int, tuple[Any, ...]], layout: dict[str, Any], path: Path
) -> tuple[Action, ...]:
    columns: dict[str, str] = layout["columns"]
    funders: dict[str, str] = layout["funders"]
    fields = {key: columns[key] for key in ("title", "description", "sponsor", "total")}
    actions = []
    for section in layout["axes"]:
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
                    source=Location(path, layout["sheet"], row, fields),
                    reference=_dauphin(cells.text(columns["source"]))
                    if "source" in columns
                    else "",
                )
            )
    return tuple(actions)


class _Row:
    """One row's values, read by column letter."""

    def __init__(self, values: tuple[Any, ...], row: int, path: Path) -> None:
        self.values, self.row, self.path = values, row, path

    def value(self, letter: str) -> Any:
        index = L.column_index(letter)
        return self.values[index] if index < len(self.values) else None

    def text(self, letter: str) -> str:
        value = self.value(letter)
        return "" if value is None else str(value)

    def amount(self, letter: str) -> Decimal | None:
        try:
            return parse_amount(self.value(letter))
        except AmountError as exc:
            raise UnreadableFile(self.path, f"cellule {letter}{self.row} : {exc}") from exc


def _dauphin(source: str) -> str:
    """The Dauphin number the « Source » cell ends with (``write_annex``), or ""."""
    match = _DAUPHIN.search(source)
    return match.group(1).strip() if match else ""
