"""Filled template -> raw action rows, each value with its cell, and the problems of reading.

The reader accepts what people type and paste (amounts as French text, stray spaces and case
in drop-down values, blank rows, rows below the table, a renamed sheet) and turns everything
it cannot accept into a Problem at its cell. Whether the values obey the rules is the
schema's business (``validate.py``).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xlfunding import layout as L
from xlfunding.errors import NotAnXlsx, NotATemplate, WrongProgramme
from xlfunding.money import AmountError, parse_amount
from xlfunding.problems import Problem
from xlfunding.settings import Settings
from xlfunding.sniff import sniff_file
from xlfunding.xlsx import Cell, SheetInfo, XlsxFile

TEXT_FIELDS = ("axis", "title", "description", "sponsor")
CHOICE_FIELDS = {"axis": "axes", "sponsor": "sponsors"}
HEADER_SCAN_ROWS = 30


@dataclass
class RawRow:
    """One action row as read: text fields as ``str``, amounts as ``Decimal`` (None if blank)."""

    row: int
    values: dict[str, object] = field(default_factory=dict)
    unusable: set[str] = field(default_factory=set)  # fields already reported by the reader


@dataclass
class TemplateRead:
    """What the reader found in one file."""

    path: Path
    sheet: str
    columns: dict[str, str]  # field key -> column letter
    metadata: dict[str, str]
    rows: list[RawRow]
    problems: list[Problem]

    @property
    def sponsor(self) -> str | None:
        return self.metadata.get("sponsor") or None

    def cell(self, key: str, row: int) -> str | None:
        letter = self.columns.get(key)
        return f"{letter}{row}" if letter else None


def read_template(path: Path | str, settings: Settings) -> TemplateRead:
    """Read a filled template. Raises ``UnreadableFile`` subclasses (naming the file) when the
    file is not an .xlsx, not our template, or made for another programme."""
    path = Path(path)
    kind = sniff_file(path)
    if kind is not None:
        raise NotAnXlsx(path, kind)
    with open_book(path) as book:
        metadata = _metadata(book)
        _check_programme(path, metadata, settings)
        sheet, header_row = _find_table(book, settings)
        return _Reading(path, book, sheet, header_row, metadata, settings).run()


def open_book(path: Path) -> XlsxFile:
    """The fast engine (python-calamine behind a safety scan) when installed and not turned off
    with ``XLFUNDING_ENGINE=xml``; else the sparse XML reader. Both give the same cells."""
    if os.environ.get("XLFUNDING_ENGINE", "auto") != "xml":
        from xlfunding.fastxlsx import FastXlsxFile, python_calamine

        if python_calamine is not None:
            return FastXlsxFile(path)
    return XlsxFile(path)


def _metadata(book: XlsxFile) -> dict[str, str]:
    sheet = book.sheet(L.META_SHEET)
    if sheet is None:
        raise NotATemplate(
            book.path,
            "il ne vient pas de « xlfunding template » ; remplissez "
            "le modèle officiel envoyé par la ville",
        )
    metadata = {}
    for _, cells in book.rows(sheet):
        key, value = cells.get("A"), cells.get("B")
        if key is not None and key.kind == "s":
            metadata[str(key.value)] = str(value.value) if value and value.value is not None else ""
    if metadata.get("format") != L.TEMPLATE_FORMAT:
        raise NotATemplate(book.path, "ses métadonnées ne sont pas celles d'un modèle xlfunding")
    return metadata


def _check_programme(path: Path, metadata: dict[str, str], settings: Settings) -> None:
    version = metadata.get("template_version", "?")
    if version not in L.KNOWN_VERSIONS:
        raise WrongProgramme(
            path,
            f"version de modèle « {version} » inconnue (connues : "
            f"{', '.join(L.KNOWN_VERSIONS)}) ; demandez le modèle à jour",
        )
    year = metadata.get("year", "?")
    if year != str(settings.year):
        raise WrongProgramme(
            path,
            f"modèle de l'année {year}, la programmation en cours est "
            f"celle de {settings.year} ; demandez le modèle {settings.year}",
        )
    place = (metadata.get("commune"), metadata.get("qpv"))
    if place != (settings.commune, settings.qpv):
        raise WrongProgramme(
            path,
            f"modèle de {place[0]} (QPV {place[1]}), la programmation "
            f"est celle de {settings.commune} (QPV {settings.qpv})",
        )
    if metadata.get("settings_fingerprint") != settings.fingerprint:
        raise WrongProgramme(
            path,
            "modèle fait avec d'autres paramètres (axes, porteurs ou "
            "financeurs différents) ; demandez le modèle à jour à la ville",
        )


def _find_table(book: XlsxFile, settings: Settings) -> tuple[SheetInfo, int]:
    """The actions sheet and header row: by the defined name (it follows a renamed sheet and
    inserted rows), else by looking for the header labels in the visible sheets."""
    for text, _ in book.defined_names.get(L.HEADER_NAME, []):
        match = re.fullmatch(r"=?(?:'((?:[^']|'')+)'|([^!]+))!\$?[A-Z]+\$?(\d+)(?::.*)?", text)
        if match:
            name = (match.group(1) or "").replace("''", "'") or match.group(2)
            sheet = book.sheet(name)
            if sheet is not None:
                return sheet, int(match.group(3))
    wanted = {_fold(h) for h in L.FIXED_HEADERS.values()}
    for sheet in book.sheets:
        if sheet.state != "visible" and sheet.name != L.ACTIONS_SHEET:
            continue
        for number, cells in book.rows(sheet):
            if number > HEADER_SCAN_ROWS:
                break
            found = {_fold(str(c.value)) for c in cells.values() if c.kind == "s"}
            if wanted <= found:
                return sheet, number
    raise NotATemplate(
        book.path, "l'onglet des actions est introuvable (en-têtes du tableau supprimés ?)"
    )


def _fold(text: str) -> str:
    """Comparison key for labels typed by people: case, accents kept, spacing and zero-width
    characters forgiven."""
    return " ".join(clean_text(text).split()).casefold()


# What clean_text changes: invisible characters, any space but a single plain one, outer spaces.
_UNCLEAN = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]|[^\S ]|  |^ | $")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009]+")


def clean_text(text: str) -> str:
    """NFC, no zero-width characters, no-break spaces as spaces, no outer spaces."""
    if not _UNCLEAN.search(text) and unicodedata.is_normalized("NFC", text):
        return text  # the common case, at the cost of one scan
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", text).strip()


class _Reading:
    def __init__(
        self,
        path: Path,
        book: XlsxFile,
        sheet: SheetInfo,
        header_row: int,
        metadata: dict[str, str],
        settings: Settings,
    ) -> None:
        self.path, self.book, self.sheet = path, book, sheet
        self.header_row, self.metadata, self.settings = header_row, metadata, settings
        self.problems: list[Problem] = []
        self.columns: dict[str, str] = {}
        capacity_text = metadata.get("capacity") or str(L.DEFAULT_CAPACITY)
        if not re.fullmatch(r"[0-9]{1,7}", capacity_text):
            raise NotATemplate(
                path, f"métadonnées du modèle abîmées (capacity « {capacity_text[:20]} »)"
            )
        capacity = int(capacity_text)
        self.last_table_row = header_row + capacity
        self.exact = {
            key: frozenset(getattr(settings, attr)) for key, attr in CHOICE_FIELDS.items()
        }
        self.choices = {
            key: {_fold(v): v for v in getattr(settings, attr)}
            for key, attr in CHOICE_FIELDS.items()
        }

    def problem(self, code: str, message: str, cell: str | None, value: object = None) -> None:
        self.problems.append(
            Problem.make(
                code, message, file=self.path, sheet=self.sheet.name, cell=cell, value=value
            )
        )

    def run(self) -> TemplateRead:
        rows: list[RawRow] = []
        for number, cells in self.book.rows(self.sheet):
            if number < self.header_row:
                continue
            if number == self.header_row:
                self._map_columns(cells)
                continue
            raw = self._row(number, cells)
            if raw is not None:
                rows.append(raw)
        hidden = self.book.hidden_rows.get(self.sheet.part, set())
        for raw in rows:
            if raw.row in hidden:
                self.problem(
                    "hidden-row",
                    f"La ligne {raw.row} est masquée dans Excel : elle a été lue et compte dans "
                    "l'annexe. Affichez-la pour la vérifier, ou supprimez-la si l'action est "
                    "abandonnée.",
                    f"A{raw.row}",
                )
        if not self.columns:
            self._map_columns({})
        return TemplateRead(
            self.path, self.sheet.name, self.columns, self.metadata, rows, self.problems
        )

    def _map_columns(self, cells: dict[str, Cell]) -> None:
        expected = L.Columns.for_settings(self.settings)
        by_label = {_fold(str(c.value)): letter for letter, c in cells.items() if c.kind == "s"}
        for key, header in zip(expected.keys, expected.headers, strict=True):
            letter = by_label.get(_fold(header))
            if letter is None and key.startswith("funder:"):
                letter = by_label.get(_fold(key.removeprefix("funder:")))
            if letter is not None:
                self.columns[key] = letter
            elif key != "gap":
                self.problem(
                    "missing-column",
                    f"La colonne « {header} » a disparu de la ligne "
                    f"d'en-tête {self.header_row} : reprenez le modèle officiel, sans "
                    "supprimer ni renommer de colonne.",
                    f"A{self.header_row}",
                    header,
                )

    def _row(self, number: int, cells: dict[str, Cell]) -> RawRow | None:
        locked_sponsor = self.metadata.get("sponsor") or None
        filled = False
        for key, letter in self.columns.items():
            cell = cells.get(letter)
            if (
                key == "gap"
                or cell is None
                or (cell.kind == "s" and not clean_text(str(cell.value)))
            ):
                continue
            if key == "sponsor" and locked_sponsor and cell.value == locked_sponsor:
                continue
            filled = True
            break
        if not filled:
            return None
        raw = RawRow(number)
        if number > self.last_table_row:
            self.problem(
                "row-below-table",
                f"La ligne {number} est sous le tableau du modèle ; "
                "elle a été lue, mais saisissez les actions dans le tableau.",
                f"A{number}",
            )
        for key, letter in self.columns.items():
            if key == "gap":
                continue
            cell = cells.get(letter)
            ref = f"{letter}{number}"
            value = self._usable(cell, ref, key, raw)
            if key in TEXT_FIELDS:
                raw.values[key] = self._text(key, value, ref, raw)
            else:
                raw.values[key] = self._amount(value, ref, raw, key)
        return raw

    def _usable(self, cell: Cell | None, ref: str, key: str, raw: RawRow) -> object:
        if cell is None:
            return None
        if cell.kind is None:
            raw.unusable.add(key)
            self.problem(
                "formula-without-value",
                f"La formule ={cell.formula} n'a pas de valeur "
                "enregistrée : ouvrez le fichier dans Excel, recalculez (F9) et "
                "enregistrez, ou tapez la valeur.",
                ref,
                f"={cell.formula}",
            )
            return None
        if cell.kind == "e":
            raw.unusable.add(key)
            self.problem(
                "excel-error",
                f"La cellule affiche l'erreur Excel {cell.value} : "
                "corrigez la formule ou tapez la valeur.",
                ref,
                cell.value,
            )
            return None
        return cell.value

    def _text(self, key: str, value: object, ref: str, raw: RawRow) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            raw.unusable.add(key)
            self.problem("not-text", "Un texte est attendu, pas VRAI/FAUX.", ref, value)
            return None
        if isinstance(value, Decimal):
            value = format(value, "f")
        text = str(value)
        if key in CHOICE_FIELDS:
            if text in self.exact[key]:  # the drop-down's own value: nothing to clean
                return text
            cleaned = clean_text(text)
            canonical = self.choices[key].get(_fold(cleaned))
            if canonical is not None and canonical != text:
                self.problem(
                    "value-normalised",
                    f"« {text} » a été lu comme « {canonical} » "
                    "(espaces, majuscules ou caractères invisibles corrigés) ; "
                    "choisissez la valeur dans la liste déroulante.",
                    ref,
                    text,
                )
                return canonical
            return cleaned or None
        if key == "title":
            return clean_text(text) or None
        return text.strip() or None

    def _amount(self, value: object, ref: str, raw: RawRow, key: str) -> Decimal | None:
        try:
            return parse_amount(value)
        except AmountError as exc:
            raw.unusable.add(key)
            self.problem(
                "invalid-amount",
                f"« {value} » n'est pas un montant lisible : {exc}. "
                "Tapez un nombre, par exemple 4500 ou 4500,50.",
                ref,
                value,
            )
            return None
