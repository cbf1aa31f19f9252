"""The reader accepts what people type and do to a template: blank rows, a renamed sheet, rows
inserted above the table, amounts typed as French text, formulas with their saved value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from builders import (
    BASE,
    SHEET,
    Formula,
    action,
    action_rows,
    action_tuple,
    edit,
    patch_cell,
    problem_rows,
    workbook,
)

from xlfunding.money import format_euros
from xlfunding.read.template import read_template
from xlfunding.settings import Settings
from xlfunding.validate import validate_file

EXTRA = (
    action(4, "Jardin partagé", "VILLE", "800", Ville="800"),
    action(1, "Café des parents", "CCAS", "1200", CCAS="1200"),
)
DATA_COLUMNS = "ABCDEFGHIJKLMNOP"


def _clear_rows(*rows: int):  # type: ignore[no-untyped-def]
    def change(book: openpyxl.Workbook) -> None:
        for row in rows:
            for letter in DATA_COLUMNS:
                book[SHEET][f"{letter}{row}"] = None
    return change


def _rename(new: str, *, keep_name: bool = True):  # type: ignore[no-untyped-def]
    """Rename the actions sheet as Excel does (the defined name follows), or lose the name."""
    def change(book: openpyxl.Workbook) -> None:
        book[SHEET].title = new
        if keep_name:
            book.defined_names["xlfunding_entete"].attr_text = f"'{new}'!$A$4:$Q$4"
        else:
            del book.defined_names["xlfunding_entete"]
    return change


def test_blank_rows_between_actions_are_skipped(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path, BASE + EXTRA), change=_clear_rows(6, 8))
    report = validate_file(path)
    assert report.valid and report.problems == []
    assert [(a.source.row, a.title) for a in report.actions if a.source] == [
        (5, "Atelier théâtre"), (7, "Bouge ta ville"), (9, "Café des parents")]


def test_a_row_of_spaces_is_blank(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path, BASE + EXTRA), {"A8": " ", "C8": "\u00a0\u200b"},
                change=_clear_rows(8))
    report = validate_file(path)
    assert report.problems == []
    assert [a.source.row for a in report.actions if a.source] == [5, 6, 7, 9]


def test_renamed_sheet_is_found_by_its_defined_name(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"A6": "Culture"}, change=_rename("Mes actions"))
    report = validate_file(path)
    assert problem_rows(report) == [("Mes actions", "A6", "unknown-axis")]
    assert [(a.source.sheet, a.source.row) for a in report.actions if a.source] == [
        ("Mes actions", 5), ("Mes actions", 7)]


def test_sheet_is_found_by_its_headers_when_the_defined_name_is_gone(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"A6": "Culture"},
                change=_rename("Actions 2025", keep_name=False))
    report = validate_file(path)
    assert problem_rows(report) == [("Actions 2025", "A6", "unknown-axis")]
    assert [action_tuple(a) for a in report.actions] == [action_tuple(BASE[0]),
                                                         action_tuple(BASE[2])]


def test_rows_inserted_above_the_table_move_every_cell(tmp_path: Path) -> None:
    def insert(book: openpyxl.Workbook) -> None:
        book[SHEET].insert_rows(1, 2)  # Excel moves the defined name with the rows
        book.defined_names["xlfunding_entete"].attr_text = f"'{SHEET}'!$A$6:$Q$6"

    path = edit(workbook(tmp_path), {"I6": 3000}, change=insert)  # row 6 is row 8 after
    report = validate_file(path)
    assert problem_rows(report) == [(SHEET, "E8", "funders-do-not-add-up")]
    assert [a.source.cell("total") for a in report.actions if a.source] == ["E7", "E9"]


def test_headers_are_matched_forgiving_case_and_spaces(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"E4": "  COÛT  total (€) ", "I4": "ANCT"})
    report = validate_file(path)
    assert report.problems == []
    assert action_rows(report) == [action_tuple(a) for a in BASE]


@pytest.mark.parametrize(("typed", "amount"), [
    ("14 985 €", Decimal("14985")),
    ("4 500,00", Decimal("4500.00")),
    ("4\u00a0500,00 €", Decimal("4500.00")),
    ("4\u202f500", Decimal("4500")),
    ("50950", Decimal("50950")),
    ("1 234,56 EUR", Decimal("1234.56")),
    ("50.950,00", Decimal("50950.00")),
])
def test_amounts_typed_as_text_are_read_exactly(tmp_path: Path, typed: str,
                                                amount: Decimal) -> None:
    # the total is typed as text, one funder pays all of it
    path = edit(workbook(tmp_path), {"E5": typed, "G5": float(amount), "I5": None})
    report = validate_file(path)
    # read, and said so at its cell (#17): « 14 985 € » est un texte, lu comme 14 985,00 €
    assert [(p.code, p.cell, p.value) for p in report.problems] == [
        ("value-normalised", "E5", typed)]
    assert f"lu comme {format_euros(amount, cents=True)}" in report.problems[0].message
    assert report.valid
    assert (report.actions[0].total, dict(report.actions[0].funding)) == (
        amount, {"CCAS": amount})


def test_funders_typed_as_text_add_up_exactly(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"E5": "14 985 €", "G5": "4 500,00", "I5": "10\u00a0485 €",
                                     "E7": "9 000,50", "F7": "4\u202f500,50", "I7": 4500})
    report = validate_file(path)
    assert [(p.code, p.cell) for p in report.problems] == [
        ("value-normalised", cell) for cell in ("E5", "G5", "I5", "E7", "F7")]
    assert [(a.total, dict(a.funding)) for a in report.actions] == [
        (Decimal("14985"), {"CCAS": Decimal("4500"), "ANCT": Decimal("10485")}),
        (Decimal("5000"), {"CCAS": Decimal("2500"), "ANCT": Decimal("2500")}),
        (Decimal("9000.50"), {"Ville": Decimal("4500.50"), "ANCT": Decimal("4500")}),
    ]


def test_normalised_choices_are_read_as_the_list_value(tmp_path: Path,
                                                       settings: Settings) -> None:
    path = edit(workbook(tmp_path), {"D5": " ccas ", "D6": "Ccas\u00a0",
                                     "A7": "engager la transition\u200b économique dans les QPV"})
    report = validate_file(path)
    assert [(p.cell, p.value) for p in report.problems] == [
        ("D5", " ccas "), ("D6", "Ccas\u00a0"),
        ("A7", "engager la transition\u200b économique dans les QPV")]
    assert [(a.axis, a.sponsor) for a in report.actions] == [
        (settings.axes[0], "CCAS"), (settings.axes[1], "CCAS"), (settings.axes[2], "VILLE")]


def test_titles_are_cleaned_and_descriptions_kept(tmp_path: Path) -> None:
    description = "  Ligne 1\nLigne 2 :\u00a0détails\t"
    path = edit(workbook(tmp_path), {"B5": "  Atelier\u00a0\u00a0théâtre\u200b ",
                                     "C5": description})
    report = validate_file(path)
    assert report.problems == []
    assert (report.actions[0].title, report.actions[0].description) == (
        "Atelier théâtre", description.strip())


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"B5": "=SUM(A1:A3)", "C5": "@cmd|' /C calc'!A0",
                                     "B6": "+33 6 00", "C6": "-- voir annexe"})
    report = validate_file(path)
    assert report.problems == []
    assert [(a.title, a.description) for a in report.actions[:2]] == [
        ("=SUM(A1:A3)", "@cmd|' /C calc'!A0"), ("+33 6 00", "-- voir annexe")]


def test_a_formula_with_its_saved_value_is_read(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"I5": Formula("=E5-G5")})
    patch_cell(path, "I5", '<c r="I5"><f>E5-G5</f><v>6000</v></c>')
    report = validate_file(path)
    assert report.problems == []
    assert action_rows(report) == [action_tuple(a) for a in BASE]


def test_a_text_formula_with_its_saved_value_is_read(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"D5": Formula('=UPPER("ccas")')})
    patch_cell(path, "D5", '<c r="D5" t="str"><f>UPPER("ccas")</f><v>CCAS</v></c>')
    report = validate_file(path)
    assert report.problems == []
    assert report.actions[0].sponsor == "CCAS"


def test_reader_keeps_every_field_column(settings: Settings, tmp_path: Path) -> None:
    read = read_template(workbook(tmp_path), settings)
    assert (read.sheet, read.sponsor) == (SHEET, None)
    assert read.columns == {
        "axis": "A", "title": "B", "description": "C", "sponsor": "D", "total": "E",
        "funder:Ville": "F", "funder:CCAS": "G", "funder:Région": "H", "funder:ANCT": "I",
        "funder:CAF": "J", "funder:CAHC": "K", "funder:TFPB": "L",
        "funder:Maisons et Cités": "M", "funder:PDC Habitat": "N", "funder:SIA HABITAT": "O",
        "funder:Autres": "P", "reference": "Q", "siret": "R", "rna": "S", "gap": "T"}
    assert read.rows == [5, 6, 7]


def test_escaped_characters_in_shared_strings_are_decoded(tmp_path: Path) -> None:
    typed = action(1, "Code _x0041_ du dossier", "CCAS", "10", "avant\x01après", CCAS="10")
    report = validate_file(workbook(tmp_path, [typed]))
    assert (report.actions[0].title, report.actions[0].description) == (
        "Code _x0041_ du dossier", "avant\x01après")


def test_an_amount_computed_by_a_formula_is_read_as_excel_shows_it(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"E5": 10636, "G5": Formula("=E5*0.3"), "I5": 7445.2})
    patch_cell(path, "G5", '<c r="G5"><f>E5*0.3</f><v>3190.7999999999997</v></c>')
    report = validate_file(path)
    assert report.problems == []
    assert dict(report.actions[0].funding) == {"CCAS": Decimal("3190.8"),
                                               "ANCT": Decimal("7445.2")}


def test_a_header_written_twice_is_read_from_its_rightmost_column(settings, tmp_path):
    """As the row-by-row reader did: the copy pasted to the right wins."""
    path = edit(workbook(tmp_path), {"R4": "Coût total (€)", "R5": 999})
    read = read_template(path, settings)
    assert read.columns["total"] == "R"
    assert read.values["total"][0] == Decimal(999)
