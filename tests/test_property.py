"""Round trips with generated programmes: what write_template writes, validate_file reads back
to the cent; one funder amount changed gives exactly one gap, at the total-cost cell."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from builders import SHEET, action_tuple, edit, problem_rows, workbook
from hypothesis import given, settings
from hypothesis import strategies as st

from xlfunding.model import Action
from xlfunding.money import format_euros, parse_amount
from xlfunding.settings import load_settings
from xlfunding.validate import validate_file

SETTINGS = load_settings()
FUNDER_COLUMN = {f.code: chr(ord("F") + i) for i, f in enumerate(SETTINGS.funders)}
ANCT_CAP = Decimal(80)
LETTERS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
           "éèêëàâäîïôöûüùçÉÈÊÀÂÎÔÛÇœŒæ'’«»:;,.!?()/%&€°")
FORMULA_LIKE = st.sampled_from(["", "", "=", "+", "-", "@", "=SUM(A1)+", "-- "])
BOUNDED = settings(max_examples=25, deadline=None)


@st.composite
def titles(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.text(LETTERS, min_size=1, max_size=12), min_size=1, max_size=6))
    return draw(FORMULA_LIKE) + " ".join(words)


@st.composite
def descriptions(draw: st.DrawFn) -> str:
    text = draw(st.text(LETTERS + " \n\t\u00a0", max_size=120))
    return (draw(FORMULA_LIKE) + text).strip()


@st.composite
def actions(draw: st.DrawFn) -> Action:
    codes = draw(st.lists(st.sampled_from(SETTINGS.funder_codes), min_size=1, max_size=4,
                          unique=True))
    cents = draw(st.lists(st.integers(1, 10**9), min_size=len(codes), max_size=len(codes)))
    funding = {code: Decimal(c).scaleb(-2) for code, c in zip(codes, cents, strict=True)}
    return Action(
        axis=draw(st.sampled_from(SETTINGS.axes)),
        title=draw(titles()),
        description=draw(descriptions()),
        sponsor=draw(st.sampled_from(SETTINGS.sponsors)),
        total=sum(funding.values(), Decimal(0)),
        funding=funding,
    )


programmes = st.lists(actions(), min_size=1, max_size=6,
                      unique_by=lambda a: (a.sponsor, a.title.casefold()))


def expected_warnings(programme: list[Action]) -> list[tuple[str, str, str]]:
    """What the rules say about a valid programme: blank or repeated descriptions, ANCT above
    its cap."""
    rows = []
    seen: set[str] = set()
    for row, a in enumerate(programme, start=5):
        key = " ".join(a.description.split()).casefold()
        if not key:
            rows.append((SHEET, f"C{row}", "missing-description"))
        elif key in seen:
            rows.append((SHEET, f"C{row}", "duplicate-description"))
        seen.add(key)
        if a.amount("ANCT") * 100 > a.total * ANCT_CAP:
            rows.append((SHEET, f"{FUNDER_COLUMN['ANCT']}{row}", "share-above-cap"))
    return sorted(rows)


@BOUNDED
@given(programme=programmes)
def test_written_programme_reads_back_to_the_cent(programme: list[Action]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        report = validate_file(workbook(Path(folder), programme))
    assert report.valid
    assert report.errors == []
    assert problem_rows(report) == expected_warnings(programme)
    assert [action_tuple(a) for a in report.actions] == [action_tuple(a) for a in programme]
    assert [a.source.row for a in report.actions if a.source] == list(
        range(5, 5 + len(programme)))


@BOUNDED
@given(programme=programmes, data=st.data())
def test_one_funder_changed_gives_one_gap(programme: list[Action], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(programme) - 1), label="action")
    changed = programme[index]
    code = data.draw(st.sampled_from(sorted(changed.funding)), label="funder")
    old = changed.funding[code]
    new = data.draw(st.integers(1, 10**9).map(lambda c: Decimal(c).scaleb(-2)).filter(
        lambda amount: amount != old), label="new amount")
    row = 5 + index
    with tempfile.TemporaryDirectory() as folder:
        path = edit(workbook(Path(folder), programme),
                    {f"{FUNDER_COLUMN[code]}{row}": new})
        report = validate_file(path)
        assert report.rejected == [(path, row)]
    errors = [(p.sheet, p.cell, p.code) for p in report.errors]
    assert errors == [(SHEET, f"E{row}", "funders-do-not-add-up")]
    gap = old - new  # what the funders now lack (negative: they exceed the cost)
    funded = changed.funded - old + new
    if gap > 0:
        message = (f"Il manque {format_euros(gap, cents=True)} de financements : le coût total "
                   f"est {format_euros(changed.total)}, les financeurs totalisent "
                   f"{format_euros(funded)}. Complétez un financement ou corrigez le coût.")
    else:
        message = (f"Les financements dépassent le coût total de "
                   f"{format_euros(-gap, cents=True)} : le coût total est "
                   f"{format_euros(changed.total)}, les financeurs totalisent "
                   f"{format_euros(funded)}. Corrigez un financement ou le coût.")
    assert report.errors[0].message == message
    assert report.errors[0].value == changed.total
    others = programme[:index] + programme[index + 1:]
    assert [action_tuple(a) for a in report.actions] == [action_tuple(a) for a in others]


@BOUNDED
@given(cents=st.integers(-(10**13) + 1, 10**13 - 1), show=st.sampled_from([None, True]))
def test_formatted_euros_read_back(cents: int, show: bool | None) -> None:
    amount = Decimal(cents).scaleb(-2)  # cents are shown whenever there are some
    assert parse_amount(format_euros(amount, cents=show)) == amount


@BOUNDED
@given(cents=st.integers(0, 10**13 - 1),
       space=st.sampled_from([" ", "\u00a0", "\u202f", "\u2009"]),
       euro=st.sampled_from(["", " €", "€", " EUR", " euros"]))
def test_french_text_amounts_are_exact(cents: int, space: str, euro: str) -> None:
    integer, fraction = divmod(cents, 100)
    grouped = f"{integer:,}".replace(",", space)
    assert parse_amount(f"{grouped},{fraction:02d}{euro}") == Decimal(cents).scaleb(-2)
