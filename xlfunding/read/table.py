"""The actions table of a template, read column by column into values, cents and problems.

The common cell (a text, a number saved by Excel) takes a few operations; anything else takes
the careful path, which turns what it cannot accept into a Problem at its cell: amounts as
French text, stray spaces and case in drop-down values, blank rows, rows below the table,
Excel errors and formulas never computed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlfunding import layout as L
from xlfunding.errors import NotATemplate
from xlfunding.identity import number_mistakes
from xlfunding.money import (
    AmountError,
    cents_of_float,
    excel_decimal,
    format_euros,
    parse_amount,
    to_cents,
)
from xlfunding.problems import Problem
from xlfunding.read.cells import Cell
from xlfunding.read.formats import DATE, serial, shown, shown_date
from xlfunding.read.found import TemplateRead
from xlfunding.read.xlsx import SheetInfo, XlsxFile
from xlfunding.settings import Settings
from xlfunding.text import clean_text, label_key

CHOICE_FIELDS = {"axis": "axes", "sponsor": "sponsors"}


class TableReader:
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
            key: {label_key(v): v for v in getattr(settings, attr)}
            for key, attr in CHOICE_FIELDS.items()
        }

    def problem(self, code: str, cell: str | None, value: object = None, **fields: Any) -> None:
        self.problems.append(
            Problem.make(
                code, file=self.path, sheet=self.sheet.name, cell=cell, value=value, **fields
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
                self.problem("row-below-table", f"A{number}", row=number)
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
            if key in L.TEXT_FIELDS or key in L.OPTIONAL_HEADERS:
                values[key] = texts = self._texts(key, column, letter, numbers)
                for at, code, why in number_mistakes(key, column, texts):  # #14: SIRET, RNA
                    self.problem(code, f"{letter}{numbers[at]}", texts[at], reason=why)
            else:
                values[key], cents[key], fractional[key] = self._amounts(
                    key, column, letter, numbers
                )
        hidden = self.book.hidden_rows.get(self.sheet.part, set())
        for number in numbers:
            if number in hidden:
                self.problem("hidden-row", f"A{number}", row=number)
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
            self.book.saved_at,
        )

    def _map_columns(self, cells: list[object]) -> None:
        expected = L.Columns.for_settings(self.settings)
        by_label: dict[str, str] = {}
        for index, value in enumerate(cells):
            if isinstance(value, str):  # a label written twice: the rightmost one, as before
                by_label[label_key(value)] = L.column_letter(index)
        for key, header in zip(expected.keys, expected.headers, strict=True):
            letter = by_label.get(label_key(header))
            if letter is None and key.startswith("funder:"):
                letter = by_label.get(label_key(key.removeprefix("funder:")))
            if letter is not None:
                self.columns[key] = letter
            elif key != "gap" and key not in L.OPTIONAL_HEADERS:
                self.problem(
                    "missing-column",
                    f"A{self.header_row}",
                    header,
                    header=header,
                    row=self.header_row,
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
        without a saved value is reported (and ``_UNUSABLE`` returned); so is a number shown
        as a date or a percentage in an amount cell (a text cell takes what it shows)."""
        if isinstance(value, Cell):
            if value.kind is None:  # no text: a follower of a shared formula
                formula = f"={value.formula}"
                variant = "" if value.formula else "shared"
                self._unusable(
                    key, position, "formula-without-value", ref, formula, formula=formula,
                    variant=variant,
                )
                return _UNUSABLE
            if value.kind == "e":
                self._unusable(key, position, "excel-error", ref, value.value, error=value.value)
                return _UNUSABLE
            if value.shown is not None and isinstance(value.value, Decimal):
                text = shown(value.value, value.shown, self.book.date1904)
                return self._shown(key, position, ref, text, value.shown, value.value)
            return value.value
        if isinstance(value, float) and not math.isfinite(value):
            return self._usable(Cell("e", "#NOMBRE!"), ref, key, position)
        if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
            # calamine took a number for a date where the format reading above did not
            text = str(value) if isinstance(value, dt.timedelta) else shown_date(value)
            return self._shown(key, position, ref, text, DATE, serial(value, self.book.date1904))
        return value

    def _shown(
        self, key: str, position: int, ref: str, text: str, kind: str, number: Decimal | None
    ) -> object:
        if key in L.TEXT_FIELDS:
            return text
        saved = "?" if number is None else format(number, "f").replace(".", ",")
        self._unusable(key, position, "invalid-amount", ref, text, variant=kind, number=saved)
        return _UNUSABLE

    def _unusable(
        self, key: str, position: int, code: str, ref: str, value: object, **fields: Any
    ) -> None:
        self.unusable.setdefault(position, set()).add(key)
        self.problem(code, ref, value, **fields)

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
            self._unusable(key, position, "not-text", ref, value)
            return None
        if isinstance(value, float):
            value = excel_decimal(value)
        if isinstance(value, Decimal | int):
            value = format(Decimal(value), "f")
        text = str(value)
        if key in CHOICE_FIELDS:
            cleaned = clean_text(text)
            canonical = self.choices[key].get(label_key(cleaned))
            if canonical is not None and canonical != text:
                self.problem("value-normalised", ref, text, text=text, canonical=canonical)
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
            amount = parse_amount(value)
        except AmountError as exc:
            self._unusable(key, position, "invalid-amount", ref, value, reason=exc)
            return None
        # Typed as text, read as an amount: say how, unless the cell has another problem
        # (negative, below the cent) or the text says nothing (zero).
        if isinstance(value, str) and amount is not None and amount > 0 and to_cents(amount)[1]:
            euros = format_euros(amount, cents=True)
            self.problem("value-normalised", ref, value, variant="amount", text=value, euros=euros)
        return amount


def _transposed(rows: list[list[object]]) -> list[tuple[object, ...]]:
    """Rows -> columns, the short rows padded with None."""
    width = max(map(len, rows), default=0)
    if any(len(cells) < width for cells in rows):
        rows = [cells + [None] * (width - len(cells)) for cells in rows]
    return list(zip(*rows, strict=True))


_UNUSABLE = object()
