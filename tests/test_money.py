"""parse_amount reads what people type, exactly; format_euros writes amounts the French way."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from xlfunding.money import (
    AmountError,
    cents_of_float,
    format_euros,
    is_whole_cents,
    parse_amount,
    to_cents,
)

NBSP = "\u00a0"
AMBIGUOUS = ("écriture ambiguë : séparez les milliers par une espace et les centimes par une "
             "virgule, par exemple 4 500,00")
NOT_AN_AMOUNT = "ce texte n'est pas un montant en euros"


@pytest.mark.parametrize(("typed", "amount"), [
    ("14 985 €", "14985"),
    ("4 500,00", "4500.00"),
    ("4\u00a0500,00 €", "4500.00"),
    ("4\u202f500", "4500"),
    ("4\u2009500", "4500"),
    ("1 000 000,10", "1000000.10"),
    ("1  234", "1234"),
    ("50950", "50950"),
    ("4500.5", "4500.5"),
    ("4500,5", "4500.5"),
    ("12,3456", "12.3456"),  # read, then refused by the schema: more than two decimals
    ("1234.567", "1234.567"),
    ("€ 12", "12"),
    ("12 EUR", "12"),
    ("12 euros", "12"),
    ("12€", "12"),
    ("  4500\u00a0", "4500"),
    ("45\u200b00", "4500"),
    ("-500", "-500"),
    ("- 500", "-500"),
    ("\u2212500", "-500"),
    ("+12", "12"),
    # dots between groups of three, then a decimal comma: one reading only (#17)
    ("50.950,00", "50950.00"),
    ("1.234,56", "1234.56"),
    ("1.234.567,5 €", "1234567.5"),
])
def test_text_amounts(typed: str, amount: str) -> None:
    parsed = parse_amount(typed)
    assert parsed == Decimal(amount)
    assert str(parsed) == amount  # exact, digits kept as typed


@pytest.mark.parametrize(("value", "amount"), [
    (7, "7"),
    (0.1, "0.1"),
    (12.345, "12.345"),
    (4500.5, "4500.5"),
    (Decimal("4500.50"), "4500.50"),
    (Decimal("999999999999.99"), "999999999999.99"),
])
def test_number_amounts(value: object, amount: str) -> None:
    assert str(parse_amount(value)) == amount


@pytest.mark.parametrize("blank", [None, "", "   ", "\u00a0", "\u200b"])
def test_blank_is_none(blank: object) -> None:
    assert parse_amount(blank) is None


@pytest.mark.parametrize("zero", ["-0", "0,00", -0.0, Decimal("-0")])
def test_zero_has_no_sign(zero: object) -> None:
    parsed = parse_amount(zero)
    assert parsed == 0
    assert not parsed.is_signed()  # type: ignore[union-attr]


@pytest.mark.parametrize(("typed", "reason"), [
    ("1,234.56", AMBIGUOUS),
    ("1.234", AMBIGUOUS),
    ("1.500", AMBIGUOUS),
    ("4,500", AMBIGUOUS),  # 4 500 € for an English habit, 4,50 € for a French one
    ("12,345", AMBIGUOUS),
    ("abc", NOT_AN_AMOUNT),
    ("12 34", NOT_AN_AMOUNT),
    ("1 234.56", NOT_AN_AMOUNT),
    ("(500)", NOT_AN_AMOUNT),
    ("--5", NOT_AN_AMOUNT),
    ("12e3", NOT_AN_AMOUNT),
    ("12,", NOT_AN_AMOUNT),
    (",5", NOT_AN_AMOUNT),
    ("4 500 ,00", NOT_AN_AMOUNT),
    (True, "une valeur VRAI/FAUX n'est pas un montant"),
    ([1], "une valeur de type list n'est pas un montant"),
    (float("nan"), "ce n'est pas un nombre"),
    (Decimal("Infinity"), "ce n'est pas un nombre"),
    (Decimal("1E+12"), "ce montant est trop grand (mille milliards d'euros ou plus)"),
    ("1 000 000 000 000", "ce montant est trop grand (mille milliards d'euros ou plus)"),
])
def test_refused_amounts_say_why(typed: object, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(typed)
    assert str(caught.value) == reason


@pytest.mark.parametrize(("amount", "cents", "text"), [
    ("50950", None, f"50{NBSP}950{NBSP}€"),
    ("248656", None, f"248{NBSP}656{NBSP}€"),
    ("1250", True, f"1{NBSP}250,00{NBSP}€"),
    ("4500.5", None, f"4{NBSP}500,50{NBSP}€"),
    ("0.01", None, f"0,01{NBSP}€"),
    ("-1234.5", None, f"-1{NBSP}234,50{NBSP}€"),
    ("0", None, f"0{NBSP}€"),
    ("0", True, f"0,00{NBSP}€"),
    ("1234567.89", None, f"1{NBSP}234{NBSP}567,89{NBSP}€"),
    ("999", None, f"999{NBSP}€"),
    ("1000", None, f"1{NBSP}000{NBSP}€"),
    ("4500.00", None, f"4{NBSP}500{NBSP}€"),
])
def test_format_euros(amount: str, cents: bool | None, text: str) -> None:
    assert format_euros(Decimal(amount), cents=cents) == text


def test_formatted_amounts_read_back() -> None:
    for amount in ("50950", "0.01", "1234567.89", "-4500.5"):
        assert parse_amount(format_euros(Decimal(amount))) == Decimal(amount)


@pytest.mark.parametrize(("amount", "whole"), [
    ("4500", True), ("4500.5", True), ("4500.50", True), ("4500.500", True),
    ("4500.005", False), ("0.001", False),
])
def test_whole_cents(amount: str, whole: bool) -> None:
    assert is_whole_cents(Decimal(amount)) is whole


# -- the fast path of the reader: a saved double's amount without a string ------------------
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-2e11, max_value=2e11))
@example(3190.7999999999997)  # =E5*0.3 as Excel saves it: whole cents, but the slow path's
@example(0.30000000000000004)
@example(4550.5)
@example(-0.0)
@example(1e-05)
@example(99999999999.99)
def test_cents_of_float_is_excel_decimal_exactly(number: float) -> None:
    fast = cents_of_float(number)
    if fast is None:
        return  # parse_amount decides, as before
    amount, cents = fast
    expected = parse_amount(number)
    assert expected is not None
    assert (amount, str(amount)) == (expected, str(expected))
    assert (cents, True) == to_cents(expected)


@given(st.integers(min_value=-(10**13) + 1, max_value=10**13 - 1))
def test_every_number_of_cents_saved_by_excel_takes_the_fast_path(cents: int) -> None:
    fast = cents_of_float(cents / 100)
    assert fast is not None and fast[1] == cents


@pytest.mark.parametrize(("amount", "cents", "exact"), [
    ("4500", 450000, True),
    ("4500.5", 450050, True),
    ("0.001", 1, False),  # away from zero: not zero, so "total-not-positive" stays silent
    ("-0.001", -1, False),  # and still negative
    ("-12.345", -1235, False),
    ("0", 0, True),
])
def test_to_cents_keeps_sign_and_zero(amount: str, cents: int, exact: bool) -> None:
    assert to_cents(Decimal(amount)) == (cents, exact)
