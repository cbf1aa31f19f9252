"""A cell as saved in a sheet's XML, and how its saved value is decoded."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from xlfunding.layout import MAX_COLUMN, MAX_ROW, column_index
from xlfunding.money import excel_decimal

_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as saved: ``kind`` is n (number), s (text), b (boolean), e (error), or None
    (a formula with no saved value); ``formula`` is the formula text without "=", if any;
    ``shown``, for a number, "date" or "percent" when its format shows it so."""

    kind: str | None
    value: object
    formula: str | None = None
    shown: str | None = None


def split_ref(ref: str) -> tuple[str, int]:
    """ "AB12" -> ("AB", 12); ``ValueError`` for anything that is not a cell of Excel's grid."""
    match = _REF.fullmatch(ref.strip())
    if match is None:
        raise ValueError(ref)
    letters, row = match.group(1).upper(), int(match.group(2))
    if column_index(letters) >= MAX_COLUMN or not 1 <= row <= MAX_ROW:
        raise ValueError(ref)
    return letters, row


def decode_cell(
    kind: str, raw: str | None, formula: str | None, strings: list[str], shown: str | None = None
) -> Cell | None:
    """The cell of ``<c t="kind">`` with its saved value ``raw`` and its formula: a shared string
    looked up, a number as Excel shows it (``shown``, its style's « date » or « percent », kept
    on a number only); None for a cell with neither (formatted, empty). A formula
    pretty-printed (spaces and line breaks around it) is read without them."""
    if formula is not None:
        formula = formula.strip()
    if kind == "inlineStr":
        return Cell("s", raw or "", formula) if raw or formula is not None else None
    if raw is None:
        return Cell(None, None, formula) if formula is not None else None
    if kind == "s":
        index = raw.strip()
        if DIGITS.fullmatch(index) and int(index) < len(strings):
            return Cell("s", strings[int(index)], formula)
        return Cell("e", "#CHAÎNE?", formula)
    if kind == "str":
        return Cell("s", unescape(raw), formula)
    if kind == "b":
        return Cell("b", raw.strip() in ("1", "true"), formula)
    if kind == "e":
        return Cell("e", raw, formula)
    if kind == "d":
        return Cell("s", raw, formula)
    if not _NUMBER.fullmatch(raw):
        return Cell("e", "#NOMBRE?", formula)
    number = float(raw)
    if math.isinf(number):  # "1e999": NaN cannot match _NUMBER
        return Cell("e", "#NOMBRE!", formula)
    return Cell("n", excel_decimal(number), formula, shown)  # 15 significant digits, as Excel


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape(text: str) -> str:
    """OOXML's ``_xHHHH_`` escapes, decoded in one left-to-right pass (``_x005F_`` is "_")."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda match: chr(int(match[1], 16)), text)
