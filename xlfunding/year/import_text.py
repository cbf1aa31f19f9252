"""Read last year's annex as text (copied or extracted from its PDF or Word file).

The text has one line per table row, cells separated by tabs: the title, « Annexe n°2 », the
header, a line per axis (its name, then empty cells), a line per action (« title \\t
description \\t sponsor \\t budget »), the totals block (« \\t\\tTOTAL\\t248 656 € », then a
line per funder group), the prefecture's stamps and the shares in percent. Each line is
classified; what cannot be understood is kept, with its line number, for the report and the
« Non importé » sheet. Names are matched to the settings later (``importer``), forgiving case,
accents and spacing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xlfunding import layout as L
from xlfunding.errors import UnreadableFile
from xlfunding.files import MiB, read_small
from xlfunding.money import ZERO, AmountError, parse_amount
from xlfunding.problems import Problem
from xlfunding.settings import Settings
from xlfunding.text import clean_text, name_key, words_key
from xlfunding.year.import_layout import table_rows

TOTAL_LABEL = "TOTAL"
MAX_TEXT_BYTES = 16 * MiB
NOT_IMPORTED_SHEET = "Non importé"  # where the output keeps what was not imported
# « Ville = 5 457 € », « CCAS= 4 565 € », « Maisons et Cités= 19 334 € »: a name, « = », an
# amount, « € »; items separated by spaces, line breaks, commas or semicolons.
_ITEM = re.compile(r"[\s,;]*(?P<name>[^=€]+?)\s*=\s*(?P<amount>[^=€]*?)\s*(?:€|EUR\b)", re.I)
_PERCENT = re.compile(r"^\d{1,3}(?:[.,]\d+)?\s*%$")
_ACTE = re.compile(r"^\d{3}-[0-9A-Z]+-\d{8}-[0-9A-Z-]+$", re.I)
_STAMP_DATE = re.compile(r"^date de (?:teletransmission|reception prefecture)\s*:\s*[\d/.-]+$")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_COST = re.compile(r"co[uû]t\s+total\s*=", re.I)


@dataclass(frozen=True)
class Where:
    """Where something is in the source: a text line (``sheet`` None) or an annex cell."""

    sheet: str | None
    cell: str  # "ligne 9" or "E12"
    line: int  # the line or row number, to sort by

    @classmethod
    def text_line(cls, line: int) -> Where:
        return cls(None, f"ligne {line}", line)

    @property
    def label(self) -> str:
        """« ligne 9 » or « 'Annexe'!E12 », inside a sentence."""
        return self.cell if self.sheet is None else f"'{self.sheet}'!{self.cell}"


@dataclass(frozen=True)
class Budget:
    """« Coût total = 50 950 € CCAS = 14 985 € … »: the total and each funder as written."""

    total: Decimal
    items: tuple[tuple[str, Decimal], ...]  # (funder name as written, amount)

    @property
    def funded(self) -> Decimal:
        return sum((amount for _, amount in self.items), ZERO)


class BudgetError(ValueError):
    """Why a budget text could not be read (French)."""


def parse_budget(text: str) -> Budget:
    """Read « Coût total = … € » followed by each funder; ``BudgetError`` says what is wrong."""
    items: list[tuple[str, Decimal]] = []
    position = 0
    for match in _ITEM.finditer(text):
        if match.start() != position:
            break
        name = clean_text(match.group("name")).strip(" ,;:-")
        try:
            amount = parse_amount(match.group("amount"))
        except AmountError as exc:
            raise BudgetError(f"« {match.group('amount')} » ({name}) : {exc}") from exc
        if amount is None:
            raise BudgetError(f"le montant de « {name} » manque")
        items.append((name, amount))
        position = match.end()
    rest = text[position:].strip(" \t\r\n,;.")
    if rest:
        raise BudgetError(f"texte incompris « {rest[:60]} » (attendu : « Financeur = 1 000 € »)")
    if not items or name_key(items[0][0]) != "couttotal":
        raise BudgetError("il doit commencer par « Coût total = … € »")
    seen: set[str] = set()
    for name, _ in items[1:]:
        if name_key(name) in seen or name_key(name) == "couttotal":
            raise BudgetError(f"« {name} » y figure deux fois")
        seen.add(name_key(name))
    return Budget(items[0][1], tuple(items[1:]))


def budget_in(text: str) -> Budget | None:
    """The budget at the end of a line that could not be understood, if one can be read there:
    its amounts are then known, though not imported."""
    starts = [m.start() for m in _COST.finditer(text)]
    if not starts:
        return None
    try:
        return parse_budget(text[starts[-1] :])
    except BudgetError:
        return None


@dataclass
class RawAction:
    """An action as the source gives it: names as written, amounts as printed."""

    where: Where  # the text line, or the annex row (at its title cell)
    axis: str
    title: str
    description: str
    sponsor: str
    budget: Budget
    # the cell of "total", "sponsor" and each funder name, when not simply ``where``
    cells: dict[str, Where] = field(default_factory=dict)

    def cell(self, key: str) -> Where:
        return self.cells.get(key, self.where)


@dataclass(frozen=True)
class AxisRow:
    where: Where
    name: str


@dataclass(frozen=True)
class BlockLine:
    """A line of the annex's totals block: « TOTAL » or a funder group, and its amount."""

    where: Where
    label: str  # TOTAL_LABEL or the settings' group name
    amount: Decimal


@dataclass(frozen=True)
class Leftover:
    """What was not imported, and why: a whole line (or cell of the annex workbook), or one
    amount of a line that was imported (``whole`` false: an unknown funder's)."""

    where: Where
    text: str
    reason: str
    budget: Budget | None = None  # amounts readable on a whole line, for the totals check
    whole: bool = True

    @property
    def line(self) -> int:
        return self.where.line


@dataclass
class SourceRead:
    """Everything read from one annex, before its names are matched to the settings."""

    path: Path
    actions: list[RawAction] = field(default_factory=list)
    axes: list[AxisRow] = field(default_factory=list)
    block: list[BlockLine] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    heading: list[str] = field(default_factory=list)  # the lines above the table
    stamps: list[str] = field(default_factory=list)  # the prefecture's acknowledgement numbers


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252; read
    bounded (an annex's text is some 50 KB: a device, a pipe or 3 GB are refused at once)."""
    data = read_small(path, MAX_TEXT_BYTES, UnreadableFile, "le texte d'une annexe fait 50 Ko")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if "\x00" in text or not text.strip():
        raise UnreadableFile(path, "ce n'est pas le texte d'une annexe (fichier vide ou binaire)")
    return text


def parse_text(text: str, path: Path, settings: Settings) -> SourceRead:
    """Classify each row of an annex's text (see the module docstring; ``import_layout``
    first brings text aligned with spaces, or with cells over several lines, to that shape)."""
    return _TextParser(path, settings).run(table_rows(text.splitlines(), settings.axes))


class _TextParser:
    def __init__(self, path: Path, settings: Settings) -> None:
        self.read = SourceRead(path)
        self.axes = {name_key(a) for a in settings.axes}
        self.groups = {name_key(g): g for g in settings.groups}
        self.headings = {_undated(settings.title), _undated(settings.annex_label)}
        self.header = [name_key(h) for h in L.ANNEX_HEADERS[:4]]
        self.stamp = words_key("Accusé de réception en préfecture")
        self.axis = ""

    def run(self, rows: Iterable[tuple[int, str]]) -> SourceRead:
        rows = list(rows)
        start = self._table_start(rows)
        for number, line in rows:
            if not line.strip():
                continue
            if number < start:  # a title, a subtitle, another annex number: the heading
                self.read.heading.append(clean_text(" ".join(cells_of(line))))
            else:
                self._line(number, line)
        return self.read

    def _table_start(self, rows: list[tuple[int, str]]) -> int:
        """The number of the table's first line: its header row, or else its first axis or
        action row (what is above it is the document's heading)."""
        first = None
        for number, line in rows:
            cells = cells_of(line)
            if self._is_header(cells):
                return number
            starts = self._is_action(cells) or (len(cells) == 1 and name_key(cells[0]) in self.axes)
            if first is None and starts:
                first = number
        return first or 1

    def _is_header(self, cells: list[str]) -> bool:
        """The table's header row (« Axe », « Intitulé »…), repeated on each page."""
        return [name_key(c) for c in cells[:4]] == self.header

    @staticmethod
    def _is_action(cells: list[str]) -> bool:
        """An action's row: four cells, the last its budget (« Coût total : … »)."""
        return len(cells) == 4 and name_key(cells[3]).startswith("couttotal")

    def leftover(self, number: int, line: str, reason: str) -> None:
        budget = budget_in(clean_text(line))
        self.read.leftovers.append(Leftover(Where.text_line(number), line, reason, budget))

    def _line(self, number: int, line: str) -> None:
        where = Where.text_line(number)
        raw = line.rstrip("\r\n").split("\t")
        cells = cells_of(line)
        filled = [c.strip() for c in cells if c.strip()]
        if self._is_action(cells):
            self._action(where, cells, line)
        elif self._is_header(cells):
            return
        elif len(filled) == 1 and cells[0].strip():
            self._single(where, filled[0], has_tabs=len(raw) > 1, line=line)
        elif len(filled) == 2 and self._block(where, filled):
            return
        else:
            self.leftover(number, line, _not_understood(cells, line))

    def _action(self, where: Where, cells: list[str], line: str) -> None:
        title = clean_text(cells[0])
        if not title:
            self.leftover(where.line, line, "l'intitulé de l'action est vide")
            return
        try:
            budget = parse_budget(cells[3])
        except BudgetError as exc:
            self.leftover(where.line, line, f"budget illisible : {exc}")
            return
        self.read.actions.append(
            RawAction(
                where,
                self.axis,
                title,
                cells[1].strip(),
                clean_text(cells[2]),
                budget,
            )
        )

    def _single(self, where: Where, text: str, *, has_tabs: bool, line: str) -> None:
        folded, words = name_key(text), words_key(text)
        if _ACTE.match(text):
            self.read.stamps.append(text)
        if folded in self.axes:
            self.axis = clean_text(text)
            self.read.axes.append(AxisRow(where, self.axis))
        elif self._known_line(text, words):
            return
        elif has_tabs:  # shaped like an axis row: its name alone, then empty cells
            self.axis = clean_text(text)
            self.read.axes.append(AxisRow(where, self.axis))
        else:
            self.leftover(where.line, line, _not_understood(cells_of(line), line))

    def _known_line(self, text: str, words: str) -> bool:
        """The title, the annex label, a prefecture stamp line, a share in percent."""
        return bool(
            _undated(text) in self.headings
            or words == self.stamp
            or _ACTE.match(text)
            or _STAMP_DATE.match(words)
            or _PERCENT.match(text)
        )

    def _block(self, where: Where, filled: list[str]) -> bool:
        label, amount_text = filled
        folded = name_key(label)
        if folded == name_key(TOTAL_LABEL):
            label = TOTAL_LABEL
        elif folded in self.groups:
            label = self.groups[folded]
        else:
            return False
        try:
            amount = parse_amount(amount_text)
        except AmountError:
            return False
        if amount is None:
            return False
        self.read.block.append(BlockLine(where, label, amount))
        return True


def cells_of(line: str) -> list[str]:
    """A line's tab-separated cells, without the empty ones at its end."""
    cells = line.rstrip("\r\n").split("\t")
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def _not_understood(cells: list[str], line: str) -> str:
    if _COST.search(clean_text(line)):
        return (
            f"action sur {len(cells)} colonne(s) au lieu de 4 séparées par des tabulations "
            "(intitulé, description, porteur, budget) : elle n'a pas été importée"
        )
    return "ligne qui n'est ni un axe, ni une action, ni un total de l'annexe"


def _undated(text: str) -> str:
    """A title's key with its years blanked: last year's title is still the title."""
    return name_key(_YEAR.sub("#", text))
