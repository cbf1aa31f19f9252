"""The handler of a worksheet's XML: its cells with data, row by row, and its hidden rows.

References are checked only for cells with data: a million formatted empty cells cost no
parsing, and no grid is allocated from the sheet's declared dimension (a cell at XFD1048576
costs nothing).
"""

from __future__ import annotations

from xlfunding.layout import MAX_COLUMN, MAX_ROW, column_index, column_letter
from xlfunding.read.cells import Cell, decode_cell, split_ref
from xlfunding.read.parts import Corrupt, Handler, RichText, Stop, local_name


class SheetHandler(Handler):
    """Cells of a worksheet's ``sheetData``, gathered row by row into ``ready``."""

    def __init__(
        self, strings: list[str], hidden: set[int], kinds: dict[int, str] | None = None
    ) -> None:
        super().__init__()
        self.strings = strings
        self.kinds = kinds or {}  # style index -> "date" or "percent"
        self.hidden = hidden
        self.ready: list[tuple[int, dict[str, Cell]]] = []
        self.rows = 0  # rows with data, and their cells
        self.cells = 0
        self.last_row = 0
        self.in_data = False
        # the row being read
        self.row: int | None = None
        self.row_cells: dict[str, Cell] = {}
        self.numbered = True
        self.row_hidden = False
        self.previous: int | str = 0  # the previous cell's column, or its unread reference
        # the cell being read: reference (None if absent), type, column (if no reference),
        # and what its style shows a number as
        self.cell: tuple[str | None, str, int, str | None] | None = None
        self.value: str | None = None
        self.formula: str | None = None
        self.inline: RichText | None = None
        self.text: list[str] | None = None  # text of the <v> or <f> being read
        self.names: dict[str, str] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        local = self.names.get(name)
        if local is None:
            local = self.names[name] = local_name(name)
        if self.inline is not None:
            self.inline.start(local)
        elif self.text is not None:
            raise Corrupt(f"élément « {local[:20]} » inattendu dans la cellule {self.cell_ref}")
        elif local == "c":
            if self.row is not None:
                self._start_cell(attrs)
        elif local == "row":
            if self.in_data:
                self._start_row(attrs)
        elif self.cell is not None:
            if local in ("v", "f"):
                self.text = []
            elif local == "is":
                self.inline = RichText()
        elif local == "sheetData":
            self.in_data = True

    def end(self, name: str) -> None:
        local = self.names[name]
        inline = self.inline
        if inline is not None:
            if inline.depth > 1:
                inline.end(local)
            else:
                self.inline = None
                self.value = inline.text
        elif self.text is not None:
            if local == "v":  # an empty <v/> is no value, as openpyxl saves a formula
                self.value = "".join(self.text) or None
            else:
                self.formula = "".join(self.text)
            self.text = None
        elif local == "c":
            if self.cell is not None:
                self._end_cell()
        elif local == "row":
            if self.row is not None:
                self._end_row()
        elif local == "sheetData":
            raise Stop

    def _end_row(self) -> None:
        assert self.row is not None
        if self.row_cells:
            self.ready.append((self.row, self.row_cells))
            self.rows += 1
            self.cells += len(self.row_cells)
        self.last_row, self.row = self.row, None

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)
        elif self.inline is not None and self.inline.capturing:
            self.inline.parts.append(text)

    @property
    def cell_ref(self) -> str:
        return "?" if self.cell is None else self._ref(self.cell[0], self.cell[2])

    def _ref(self, ref: str | None, column: int) -> str:
        return ref or f"{column_letter(column - 1)}{self.row}"

    def _start_row(self, attrs: dict[str, str]) -> None:
        ref = attrs.get("r")
        self.numbered = ref is not None
        if ref is None:  # the number is optional: the next row, or its first cell's
            number = self.last_row + 1
        elif ref.isascii() and ref.isdigit() and 1 <= int(ref) <= MAX_ROW:
            number = int(ref)
        else:
            raise Corrupt(f"numéro de ligne « {ref[:20]} » impossible")
        if number <= self.last_row:
            raise Corrupt(f"ligne {number} en double ou dans le désordre")
        self.row = number
        self.row_cells, self.previous = {}, 0
        self.row_hidden = attrs.get("hidden") in ("1", "true")
        if self.row_hidden:
            self.hidden.add(number)

    def _start_cell(self, attrs: dict[str, str]) -> None:
        """References are checked only for cells with data (see ``_end_cell``): a million
        formatted empty cells cost no parsing."""
        ref = attrs.get("r")
        column = 0
        if ref is None:  # the reference is optional: the column after the previous cell's
            previous = self.previous
            column = (self._column(previous) if isinstance(previous, str) else previous) + 1
            if column > MAX_COLUMN:
                raise Corrupt(f"plus de {MAX_COLUMN} colonnes à la ligne {self.row}")
            self.previous = column
        else:
            self.previous = ref
        style = attrs.get("s")
        shown = None
        if self.kinds and style and style.isascii() and style.isdigit():
            shown = self.kinds.get(int(style))
        self.cell = (ref, attrs.get("t", "n"), column, shown)
        self.value = self.formula = None

    def _end_cell(self) -> None:
        assert self.cell is not None
        ref, kind, column, shown = self.cell
        self.cell = None
        if self.value is None and self.formula is None:
            return  # formatted, empty
        if ref is not None:
            column = self._column(ref)
        # A cell written twice, or after one to its right: placed by its reference, the last
        # one written counts (as LibreOffice and calamine read them).
        cell = decode_cell(kind, self.value, self.formula, self.strings, shown)
        if cell is not None:
            self.row_cells[column_letter(column - 1)] = cell

    def _column(self, ref: str) -> int:
        """The column of a reference, which must be in the row being read."""
        try:
            letters, row = split_ref(ref)
        except ValueError:
            raise Corrupt(f"référence de cellule « {ref[:20]} » impossible") from None
        if row != self.row and not self.numbered and not self.row_cells:
            self._renumber(row)  # a row without a number takes its first cell's
        if row != self.row:
            raise Corrupt(f"la cellule {ref} est rangée dans la ligne {self.row}")
        return column_index(letters) + 1

    def _renumber(self, row: int) -> None:
        assert self.row is not None
        if row <= self.last_row:
            raise Corrupt(f"ligne {row} en double ou dans le désordre")
        if self.row_hidden:
            self.hidden.discard(self.row)
            self.hidden.add(row)
        self.row, self.numbered = row, True
