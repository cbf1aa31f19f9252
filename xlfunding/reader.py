"""Filled template -> raw action rows, each value with its cell, and the problems of reading.

The reader accepts what people type and paste (amounts as French text, stray spaces and case
in drop-down values, blank rows, rows below the table, a renamed sheet) and turns everything
it cannot accept into a Problem at its cell. Whether the values obey the rules is the
schema's business (``validate.py``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlfunding import layout as L
from xlfunding.errors import NotAnXlsx, NotATemplate, WrongProgramme
from xlfunding.money import AmountError, cents_of_float, excel_decimal, parse_amount, to_cents
from xlfunding.problems import Problem
from xlfunding.settings import Settings
from xlfunding.sniff import sniff_file
from xlfunding.xlsx import Cell, SheetInfo, XlsxFile

TEXT_FIELDS = ("axis", "title", "description", "sponsor")
CHOICE_FIELDS = {"axis": "axes", "sponsor": "sponsors"}
HEADER_SCAN_ROWS = 30


@dataclass
class TemplateRead:
    """What the reader found in one file, by column: ``rows[i]`` is the Excel row of the i-th
    action read, ``values[key][i]`` its value (text as ``str``, amounts as ``Decimal``, blank as
    None) and, for amounts, ``cents[key][i]`` the amount in cents rounded away from zero (so
    sign and zero are kept), exact when ``i`` is not in ``fractional[key]``."""

    path: Path
    sheet: str
    columns: dict[str, str]  # field key -> column letter
    metadata: dict[str, str]
    rows: list[int]
    values: dict[str, list[Any]]
    cents: dict[str, list[int | None]]
    fractional: dict[str, list[int]]  # amount key -> positions not in whole cents
    unusable: dict[int, set[str]]  # position -> fields already reported by the reader
    problems: list[Problem]

    @property
    def sponsor(self) -> str | None:
        return self.metadata.get("sponsor") or None

    def cell(self, key: str, row: int) -> str | None:
        letter = self.columns.get(key)
        return f"{letter}{row}" if letter else None

    def row_values(self, position: int) -> dict[str, Any]:
        """The values of the ``position``-th action read, by field key."""
        return {key: column[position] for key, column in self.values.items()}


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
    """One actions table read column by column: the common cell (a text, a number saved by
    Excel) takes a few operations; anything else takes the careful path, which turns what it
    cannot accept into a Problem at its cell."""

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
        self.unusable: dict[int, set[str]] = {}
        capacity_text = metadata.get("capacity") or str(L.DEFAULT_CAPACITY)
        if not re.fullmatch(r"[0-9]{1,7}", capacity_text):
            raise NotATemplate(
                path, f"métadonnées du modèle abîmées (capacity « {capacity_text[:20]} »)"
            )
        capacity = int(capacity_text)
        self.last_table_row = header_row + capacity
        # The drop-down values as the settings spell them: a cell with one of them shares the
        # settings' string instead of keeping its own copy (a hundred thousand of them).
        self.exact = {
            key: {value: value for value in getattr(settings, attr)}
            for key, attr in CHOICE_FIELDS.items()
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
        table: list[tuple[int, list[object]]] = []
        for number, cells in self.book.value_rows(self.sheet):
            if number == self.header_row:
                self._map_columns(cells)
            elif number > self.header_row:
                table.append((number, cells))
        if not self.columns:
            self._map_columns([])
        rows = self._filled(table)
        numbers = [number for number, _ in rows]
        for number in numbers:
            if number > self.last_table_row:
                self.problem(
                    "row-below-table",
                    f"La ligne {number} est sous le tableau du modèle ; "
                    "elle a été lue, mais saisissez les actions dans le tableau.",
                    f"A{number}",
                )
        values: dict[str, list[Any]] = {}
        cents: dict[str, list[int | None]] = {}
        fractional: dict[str, list[int]] = {}
        by_column = _transposed([cells for _, cells in rows])
        for key in L.Columns.for_settings(self.settings).keys:
            if key == "gap":
                continue
            letter = self.columns.get(key)
            index = L.column_index(letter) if letter else len(by_column)
            column = by_column[index] if index < len(by_column) else (None,) * len(rows)
            if key in TEXT_FIELDS:
                values[key] = self._texts(key, column, letter, numbers)
            else:
                values[key], cents[key], fractional[key] = self._amounts(
                    key, column, letter, numbers
                )
        hidden = self.book.hidden_rows.get(self.sheet.part, set())
        for number in numbers:
            if number in hidden:
                self.problem(
                    "hidden-row",
                    f"La ligne {number} est masquée dans Excel : elle a été lue et compte dans "
                    "l'annexe. Affichez-la pour la vérifier, ou supprimez-la si l'action est "
                    "abandonnée.",
                    f"A{number}",
                )
        return TemplateRead(
            self.path,
            self.sheet.name,
            self.columns,
            self.metadata,
            numbers,
            values,
            cents,
            fractional,
            self.unusable,
            self.problems,
        )

    def _map_columns(self, cells: list[object]) -> None:
        expected = L.Columns.for_settings(self.settings)
        by_label: dict[str, str] = {}
        for index, value in enumerate(cells):
            if isinstance(value, str):  # a label written twice: the rightmost one, as before
                by_label[_fold(value)] = L.column_letter(index)
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

    def _filled(self, table: list[tuple[int, list[object]]]) -> list[tuple[int, list[object]]]:
        """The rows with something typed in one of the table's columns (a sponsor equal to
        the one the template is locked to does not count: the template pre-fills it)."""
        locked = self.metadata.get("sponsor") or None
        letter = self.columns.get("sponsor")
        sponsor = L.column_index(letter) if letter and locked else -1
        indices = [L.column_index(v) for k, v in self.columns.items() if k != "gap"]
        filled = []
        for number, cells in table:
            width = len(cells)
            for index in indices:
                if index >= width:
                    continue
                value = cells[index]
                if value is None or value == "":
                    continue
                if isinstance(value, str) and (
                    not clean_text(value) or (index == sponsor and value == locked)
                ):
                    continue
                filled.append((number, cells))
                break
        return filled

    def _usable(self, value: object, ref: str, key: str, position: int) -> object:
        """The value of a cell that is not a plain text or number: an Excel error or a formula
        without a saved value is reported (and ``_UNUSABLE`` returned); a date becomes text."""
        if isinstance(value, Cell):
            if value.kind is None:
                self._unusable(
                    key,
                    position,
                    "formula-without-value",
                    f"La formule ={value.formula} n'a pas de valeur "
                    "enregistrée : ouvrez le fichier dans Excel, recalculez (F9) et "
                    "enregistrez, ou tapez la valeur.",
                    ref,
                    f"={value.formula}",
                )
                return _UNUSABLE
            if value.kind == "e":
                self._unusable(
                    key,
                    position,
                    "excel-error",
                    f"La cellule affiche l'erreur Excel {value.value} : "
                    "corrigez la formule ou tapez la valeur.",
                    ref,
                    value.value,
                )
                return _UNUSABLE
            return value.value
        if isinstance(value, float) and not math.isfinite(value):
            return self._usable(Cell("e", "#NOMBRE!"), ref, key, position)
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat()  # a number shown as a date: never an amount
        if isinstance(value, dt.timedelta):
            return str(value)
        return value

    def _unusable(
        self, key: str, position: int, code: str, message: str, ref: str, value: object
    ) -> None:
        self.unusable.setdefault(position, set()).add(key)
        self.problem(code, message, ref, value)

    def _texts(
        self, key: str, column: Sequence[object], letter: str | None, numbers: list[int]
    ) -> list[str | None]:
        exact = self.exact.get(key, {})
        out: list[str | None] = []
        for position, value in enumerate(column):
            if value is None or value == "":
                out.append(None)
            elif type(value) is str and (value in exact or key == "description"):
                out.append(exact[value] if value in exact else value.strip() or None)
            elif type(value) is str and key == "title":
                out.append(clean_text(value) or None)
            else:
                out.append(self._text(key, value, f"{letter}{numbers[position]}", position))
        return out

    def _text(self, key: str, value: object, ref: str, position: int) -> str | None:
        value = self._usable(value, ref, key, position)
        if value is _UNUSABLE or value is None:
            return None
        if isinstance(value, bool):
            self._unusable(
                key, position, "not-text", "Un texte est attendu, pas VRAI/FAUX.", ref, value
            )
            return None
        if isinstance(value, float):
            value = excel_decimal(value)
        if isinstance(value, Decimal | int):
            value = format(Decimal(value), "f")
        text = str(value)
        if key in CHOICE_FIELDS:
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

    def _amounts(
        self, key: str, column: Sequence[object], letter: str | None, numbers: list[int]
    ) -> tuple[list[Decimal | None], list[int | None], list[int]]:
        """Amounts, their cents, and the positions whose amount is not in whole cents. A number
        saved by Excel takes the fast path when its 15 significant digits are whole cents."""
        amounts: list[Decimal | None] = []
        cents: list[int | None] = []
        fractional: list[int] = []
        for position, value in enumerate(column):
            if value is None or value == "":
                amounts.append(None)
                cents.append(None)
                continue
            if type(value) is float and (fast := cents_of_float(value)) is not None:
                amounts.append(fast[0])
                cents.append(fast[1])
                continue
            amount = self._amount(value, f"{letter}{numbers[position]}", key, position)
            amounts.append(amount)
            if amount is None:
                cents.append(None)
                continue
            count, whole_cents = to_cents(amount)
            cents.append(count)
            if not whole_cents:
                fractional.append(position)
        return amounts, cents, fractional

    def _amount(self, value: object, ref: str, key: str, position: int) -> Decimal | None:
        value = self._usable(value, ref, key, position)
        if value is _UNUSABLE:
            return None
        if isinstance(value, float):  # as the XML reader gives it, also in the messages
            value = excel_decimal(value)
        try:
            return parse_amount(value)
        except AmountError as exc:
            self._unusable(
                key,
                position,
                "invalid-amount",
                f"« {value} » n'est pas un montant lisible : {exc}. "
                "Tapez un nombre, par exemple 4500 ou 4500,50.",
                ref,
                value,
            )
            return None


def _transposed(rows: list[list[object]]) -> list[tuple[object, ...]]:
    """Rows -> columns, the short rows padded with None."""
    width = max(map(len, rows), default=0)
    if any(len(cells) < width for cells in rows):
        rows = [cells + [None] * (width - len(cells)) for cells in rows]
    return list(zip(*rows, strict=True))


_UNUSABLE = object()
