"""The two usual shapes of an annex's text that are not one tab-separated line per table row,
turned into that shape (``import_text`` reads it), each row keeping its first line's number.

* ``pdftotext -layout`` (and most « save as text » of a PDF): columns aligned with spaces, a
  cell's text wrapped over several lines. The columns are where the header row (« Intitulé du
  projet », « Description », « Porteur », « Budget prévisionnel ») puts them, found again on
  each page; an action starts on the line whose budget column reads « Coût total = … », and
  gathers every line below it until a blank line, an axis, a total or the next action. Page
  numbers, the per-axis « Sous-total » lines and « Coût total de la programmation » (the
  TOTAL, checked where the totals block says it again) are dropped; the « Synthèse » page
  (the totals again, in another shape) is skipped up to the next header.
* Tab-separated text where a cell runs over several lines (a line break typed in a
  description, a budget one funder a line): the lines are joined back into their row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from xlfunding import layout as L
from xlfunding.text import name_key, words_key

Row = tuple[int, str]  # (first line number, the row as tab-separated cells)

_CHUNK = re.compile(r"\S+(?: \S+)*")  # a run of words; columns are two spaces or more apart
_PAGE = re.compile(r"^(?:page\s*)?\d+\s*(?:/|sur)\s*\d+$", re.I)
_ITEMS = re.compile(r"\s*(?:[^=€\t]+=[^=€\t]*(?:€|EUR\b)[\s,;]*)+", re.I)  # « ANCT = 7 900 € »
_HEADER = [name_key(h) for h in L.ANNEX_HEADERS[:4]]
_COST, _SUBTOTAL = name_key("Coût total"), name_key("Sous-total")
_HEADLINE = name_key("Coût total de la programmation")  # the TOTAL, said again below
_BROKEN_WORD = re.compile(r"\w-$")  # « éco- » then « citoyenne »: one word cut at its hyphen


def table_rows(lines: Sequence[str], axes: Iterable[str]) -> Iterator[Row]:
    """The rows of ``lines``, whichever of the shapes above (or the plain one) they have."""
    if any("\t" in line for line in lines):
        return _joined_tab_rows(lines)
    if any(_header(_chunks(line)) for line in lines):
        return _Layout({name_key(a) for a in axes}).rows(lines)
    return iter(enumerate(lines, start=1))


# -- tab-separated text with cells over several lines ---------------------------------------------
def _joined_tab_rows(lines: Sequence[str]) -> Iterator[Row]:
    held: Row | None = None  # the last row, kept back: its budget may go on below it
    begun: Row | None = None  # a row whose cells are not all there yet
    for number, line in enumerate((line.rstrip("\r\n") for line in lines), start=1):
        if begun is not None:
            if not line.strip():
                continue  # a blank line inside a cell
            start, text = begun
            joined = f"{text}\n{line}"
            if joined.count("\t") < 3:
                begun = (start, joined)
                continue
            begun = None
            if joined.count("\t") == 3 and _is_action(joined):
                yield from _release(held)
                held = (start, joined)
                continue
            yield from _release(held)
            held = (start, text)  # not a row begun after all: the parser will say so
        if held is not None and "\t" not in line and _is_action(held[1]) and _ITEMS.fullmatch(line):
            held = (held[0], f"{held[1]} {line.strip()}")  # one more funder of its budget
            continue
        yield from _release(held)
        held = None
        if 1 <= line.count("\t") < 3 and line.split("\t", 1)[0].strip():
            begun = (number, line)
        else:
            held = (number, line)
    yield from _release(held)
    yield from _release(begun)


def _release(row: Row | None) -> Iterator[Row]:
    if row is not None:
        yield row


def _is_action(row: str) -> bool:
    cells = row.split("\t")
    return len(cells) == 4 and name_key(cells[3]).startswith(_COST)


# -- pdftotext -layout ----------------------------------------------------------------------------
def _chunks(line: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in _CHUNK.finditer(line)]


def _header(chunks: list[tuple[int, str]]) -> list[int] | None:
    """The start of each column when ``chunks`` are the table's header row."""
    keys = [name_key(text) for _, text in chunks]
    if keys[:4] != _HEADER:
        return None
    return [start for start, _ in chunks]


def _joined(parts: list[str]) -> str:
    """A cell's lines as one text: wrapped lines join with a space, a word cut after its
    hyphen joins without."""
    text = ""
    for part in parts:
        text += part if not text or _BROKEN_WORD.search(text) else " " + part
    return text


class _Layout:
    def __init__(self, axes: set[str]) -> None:
        self.axes = axes
        self.columns: list[int] | None = None
        self.skipping = False
        self.action: tuple[int, list[list[str]]] | None = None  # first line, each cell's lines
        self.action_columns: list[int] = []
        self.chunked: list[list[tuple[int, str]]] = []

    def rows(self, lines: Sequence[str]) -> Iterator[Row]:
        self.chunked = chunked = [_chunks(line) for line in lines]
        for number, chunks in enumerate(chunked, start=1):
            header = _header(chunks) if chunks else None
            if header is not None:
                yield from self._flush()
                self.columns, self.skipping = header, False
                yield number, "\t".join(L.ANNEX_HEADERS[:4])
            elif not chunks:
                yield from self._flush()
            elif self.skipping:
                continue
            elif self.columns is None:
                yield from self._outside(number, chunks)
            else:
                yield from self._inside(number, chunks)
        yield from self._flush()

    def _flush(self) -> Iterator[Row]:
        if self.action is not None:
            number, cells = self.action
            self.action = None
            yield number, "\t".join(_joined(parts) for parts in cells)

    def _outside(self, number: int, chunks: list[tuple[int, str]]) -> Iterator[Row]:
        """Before the first header: the title, the annex label, the headline total."""
        texts = [text for _, text in chunks]
        if not ((len(texts) == 2 and name_key(texts[0]) == _HEADLINE) or _PAGE.match(texts[0])):
            yield number, "  ".join(texts)

    def _inside(self, number: int, chunks: list[tuple[int, str]]) -> Iterator[Row]:
        assert self.columns is not None
        placed = [(_nearest(start, self.columns), text) for start, text in chunks]
        texts = [text for _, text in placed]
        first = name_key(texts[0])
        if words_key(texts[0]).startswith("synthese"):
            yield from self._flush()
            self.skipping = True
        elif _starts_action(chunks):
            yield from self._flush()
            self.action = (number, [[] for _ in range(4)])
            # The row's own columns: its first line has a text in each, in order (a line may
            # be shifted by a few characters from the header, the centred sponsor more).
            starts = [start for start, _ in chunks]
            own = len(chunks) >= 4 and name_key(texts[3]).startswith(_COST + "=")
            self.action_columns = starts[:4] + self.columns[4:] if own else self.columns
            self._add(chunks)
        elif len(texts) == 1 and placed[0][0] == 0 and (first in self.axes or self.action is None):
            yield from self._flush()
            following = (c for c in islice(self.chunked, number, None) if c)  # the next line
            axis_like = first in self.axes or _starts_action(next(following, []))
            yield number, texts[0] + ("\t\t\t" if axis_like else "")
        elif all(col >= 3 for col, _ in placed) and first == _SUBTOTAL:
            yield from self._flush()
        elif len(texts) == 2 and all(col >= 3 for col, _ in placed) and self.action is None:
            yield number, f"\t\t{texts[0]}\t{texts[1]}"
        elif len(texts) == 1 and _PAGE.match(texts[0]):
            yield from self._flush()
        elif self.action is not None:
            self._add(chunks)
        else:
            yield number, "\t".join(texts)

    def _add(self, chunks: list[tuple[int, str]]) -> None:
        assert self.action is not None
        for start, text in chunks:
            col = _nearest(start, self.action_columns)
            if col < 4:  # the columns after the budget repeat its figures
                self.action[1][col].append(text)


def _nearest(start: int, columns: list[int]) -> int:
    """The column whose start is nearest ``start``."""
    return min(range(len(columns)), key=lambda i: abs(start - columns[i]))


def _starts_action(chunks: list[tuple[int, str]]) -> bool:
    """An action's first line: its budget column reads « Coût total = … »."""
    return any(name_key(text).startswith(_COST + "=") for _, text in chunks)
