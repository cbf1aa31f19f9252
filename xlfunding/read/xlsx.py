"""A small, defensive reader of .xlsx cells: values, formulas, errors, defined names.

Why not openpyxl here: we need to know, for each cell, whether it holds a formula *and* whether
that formula has a saved value (openpyxl answers one or the other per load), and we must stay
bounded on hostile files. Every part is read through ``Archive`` (its bounds and defused
parser); on top of its bounds, a sheet has at most ``MAX_DATA_ROWS`` rows and
``MAX_DATA_CELLS`` cells with a value (the template has 300 rows; checking 10 000 actions
takes about 1.5 s).
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from xlfunding.errors import HostileFile, NotAnXlsx, UnreadableFile
from xlfunding.layout import column_index
from xlfunding.read.archive import Archive, spaced
from xlfunding.read.cells import Cell
from xlfunding.read.formats import style_kinds
from xlfunding.read.parts import (
    Attributes,
    CoreProperties,
    Relationships,
    SharedStrings,
    Styles,
    WorkbookPart,
)
from xlfunding.read.sheetxml import SheetHandler
from xlfunding.read.sniff import sniff_zip_kind

MAX_DATA_ROWS = 10_000
MAX_DATA_CELLS = 200_000


@dataclass(frozen=True)
class SheetInfo:
    name: str
    state: str  # visible | hidden | veryHidden
    part: str  # path of its XML inside the zip


class XlsxFile(Archive):
    """An open .xlsx: use as a context manager; read sheets one at a time. A sheet with more
    filled rows or cells than the class's bounds is refused, with ``too_big`` as the advice."""

    max_rows, max_cells = MAX_DATA_ROWS, MAX_DATA_CELLS
    too_big = (
        ", un modèle en a quelques centaines : ne gardez dans le classeur que le tableau des "
        "actions"
    )

    def __init__(self, path: Path | str) -> None:
        super().__init__(path)
        self.hidden_rows: dict[str, set[int]] = {}  # sheet part -> rows marked hidden
        try:
            kind = sniff_zip_kind(self.zip.namelist(), self._content_types())
            if kind != "xlsx":
                raise NotAnXlsx(self.path, kind)
            self.check_prologs()
            self.workbook_part = self._main_part()
            self.sheets, self.defined_names = self._workbook()
            self._strings: list[str] | None = None
            self._kinds: dict[int, str] | None = None
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self) -> XlsxFile:
        return self

    def _content_types(self) -> str:
        """The content types the package declares, one a line ("" when the part is missing)."""
        if "[Content_Types].xml" not in self.names:
            return ""
        handler = Attributes("ContentType", ("Default", "Override"))
        self.read("[Content_Types].xml", handler)
        return "\n".join(handler.found)

    def _main_part(self) -> str:
        if "_rels/.rels" not in self.names:
            raise NotAnXlsx(self.path, "aucun classeur dans l'archive")
        handler = Relationships()
        self.read("_rels/.rels", handler)
        for kind, target, _ in handler.found:
            if kind.endswith("/officeDocument"):
                return target.lstrip("/")
        raise NotAnXlsx(self.path, "aucun classeur dans l'archive")

    def _rels(self, part: str) -> dict[str, str]:
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", name + ".rels")
        targets: dict[str, str] = {}
        if rels_part not in self.names:
            return targets
        handler = Relationships()
        self.read(rels_part, handler)
        for _, target, rid in handler.found:
            if target.startswith("/"):
                full = target.lstrip("/")
            else:
                full = posixpath.normpath(posixpath.join(folder, target))
            targets[rid] = full
        return targets

    def _workbook(self) -> tuple[list[SheetInfo], dict[str, list[tuple[str, int | None]]]]:
        self._workbook_rels = rels = self._rels(self.workbook_part)
        handler = WorkbookPart()
        self.read(self.workbook_part, handler)
        sheets = [
            SheetInfo(name, state, rels[rid])
            for name, state, rid in handler.sheets
            if rels.get(rid) in self.names
        ]
        if not sheets:
            raise NotAnXlsx(self.path, "le classeur n'a aucune feuille")
        self.date1904 = handler.date1904
        return sheets, handler.names

    def sheet(self, name: str) -> SheetInfo | None:
        return next((s for s in self.sheets if s.name == name), None)

    # -- values ------------------------------------------------------------------------------
    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            self._strings = self._read_strings()
        return self._strings

    def _read_strings(self) -> list[str]:
        rels = self._workbook_rels
        part = next((p for p in rels.values() if p.endswith("sharedStrings.xml")), None)
        if part is None or part not in self.names:
            return []
        handler = SharedStrings()
        self.read(part, handler)
        return handler.strings

    @property
    def kinds(self) -> dict[int, str]:
        """Cell style index -> "date" or "percent", for the styles whose number format shows a
        number so (``formats``)."""
        if self._kinds is None:
            rels = self._workbook_rels
            part = next((p for p in rels.values() if p.endswith("styles.xml")), None)
            handler = Styles()
            if part is not None and part in self.names:
                self.read(part, handler)
            self._kinds = style_kinds(handler.formats, handler.styles)
        return self._kinds

    def rows(self, sheet: SheetInfo) -> Iterator[tuple[int, dict[str, Cell]]]:
        """Yield (row number, {column letters: Cell}) for each row that has a cell with data,
        in order. Rows marked hidden are noted in ``hidden_rows[sheet.part]``; a number shown
        as a date or a percentage says so (``Cell.shown``)."""
        handler = SheetHandler(
            self.strings, self.hidden_rows.setdefault(sheet.part, set()), self.kinds
        )
        for _ in self.parse(sheet.part, handler, f"la feuille « {sheet.name} »"):
            yield from self._gathered(handler, sheet)
        yield from self._gathered(handler, sheet)  # those of the chunk that closed sheetData

    def value_rows(self, sheet: SheetInfo) -> Iterator[tuple[int, list[object]]]:
        """Like ``rows``, each row as a list by column (A first): a text, a number (``Decimal``
        here, ``float`` from the fast engine), a boolean, None or "" when empty, or the
        ``Cell`` itself for an error, a formula without a saved value, or a number shown as a
        date or a percentage."""
        for number, cells in self.rows(sheet):
            placed = {column_index(letter): cell for letter, cell in cells.items()}
            values: list[object] = [None] * (max(placed) + 1)
            for index, cell in placed.items():
                values[index] = cell if cell.kind in (None, "e") or cell.shown else cell.value
            yield number, values

    def check_data_size(self, sheet: SheetInfo, rows: int, cells: int) -> None:
        if rows > self.max_rows or cells > self.max_cells:
            raise HostileFile(
                self.path,
                f"la feuille « {sheet.name} » a plus de {spaced(self.max_rows)} lignes ou "
                f"{spaced(self.max_cells)} cellules remplies{self.too_big}",
            )

    def _gathered(
        self, handler: SheetHandler, sheet: SheetInfo
    ) -> list[tuple[int, dict[str, Cell]]]:
        self.check_data_size(sheet, handler.rows, handler.cells)
        ready, handler.ready = handler.ready, []
        return ready

    @property
    def saved_at(self) -> dt.datetime | None:
        """The workbook's own last save (docProps/core.xml ``dcterms:modified``), or None."""
        part = "docProps/core.xml"
        if part not in self.names:
            return None
        handler = CoreProperties()
        try:
            self.read(part, handler)
        except UnreadableFile:  # no usable date: the next rule decides
            return None
        return handler.modified
