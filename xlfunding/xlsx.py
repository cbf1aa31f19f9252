"""A small, defensive reader of .xlsx cells: values, formulas, errors, defined names.

Why not openpyxl here: we need to know, for each cell, whether it holds a formula *and* whether
that formula has a saved value (openpyxl answers one or the other per load), and we must stay
bounded on hostile files. Cells are read sparsely, in order, from the sheet's XML with a parser
that refuses DTDs and entities; no grid is allocated from the sheet's declared dimension, so a
cell at XFD1048576 costs nothing.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse as safe_iterparse

from xlfunding.errors import HostileFile, NotAnXlsx, UnreadableFile
from xlfunding.sniff import sniff_zip_kind

# Bounds that keep one hostile file from exhausting the machine.
MAX_PART_BYTES = 256 * 1024 * 1024  # one XML part, uncompressed
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # all parts we read, uncompressed
MAX_RATIO = 200  # uncompressed / compressed, for parts above 1 MiB


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as saved: ``kind`` is n (number), s (text), b (boolean), e (error), or None
    (a formula with no saved value); ``formula`` is the formula text without "=", if any."""

    kind: str | None
    value: object
    formula: str | None = None


@dataclass(frozen=True)
class SheetInfo:
    name: str
    state: str  # visible | hidden | veryHidden
    part: str  # path of its XML inside the zip


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def split_ref(ref: str) -> tuple[str, int]:
    """ "AB12" -> ("AB", 12)."""
    for index, char in enumerate(ref):
        if char.isdigit():
            return ref[:index], int(ref[index:])
    raise ValueError(ref)


class XlsxFile:
    """An open .xlsx: use as a context manager; read sheets one at a time."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise NotAnXlsx(self.path, "archive zip illisible ou tronquée") from exc
        try:
            self._check_archive()
            kind = sniff_zip_kind(self.zip.namelist(), self._content_types())
            if kind != "xlsx":
                raise NotAnXlsx(self.path, kind)
            self.workbook_part = self._main_part()
            self.sheets, self.defined_names = self._workbook()
            self._strings: list[str] | None = None
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self) -> XlsxFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()

    # -- archive and parts -------------------------------------------------------------------
    def _check_archive(self) -> None:
        total = 0
        for info in self.zip.infolist():
            total += info.file_size
            if info.file_size > MAX_PART_BYTES:
                raise HostileFile(
                    self.path,
                    f"la partie « {info.filename} » ferait "
                    f"{info.file_size // 2**20} Mo une fois décompressée",
                )
            if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise HostileFile(
                    self.path,
                    f"la partie « {info.filename} » est une bombe de décompression (taux anormal)",
                )
        if total > MAX_TOTAL_BYTES:
            raise HostileFile(self.path, f"le contenu ferait {total // 2**20} Mo décompressé")

    def _open(self, part: str) -> IO[bytes]:
        try:
            return self.zip.open(part)
        except KeyError as exc:
            raise UnreadableFile(self.path, f"partie « {part} » manquante") from exc
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
            raise UnreadableFile(self.path, f"partie « {part} » illisible ({exc})") from exc

    def _iterparse(self, part: str) -> Iterator[tuple[str, Element]]:
        handle = self._open(part)
        try:
            yield from safe_iterparse(handle, events=("end",), forbid_dtd=True)
        except DefusedXmlException as exc:
            raise HostileFile(
                self.path,
                f"la partie « {part} » déclare une DTD ou des entités XML, refusées par sécurité",
            ) from exc
        except (SyntaxError, zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            # xml.etree.ElementTree.ParseError is a SyntaxError
            raise UnreadableFile(self.path, f"partie « {part} » corrompue ({exc})") from exc
        finally:
            handle.close()

    def _content_types(self) -> str:
        try:
            with self.zip.open("[Content_Types].xml") as handle:
                return handle.read(1 << 20).decode("utf-8", "replace")
        except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
            return ""

    def _main_part(self) -> str:
        for _, element in self._iterparse("_rels/.rels"):
            if _local(element.tag) == "Relationship" and element.get("Type", "").endswith(
                "/officeDocument"
            ):
                return element.get("Target", "").lstrip("/")
        raise NotAnXlsx(self.path, "aucun classeur dans l'archive")

    def _rels(self, part: str) -> dict[str, str]:
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", name + ".rels")
        targets: dict[str, str] = {}
        if rels_part not in self.zip.namelist():
            return targets
        for _, element in self._iterparse(rels_part):
            if _local(element.tag) == "Relationship":
                target = element.get("Target", "")
                if target.startswith("/"):
                    full = target.lstrip("/")
                else:
                    full = posixpath.normpath(posixpath.join(folder, target))
                targets[element.get("Id", "")] = full
        return targets

    def _workbook(self) -> tuple[list[SheetInfo], dict[str, list[tuple[str, int | None]]]]:
        rels = self._rels(self.workbook_part)
        sheets: list[SheetInfo] = []
        names: dict[str, list[tuple[str, int | None]]] = {}
        for _, element in self._iterparse(self.workbook_part):
            tag = _local(element.tag)
            if tag == "sheet":
                rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
                part = rels.get(rid)
                if part and part in self.zip.namelist():
                    sheets.append(
                        SheetInfo(element.get("name", ""), element.get("state", "visible"), part)
                    )
            elif tag == "definedName":
                local_id = element.get("localSheetId")
                names.setdefault(element.get("name", ""), []).append(
                    (element.text or "", int(local_id) if local_id and local_id.isdigit() else None)
                )
        if not sheets:
            raise NotAnXlsx(self.path, "le classeur n'a aucune feuille")
        return sheets, names

    def sheet(self, name: str) -> SheetInfo | None:
        return next((s for s in self.sheets if s.name == name), None)

    # -- values ------------------------------------------------------------------------------
    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            self._strings = self._read_strings()
        return self._strings

    def _read_strings(self) -> list[str]:
        rels = self._rels(self.workbook_part)
        part = next((p for p in rels.values() if p.endswith("sharedStrings.xml")), None)
        if part is None or part not in self.zip.namelist():
            return []
        strings: list[str] = []
        for _, element in self._iterparse(part):
            if _local(element.tag) == "si":
                strings.append(_text_of(element))
                element.clear()
        return strings

    def rows(self, sheet: SheetInfo) -> Iterator[tuple[int, dict[str, Cell]]]:
        """Yield (row number, {column letters: Cell}) for each row that has a cell with data."""
        strings = self.strings
        current: dict[str, Cell] = {}
        current_row = 0
        next_row = 1
        for _, element in self._iterparse(sheet.part):
            tag = _local(element.tag)
            if tag == "c":
                cell = _cell(element, strings)
                ref = element.get("r")
                if cell is not None:
                    if ref:
                        letters, _ = split_ref(ref)
                    else:  # refs are optional in the format: count columns
                        from xlfunding.layout import column_letter

                        letters = column_letter(len(current))
                    current[letters] = cell
                element.clear()
            elif tag == "row":
                number = element.get("r")
                current_row = int(number) if number and number.isdigit() else next_row
                next_row = current_row + 1
                if current:
                    yield current_row, current
                    current = {}
                element.clear()
            elif tag == "sheetData":
                break


def _text_of(element: Element) -> str:
    """Concatenate the texts of a string item (plain or rich runs), leaving out phonetic runs."""
    parts = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _cell(element: Element, strings: list[str]) -> Cell | None:
    kind = element.get("t", "n")
    formula = None
    raw = None
    inline = None
    for child in element:
        tag = _local(child.tag)
        if tag == "v":
            raw = child.text
        elif tag == "f":
            formula = child.text or ""
        elif tag == "is":
            inline = _text_of(child)
    if kind == "inlineStr":
        return Cell("s", inline or "", formula) if inline or formula is not None else None
    if raw is None:
        return Cell(None, None, formula) if formula is not None else None
    if kind == "s":
        try:
            return Cell("s", strings[int(raw)], formula)
        except (ValueError, IndexError):
            return Cell("e", "#CHAÎNE?", formula)
    if kind == "str":
        return Cell("s", raw, formula)
    if kind == "b":
        return Cell("b", raw.strip() in ("1", "true"), formula)
    if kind == "e":
        return Cell("e", raw, formula)
    if kind == "d":
        return Cell("s", raw, formula)
    try:
        # Shortest decimal spelling of the stored double, as Excel displays it.
        number = float(raw)
    except ValueError:
        return Cell("e", "#NOMBRE?", formula)
    if number != number or number in (float("inf"), float("-inf")):
        return Cell("e", "#NOMBRE!", formula)
    if number.is_integer() and abs(number) < 2**53:
        return Cell("n", Decimal(int(number)), formula)
    return Cell("n", Decimal(repr(number)), formula)
