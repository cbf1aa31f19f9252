"""Filled template -> raw action rows, each value with its cell, and the problems of reading.

This module finds the template in a workbook: its metadata (is it ours, and for this
programme?) and its actions table (by the defined name of its header row, or by its headers);
``table`` reads the table. The reader accepts what people type and paste and turns everything
it cannot accept into a Problem at its cell. Whether the values obey the rules is the schema's
business (``xlfunding.validate``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from xlfunding import layout as L
from xlfunding.errors import NotAnXlsx, NotATemplate, WrongProgramme
from xlfunding.read.found import TemplateRead
from xlfunding.read.sniff import sniff_file
from xlfunding.read.table import TableReader
from xlfunding.read.xlsx import SheetInfo, XlsxFile
from xlfunding.settings import Settings
from xlfunding.text import label_key

__all__ = ["TemplateRead", "open_book", "read_template"]
HEADER_SCAN_ROWS = 30


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
        return TableReader(path, book, sheet, header_row, metadata, settings).run()


def open_book(path: Path) -> XlsxFile:
    """The fast engine (python-calamine behind a safety scan) when installed and not turned off
    with ``XLFUNDING_ENGINE=xml``; else the sparse XML reader. Both give the same cells."""
    if os.environ.get("XLFUNDING_ENGINE", "auto") != "xml":
        from xlfunding.read.fast import FastXlsxFile, python_calamine

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
    wanted = {label_key(h) for h in L.FIXED_HEADERS.values()}
    for sheet in book.sheets:
        if sheet.state != "visible" and sheet.name != L.ACTIONS_SHEET:
            continue
        for number, cells in book.rows(sheet):
            if number > HEADER_SCAN_ROWS:
                break
            found = {label_key(str(c.value)) for c in cells.values() if c.kind == "s"}
            if wanted <= found:
                return sheet, number
    raise NotATemplate(
        book.path, "l'onglet des actions est introuvable (en-têtes du tableau supprimés ?)"
    )
