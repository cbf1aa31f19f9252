"""Exact euro amounts: parsing what people type, formatting the way the annex prints.

Money is ``Decimal`` everywhere; nothing here goes through ``float`` arithmetic.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation

ZERO = Decimal(0)
CENT = Decimal("0.01")
MAX_DIGITS = 12  # a trillion euros: far above any programme, far below Decimal's precision

# Spaces people use as thousands separators: plain, no-break (U+00A0), narrow no-break (U+202F),
# thin (U+2009); zero-width characters are dropped outright.
_GROUP_SPACES = "\u0020\u00a0\u202f\u2009\u2007"
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_CURRENCY = re.compile(r"(€|eur(?:os?)?)\s*$|^\s*(€)", re.IGNORECASE)
# French decimal comma with optional space grouping: "4 500,00", "50950", "14 985".
_FRENCH = re.compile(r"^\d{1,3}(?:[ ]\d{3})+(?:,\d+)?$|^\d+(?:,\d+)?$")
# A plain decimal point is accepted only without grouping: "4500.5" (but never "1,234.56").
_DOT = re.compile(r"^\d+\.\d+$")
# "50.950,00", "1.234.567,5": dots between groups of three, then a decimal comma (as in
# Germany or Belgium): no other reading. Without the comma ("50.950") it stays ambiguous.
_DOT_GROUPS = re.compile(r"^\d{1,3}(?:\.\d{3})+,\d+$")
# "4,500" or "4.500": 4 500 € for an English habit, 4,50 € for a French one. Never guessed.
_AMBIGUOUS = re.compile(r"^\d{1,3}[.,]\d{3}$")


class AmountError(ValueError):
    """Why a text could not be read as an amount (the message is French)."""


def parse_amount(value: object) -> Decimal | None:
    """Read one amount cell's value: ``None`` when blank, else an exact ``Decimal``.

    Accepts numbers and French texts ("14 985 €", "4 500,00", "50950", U+00A0/U+202F groups,
    "50.950,00", a leading minus). Raises ``AmountError`` (French reason) for text that could
    be read two ways ("1,234.56", "1.234") or is not a number. Whether the amount is allowed
    (positive, cents) is the schema's business, not the parser's.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise AmountError("une valeur VRAI/FAUX n'est pas un montant")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = excel_decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        parsed = _parse_text(value)
        if parsed is None:
            return None
        amount = parsed
    else:
        raise AmountError(f"une valeur de type {type(value).__name__} n'est pas un montant")
    if not amount.is_finite():
        raise AmountError("ce n'est pas un nombre")
    if amount.adjusted() >= MAX_DIGITS:
        raise AmountError("ce montant est trop grand (mille milliards d'euros ou plus)")
    return amount + ZERO  # normalises -0


def excel_decimal(number: float) -> Decimal:
    """A binary double as Excel shows and computes it: 15 significant digits.

    ``=E5*0.3`` saved as 3190.7999999999997 is 3 190,80 € in Excel, and here too.
    """
    if number.is_integer() and abs(number) < 2**53:
        return Decimal(int(number))
    return Decimal(f"{number:.15g}")


def _parse_text(text: str) -> Decimal | None:
    cleaned = text.translate(_ZERO_WIDTH).strip()
    if not cleaned:
        return None
    cleaned = _CURRENCY.sub("", cleaned).strip()
    sign = ""
    if cleaned[:1] in ("-", "\u2212"):
        sign, cleaned = "-", cleaned[1:].strip()
    elif cleaned[:1] == "+":
        cleaned = cleaned[1:].strip()
    for space in _GROUP_SPACES:
        cleaned = cleaned.replace(space, " ")
    cleaned = re.sub(" +", " ", cleaned)
    if _DOT_GROUPS.match(cleaned):  # "50.950,00": dots group, the comma is the decimal one
        cleaned = cleaned.replace(".", " ")
    if _AMBIGUOUS.match(cleaned) or ("," in cleaned and "." in cleaned):
        raise AmountError(
            "écriture ambiguë : séparez les milliers par une espace et les centimes par une "
            "virgule, par exemple 4 500,00"
        )
    if _FRENCH.match(cleaned):
        number = cleaned.replace(" ", "").replace(",", ".")
    elif _DOT.match(cleaned):
        number = cleaned
    elif re.fullmatch(r"[\d ,.]+", cleaned) and cleaned.count(",") + cleaned.count(".") > 1:
        raise AmountError(
            "écriture ambiguë : séparez les milliers par une espace et les centimes par une "
            "virgule, par exemple 4 500,00"
        )
    else:
        raise AmountError("ce texte n'est pas un montant en euros")
    try:
        return Decimal(sign + number)
    except InvalidOperation as exc:  # pragma: no cover - the regexes admit only digits
        raise AmountError("ce texte n'est pas un montant en euros") from exc


_FRENCH_GROUPING = str.maketrans({",": "\u00a0", ".": ","})


def format_euros(amount: Decimal, *, cents: bool | None = None) -> str:
    """``Decimal("50950")`` -> ``"50 950 €"``; cents shown only when there are some.

    Groups and the space before € are no-break spaces (U+00A0), so a line never breaks inside
    an amount and every font has the character.
    """
    show_cents = amount != amount.to_integral_value() if cents is None else cents
    quantized = amount.quantize(CENT) if show_cents else amount.quantize(Decimal(1))
    return format(quantized, ",f").translate(_FRENCH_GROUPING) + "\u00a0€"


def is_whole_cents(amount: Decimal) -> bool:
    return to_cents(amount)[1]


FAST_LIMIT = 1e11  # below MAX_DIGITS: a fast amount never needs the size check


def cents_of_float(number: float) -> tuple[Decimal, int] | None:
    """The amount Excel shows for a saved double and its number of cents, when those are whole
    (the common case) and computing them takes no string: ``excel_decimal(number)`` exactly,
    same exponent included. None when the slow path must decide (``parse_amount``)."""
    if not -FAST_LIMIT < number < FAST_LIMIT:
        return None
    if number.is_integer():
        whole = int(number)
        return Decimal(whole), whole * 100
    # A decimal of at most 15 significant digits reads back as itself from the double nearest
    # to it: when that double is ``number``, ``excel_decimal`` gives these cents.
    cents = round(number * 100)
    if cents / 100 != number:
        return None
    if cents % 10 == 0:  # 4550.5 has one decimal, as "%.15g" writes it
        return Decimal(cents // 10).scaleb(-1), cents
    return Decimal(cents).scaleb(-2), cents


def to_cents(amount: Decimal) -> tuple[int, bool]:
    """The amount as a number of cents rounded away from zero (so its sign, and whether it is
    zero, are kept), and whether that number is exact."""
    scaled = amount.scaleb(2)
    count = scaled.to_integral_value(rounding=ROUND_UP)
    return int(count), count == scaled


def percent(amount: Decimal, total: Decimal) -> Decimal:
    """Whole percent, rounded half up as Excel's "0 %" format shows it."""
    return (amount * 100 / total).quantize(Decimal(1), rounding=ROUND_HALF_UP)
