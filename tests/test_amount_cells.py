"""#17: what is typed in an amount cell is never silently read as something else. A date or a
percentage (a number shown so by its format) is an ``invalid-amount`` at its cell, saying what
was typed, with both engines; an amount typed as text is read and said so (``value-normalised``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from builders import SHEET, edit, problem_rows, workbook
from test_fastxlsx import _both

from xlfunding.read.formats import DATE, PERCENT, format_kind, shown, style_kinds
from xlfunding.validate import validate_file

ENGINES = ["auto", "xml"]


def formatted(path: Path, cells: dict[str, tuple[object, str]]) -> Path:
    """Set each cell to a value shown with a number format, as Excel saves what is typed."""
    def change(book: openpyxl.Workbook) -> None:
        for ref, (value, number_format) in cells.items():
            book[SHEET][ref].value = value
            book[SHEET][ref].number_format = number_format
    return edit(path, change=change)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("value", "number_format", "typed"), [
    (dt.date(2025, 1, 15), "dd/mm/yyyy", "15/01/2025"),  # a custom date code
    (dt.date(2025, 1, 15), "mm-dd-yy", "15/01/2025"),  # built-in 14
    (dt.datetime(2025, 1, 15, 9, 30), "d/m/yy h:mm", "15/01/2025 09:30"),
    (10000, "[$-40C]d mmmm yyyy", "18/05/1927"),  # a date format with a locale in brackets
    (0.5, "0%", "50\u00a0%"),  # built-in 9
    (0.125, "0.00%", "12,5\u00a0%"),  # built-in 10
    (0.4, "[Blue]0.0%", "40\u00a0%"),  # custom, with a colour
])
def test_a_date_or_a_percentage_in_an_amount_cell_is_an_invalid_amount(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, value: object,
        number_format: str, typed: str) -> None:
    monkeypatch.setenv("XLFUNDING_ENGINE", engine)
    path = formatted(workbook(tmp_path), {"G5": (value, number_format)})
    report = validate_file(path)
    # at its cell, and only there: no « les financements ne s'équilibrent pas » on the row
    assert problem_rows(report) == [(SHEET, "G5", "invalid-amount")]
    problem = report.problems[0]
    assert problem.value == typed and f"« {typed} »" in problem.message
    assert ("date" if typed.count("/") else "pourcentage") in problem.message
    assert (path, 5) in report.rejected


@pytest.mark.parametrize(("value", "number_format"), [
    (4000, '#,##0.00\\ "€"'),  # the template's own format
    (4000, '0" %"'),  # a quoted « % » does not make a percentage
    (4000, "General"),
    (4000, '0\\d'),  # an escaped letter is not a date
])
def test_a_number_shown_as_a_number_is_an_amount(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 value: object, number_format: str) -> None:
    path = formatted(workbook(tmp_path), {"G5": (value, number_format)})
    fast, xml = _both(path, monkeypatch)
    assert fast == xml
    assert validate_file(path).valid


def test_both_engines_report_dates_and_percentages_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = formatted(workbook(tmp_path), {
        "E5": (dt.date(2025, 1, 15), "dd/mm/yyyy"), "G5": (0.5, "0%"),
        "I6": (2500, "mmm yy"), "B7": (dt.date(2025, 3, 1), "dd/mm/yyyy")})
    fast, xml = _both(path, monkeypatch)
    assert fast == xml
    report = validate_file(path)
    assert problem_rows(report) == [(SHEET, cell, "invalid-amount") for cell in ("E5", "G5", "I6")]
    # a date in a text cell is the text it shows
    assert [a.title for a in report.actions] == ["01/03/2025"]


def test_format_kinds() -> None:
    assert format_kind("dd/mm/yyyy") == DATE
    assert format_kind("[h]:mm") == DATE  # elapsed time
    assert format_kind("h:mm AM/PM") == DATE
    assert format_kind("0.0%") == PERCENT
    assert format_kind('0.0"%"') is None
    assert format_kind("0\\%") is None
    assert format_kind("[Red]#,##0") is None
    assert format_kind('#,##0 "jours"') is None  # quoted letters
    assert format_kind("#,##0;[Red]-#,##0;dd") is None  # only the first section counts
    assert format_kind("General") is None
    assert style_kinds({164: "dd/mm/yy", 165: "0.00"}, [0, 14, 9, 164, 165, 4]) == {
        1: DATE, 2: PERCENT, 3: DATE}
    assert shown(Decimal("45672"), DATE) == "15/01/2025"
    assert shown(Decimal("45672"), DATE, date1904=True) == "16/01/2029"
    assert shown(Decimal("0.5"), PERCENT) == "50\u00a0%"


# -- amounts typed as text -----------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_an_amount_typed_as_text_is_read_and_said_so(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      engine: str) -> None:
    monkeypatch.setenv("XLFUNDING_ENGINE", engine)
    path = edit(workbook(tmp_path), {"G5": "4 000 €", "I5": "6.000,00"})
    report = validate_file(path)
    assert report.valid
    assert [(p.code, p.severity.value, p.cell, p.value) for p in report.problems] == [
        ("value-normalised", "warning", "G5", "4 000 €"),
        ("value-normalised", "warning", "I5", "6.000,00")]
    assert "« 4 000 € » est un texte, lu comme 4\u00a0000,00\u00a0€" in report.problems[0].message
    assert dict(report.actions[0].funding) == {"CCAS": Decimal(4000), "ANCT": Decimal("6000.00")}


@pytest.mark.parametrize("typed", ["50.950", "1,234.56", "4,500"])
def test_an_ambiguous_amount_stays_a_problem(tmp_path: Path, typed: str) -> None:
    report = validate_file(edit(workbook(tmp_path), {"G5": typed}))
    assert problem_rows(report) == [(SHEET, "G5", "invalid-amount")]
    assert "ambiguë" in report.problems[0].message
