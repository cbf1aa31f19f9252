"""validate_file: every problem code at its Excel cell, the bundled examples, the JSON report.

Each case starts from the three valid actions of ``builders.BASE`` (rows 5, 6, 7: see the
table in builders.py), breaks one thing, and lists every (sheet, cell, code) expected.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from builders import (
    BASE,
    CCAS_ONLY,
    SHEET,
    Formula,
    action,
    action_tuple,
    cached_error,
    edit,
    problem_rows,
    workbook,
)
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from seeddata import FIGURES
from typer.testing import CliRunner

from xlfunding.cli import app
from xlfunding.problems import CODES, Severity
from xlfunding.settings import Settings
from xlfunding.validate import _repeated_descriptions, validate_file, validate_files

ROOT = Path(__file__).parent.parent
EXAMPLES = [ROOT / "examples" / "programmation-2025.xlsx",
            ROOT / "examples" / "retours" / "ccas-2025.xlsx",
            ROOT / "examples" / "retours" / "ville-2025.xlsx"]
AXIS_3 = "Engager la transition économique dans les QPV"
NBSP = "\u00a0"

# The catalogue lists the cell-level codes together, from missing-value to no-actions.
_CODES = list(CODES)
CELL_LEVEL = set(_CODES[_CODES.index("missing-value"):_CODES.index("no-actions") + 1])


@dataclass
class Case:
    cells: dict[str, object] = field(default_factory=dict)
    actions: tuple = BASE
    sponsor: str | None = None
    capacity: int = 10
    extra_rows: int = 0  # rows typed in besides ``actions``
    rejected: tuple[int, ...] | None = None  # rows set aside, when not those of the errors
    after: Callable[[Path], object] | None = None  # for what openpyxl cannot write


def _errors_in_cells(path: Path) -> None:
    cached_error(path, {"I5": ("G5/0", "#DIV/0!"), "A6": ("'Listes'!Z99", "#N/A"),
                        "E7": ("#REF!*2", "#REF!")})


BELOW = {"A8": AXIS_3, "B8": "Sous le tableau", "C8": "Saisie à la ligne 8.", "D8": "VILLE",
         "E8": 100, "F8": 100}

# code -> (the broken workbook, every (sheet, cell, code) expected)
CASES: dict[str, tuple[Case, list[tuple[str | None, str | None, str]]]] = {
    "missing-value": (
        Case({"A5": None, "B6": f"  {NBSP} ", "D7": None, "E7": None}),
        [(SHEET, "A5", "missing-value"), (SHEET, "B6", "missing-value"),
         (SHEET, "D7", "missing-value"), (SHEET, "E7", "missing-value")]),
    "missing-column": (
        # the CAHC header, a funder no base action uses: no row of a mutilated table is trusted
        Case({"K4": None}, rejected=(5, 6, 7)),
        [(SHEET, "A4", "missing-column")]),
    "unknown-axis": (
        Case({"A5": "Culture", "A6": "Emancipation des habitants"}),
        [(SHEET, "A5", "unknown-axis"), (SHEET, "A6", "unknown-axis")]),
    "unknown-sponsor": (
        Case({"D5": "MAIRIE"}),
        [(SHEET, "D5", "unknown-sponsor")]),
    "sponsor-not-allowed": (
        Case({"D6": "VILLE"}, actions=CCAS_ONLY, sponsor="CCAS"),
        [(SHEET, "D6", "sponsor-not-allowed")]),
    "value-normalised": (
        Case({"D5": " ccas ", "D6": f"Ccas{NBSP}",
              "A7": "Engager la transition\u200b économique dans les QPV"}),
        [(SHEET, "A7", "value-normalised"), (SHEET, "D5", "value-normalised"),
         (SHEET, "D6", "value-normalised")]),
    "invalid-amount": (
        Case({"E5": "abc", "G6": "1,234.56", "I7": "1.234"}),
        [(SHEET, "E5", "invalid-amount"), (SHEET, "G6", "invalid-amount"),
         (SHEET, "I7", "invalid-amount")]),
    "negative-amount": (
        # each row still adds up: 4 005 - 5 + 6 000 = 10 000 and 3 000 - 500 + 2 500 = 5 000
        Case({"F5": 4005, "G5": -5, "F6": 3000, "G6": "-500"}),
        [(SHEET, "G5", "negative-amount"), (SHEET, "G6", "negative-amount")]),
    "too-many-decimals": (
        # 4 000,005 + 5 999,995 = 10 000 ; 12,345 = 12,345
        Case({"G5": "4 000,005", "I5": 5999.995, "E6": 12.345, "G6": 12.345, "I6": None}),
        [(SHEET, "E6", "too-many-decimals"), (SHEET, "G5", "too-many-decimals"),
         (SHEET, "G6", "too-many-decimals"), (SHEET, "I5", "too-many-decimals")]),
    "total-not-positive": (
        Case({"E5": 0, "G5": None, "I5": None}),
        [(SHEET, "E5", "total-not-positive"), (SHEET, "F5", "no-funder")]),
    "no-funder": (
        Case({"G5": None, "I5": None, "G6": 0, "I6": "0,00"}),
        [(SHEET, "F5", "no-funder"), (SHEET, "F6", "no-funder")]),
    "funders-do-not-add-up": (
        Case({"I5": 4750, "I6": 3000}),
        [(SHEET, "E5", "funders-do-not-add-up"), (SHEET, "E6", "funders-do-not-add-up")]),
    "duplicate-title": (
        # row 7 has the same title but another sponsor: not a duplicate
        Case({"B6": "atelier  THÉÂTRE", "B7": "Atelier théâtre"}),
        [(SHEET, "B5", "duplicate-title"), (SHEET, "B6", "duplicate-title")]),
    "text-too-long": (
        Case({"B5": "x" * 256, "B6": "y" * 255}),
        [(SHEET, "B5", "text-too-long")]),
    "formula-without-value": (
        Case({"I5": Formula("=E5-G5")}),
        [(SHEET, "I5", "formula-without-value")]),
    "excel-error": (
        Case(after=_errors_in_cells),
        [(SHEET, "A6", "excel-error"), (SHEET, "E7", "excel-error"),
         (SHEET, "I5", "excel-error")]),
    "not-text": (
        Case({"A5": True}),
        [(SHEET, "A5", "not-text")]),
    "share-above-cap": (
        # ANCT: 90 % on row 5; exactly the cap, 80 %, on row 6 is allowed
        Case({"G5": 1000, "I5": 9000, "G6": 1000, "I6": 4000}),
        [(SHEET, "I5", "share-above-cap")]),
    "missing-description": (
        Case({"C5": None, "C6": " \n "}),
        [(SHEET, "C5", "missing-description"), (SHEET, "C6", "missing-description")]),
    "duplicate-description": (
        Case({"C6": "  DESCRIPTION de « Atelier   théâtre ».",
              "C7": "Description de « Atelier théâtre »."}),
        [(SHEET, "C6", "duplicate-description"), (SHEET, "C7", "duplicate-description")]),
    "row-below-table": (
        Case(BELOW, capacity=3, extra_rows=1),  # the table ends on row 7
        [(SHEET, "A8", "row-below-table")]),
    "no-actions": (
        Case(actions=()),
        [(SHEET, None, "no-actions")]),
}



def build(folder: Path, case: Case) -> Path:
    path = workbook(folder, case.actions, sponsor=case.sponsor, capacity=case.capacity)
    if case.cells:
        edit(path, case.cells)
    if case.after is not None:
        case.after(path)
    return path


def test_the_table_covers_every_cell_level_code() -> None:
    assert set(CASES) == CELL_LEVEL
    for code, (_, expected) in CASES.items():
        assert code in {row[2] for row in expected}, code


@pytest.mark.parametrize("code", CASES)
def test_each_problem_is_reported_at_its_cell(tmp_path: Path, code: str) -> None:
    case, expected = CASES[code]
    report = validate_file(build(tmp_path, case))
    assert problem_rows(report) == sorted(expected, key=lambda r: (r[0] or "", r[1] or "", r[2]))
    errors = [row for row in expected if CODES[row[2]].severity is Severity.ERROR]
    assert report.valid is (not errors)
    # a row with an error is set aside; the other rows are accepted
    error_rows = {int(cell[1:]) for _, cell, _ in errors if cell and int(cell[1:]) >= 5}
    rejected = case.rejected if case.rejected is not None else sorted(error_rows)
    assert [row for _, row in report.rejected] == list(rejected)
    assert len(report.actions) + len(report.rejected) == len(case.actions) + case.extra_rows


# -- messages ----------------------------------------------------------------------------------
def test_gap_message_says_how_many_euros_are_missing_or_in_excess(tmp_path: Path) -> None:
    case, _ = CASES["funders-do-not-add-up"]
    report = validate_file(build(tmp_path, case))
    assert [(p.cell, p.value, p.message) for p in report.problems] == [
        ("E5", Decimal(10000),
         f"Il manque 1{NBSP}250,00{NBSP}€ de financements : le coût total est 10{NBSP}000{NBSP}€,"
         f" les financeurs totalisent 8{NBSP}750{NBSP}€. Complétez un financement ou corrigez le"
         " coût."),
        ("E6", Decimal(5000),
         f"Les financements dépassent le coût total de 500,00{NBSP}€ : le coût total est "
         f"5{NBSP}000{NBSP}€, les financeurs totalisent 5{NBSP}500{NBSP}€. Corrigez un "
         "financement ou le coût."),
    ]


def test_gap_of_one_cent_is_reported(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"I7": 4499.99})
    report = validate_file(path)
    assert [(p.cell, p.code) for p in report.problems] == [("E7", "funders-do-not-add-up")]
    assert report.problems[0].message.startswith(f"Il manque 0,01{NBSP}€ de financements")


def test_duplicate_description_names_the_first_row(tmp_path: Path) -> None:
    case, _ = CASES["duplicate-description"]
    report = validate_file(build(tmp_path, case))
    assert [p.message for p in report.problems] == [
        "Même description que l'action de la ligne 5 : décrivez ce que cette action a de propre.",
    ] * 2


def test_reader_problems_carry_the_value_found(tmp_path: Path) -> None:
    case, _ = CASES["invalid-amount"]
    report = validate_file(build(tmp_path, case))
    assert [(p.cell, p.value) for p in report.problems] == [
        ("E5", "abc"), ("G6", "1,234.56"), ("I7", "1.234")]
    assert report.problems[1].message == (
        "« 1,234.56 » n'est pas un montant lisible : écriture ambiguë : séparez les milliers par "
        "une espace et les centimes par une virgule, par exemple 4 500,00. Tapez un nombre, par "
        "exemple 4500 ou 4500,50.")


def test_formula_and_error_messages_quote_the_cell(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    formula = validate_file(build(tmp_path / "a", CASES["formula-without-value"][0]))
    assert [(p.value, p.message) for p in formula.problems] == [(
        "=E5-G5", "La formule =E5-G5 n'a pas de valeur enregistrée : ouvrez le fichier dans "
        "Excel, recalculez (F9) et enregistrez, ou tapez la valeur.")]
    errors = validate_file(build(tmp_path / "b", CASES["excel-error"][0]))
    assert [(p.cell, p.value, p.message) for p in errors.problems] == [
        ("I5", "#DIV/0!", "La cellule affiche l'erreur Excel #DIV/0! : corrigez la formule ou "
                          "tapez la valeur."),
        ("A6", "#N/A", "La cellule affiche l'erreur Excel #N/A : corrigez la formule ou tapez "
                       "la valeur."),
        ("E7", "#REF!", "La cellule affiche l'erreur Excel #REF! : corrigez la formule ou "
                        "tapez la valeur."),
    ]


def test_sponsor_not_allowed_names_the_template_sponsor(tmp_path: Path) -> None:
    report = validate_file(build(tmp_path, CASES["sponsor-not-allowed"][0]))
    assert [p.message for p in report.problems] == [
        "Ce modèle est celui du porteur CCAS : une action de « VILLE » doit être envoyée dans le "
        "modèle de ce porteur."]


def test_share_above_cap_message_is_french(tmp_path: Path) -> None:
    report = validate_file(build(tmp_path, CASES["share-above-cap"][0]))
    assert [p.message for p in report.problems] == [
        "ANCT financerait 90,0 % du coût, au-delà du plafond de 80 % : vérifiez ce montant ou "
        "le plan de financement."]


def test_no_funder_has_no_value(tmp_path: Path) -> None:
    report = validate_file(build(tmp_path, CASES["no-funder"][0]))
    assert [(p.cell, p.value) for p in report.problems] == [("F5", None), ("F6", None)]


def test_a_gap_below_one_cent_is_not_reported_as_zero_euros(tmp_path: Path) -> None:
    report = validate_file(edit(workbook(tmp_path), {"G5": "4 000,005"}))
    assert problem_rows(report) == [(SHEET, "G5", "too-many-decimals")]


# -- a fixed column removed from the header row ----------------------------------------------
@pytest.mark.parametrize("header", ["A4", "B4", "C4", "D4", "E4", "K4"])
def test_a_column_removed_is_one_problem_and_no_row_is_trusted(tmp_path: Path,
                                                               header: str) -> None:
    report = validate_file(edit(workbook(tmp_path), {header: None}))
    assert problem_rows(report) == [(SHEET, "A4", "missing-column")]
    assert not report.valid
    assert report.actions == []
    assert [row for _, row in report.rejected] == [5, 6, 7]


def test_missing_column_names_the_column(tmp_path: Path) -> None:
    report = validate_file(edit(workbook(tmp_path), {"E4": "Coût"}))
    assert [(p.value, p.message) for p in report.problems] == [(
        "Coût total (€)", "La colonne « Coût total (€) » a disparu de la ligne d'en-tête 4 : "
        "reprenez le modèle officiel, sans supprimer ni renommer de colonne.")]


# -- problems never come without a cell when they concern one ----------------------------------
def test_actions_keep_their_cells(tmp_path: Path) -> None:
    report = validate_file(workbook(tmp_path))
    assert report.valid and report.problems == []
    assert [action_tuple(a) for a in report.actions] == [action_tuple(a) for a in BASE]
    assert [(a.source.sheet, a.source.row, a.source.cell("total"), a.source.cell("funder:ANCT"))
            for a in report.actions if a.source] == [
        (SHEET, 5, "E5", "I5"), (SHEET, 6, "E6", "I6"), (SHEET, 7, "E7", "I7")]


def test_locked_template_accepts_its_own_sponsor_and_skips_prefilled_rows(
        tmp_path: Path) -> None:
    report = validate_file(workbook(tmp_path, CCAS_ONLY, sponsor="CCAS"))
    assert report.valid and report.problems == []
    assert [a.title for a in report.actions] == ["Atelier théâtre", "Forum santé"]


def test_one_row_with_only_a_description(tmp_path: Path) -> None:
    report = validate_file(edit(workbook(tmp_path), {"C9": "Une description seule."}))
    assert problem_rows(report) == [
        (SHEET, "A9", "missing-value"), (SHEET, "B9", "missing-value"),
        (SHEET, "D9", "missing-value"), (SHEET, "E9", "missing-value"),
        (SHEET, "F9", "no-funder")]
    assert [row for _, row in report.rejected] == [9]
    assert len(report.actions) == 3


# -- several files checked together ----------------------------------------------------------
def test_problems_of_several_files_stay_with_their_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = edit(workbook(tmp_path / "a"), {"I5": 4750, "C7": None})
    second = edit(workbook(tmp_path / "b"), {"A6": "Culture", "B7": "Forum santé"})
    report = validate_files([first, second])
    assert [(p.file, p.cell, p.code) for p in report.problems] == [
        (first, "E5", "funders-do-not-add-up"),
        (first, "C7", "missing-description"),
        (second, "A6", "unknown-axis"),
    ]
    assert report.rejected == [(first, 5), (second, 6)]
    assert [(a.source.file, a.source.row) for a in report.actions if a.source] == [
        (first, 6), (first, 7), (second, 5), (second, 7)]


def test_same_titles_and_descriptions_in_two_files_are_not_duplicates(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    report = validate_files([workbook(tmp_path / "a"), workbook(tmp_path / "b")])
    assert report.valid and report.problems == []
    assert len(report.actions) == 6


# -- the bundled examples ----------------------------------------------------------------------
def seed_rows(settings: Settings, sponsor: str | None = None) -> list[tuple[object, ...]]:
    return [(settings.axes[item["axis"] - 1], item["title"], item["sponsor"],
             Decimal(item["total"]), {k: Decimal(v) for k, v in item["funders"].items()})
            for item in FIGURES["actions"] if sponsor in (None, item["sponsor"])]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_bundled_example_is_clean_and_exact(path: Path, settings: Settings) -> None:
    sponsor = {"ccas-2025.xlsx": "CCAS", "ville-2025.xlsx": "VILLE"}.get(path.name)
    report = validate_file(path)
    assert report.valid
    assert report.problems == []
    assert report.rejected == []
    assert [(a.axis, a.title, a.sponsor, a.total, dict(a.funding))
            for a in report.actions] == seed_rows(settings, sponsor)
    assert all(a.description for a in report.actions)


def test_bundled_examples_hold_the_whole_programme() -> None:
    returns = [a for path in EXAMPLES[1:] for a in validate_file(path).actions]
    full = validate_file(EXAMPLES[0]).actions
    assert sorted(map(action_tuple, returns), key=str) == sorted(map(action_tuple, full), key=str)
    assert sum(a.total for a in full) == Decimal(248656) == Decimal(FIGURES["totals"]["TOTAL"])


def test_bundled_examples_validate_together() -> None:
    report = validate_files(EXAMPLES)
    assert report.valid and report.problems == []
    assert len(report.actions) == 20


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_cli_validates_bundled_example(path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    count = {"programmation-2025.xlsx": 10, "ccas-2025.xlsx": 4, "ville-2025.xlsx": 6}[path.name]
    assert result.stdout.strip() == f"✓ 1 fichier, {count} actions acceptées : valide."


# -- the JSON report ---------------------------------------------------------------------------
def test_cli_json_report(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"I5": 4750, "C6": None, "A7": "Culture"})
    result = CliRunner().invoke(app, ["validate", "--json", str(path)])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data == {
        "format": 1,
        "valid": False,
        "files": [str(path)],
        "unreadable": [],
        "counts": {"actions": 1, "rejected_rows": 2, "errors": 2, "warnings": 1,
                   "by_code": {"funders-do-not-add-up": 1, "missing-description": 1,
                               "unknown-axis": 1}},
        "problems": [
            {"code": "funders-do-not-add-up", "severity": "error", "file": str(path),
             "sheet": SHEET, "cell": "E5", "value": "10000",
             "message": f"Il manque 1{NBSP}250,00{NBSP}€ de financements : le coût total est "
                        f"10{NBSP}000{NBSP}€, les financeurs totalisent 8{NBSP}750{NBSP}€. "
                        "Complétez un financement ou corrigez le coût."},
            {"code": "missing-description", "severity": "warning", "file": str(path),
             "sheet": SHEET, "cell": "C6", "value": None,
             "message": "L'action n'a pas de description : dites en une ou deux phrases ce "
                        "qu'elle fait et pour qui."},
            {"code": "unknown-axis", "severity": "error", "file": str(path),
             "sheet": SHEET, "cell": "A7", "value": "Culture",
             "message": "« Culture » n'est pas un axe de la programmation : choisissez-en un "
                        "dans la liste déroulante."},
        ],
    }


def test_cli_json_report_of_a_valid_file_with_warnings(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"D5": " ccas "})
    result = CliRunner().invoke(app, ["validate", "--json", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["valid"] is True
    assert data["counts"] == {"actions": 3, "rejected_rows": 0, "errors": 0, "warnings": 1,
                              "by_code": {"value-normalised": 1}}
    assert [(p["cell"], p["severity"], p["value"]) for p in data["problems"]] == [
        ("D5", "warning", " ccas ")]


def test_cli_text_report_exit_code_1(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"I5": 4750})
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "'Actions'!E5" in result.stdout
    assert "[funders-do-not-add-up]" in result.stdout


def test_an_action_typed_with_the_base_helper_is_as_written() -> None:
    # guard for the table above: the base rows are what builders.py's docstring says
    assert [(a.sponsor, a.total, dict(a.funding)) for a in BASE] == [
        ("CCAS", Decimal(10000), {"CCAS": Decimal(4000), "ANCT": Decimal(6000)}),
        ("CCAS", Decimal(5000), {"CCAS": Decimal(2500), "ANCT": Decimal(2500)}),
        ("VILLE", Decimal(9000), {"Ville": Decimal(4500), "ANCT": Decimal(4500)}),
    ]
    assert action(3, "x", "VILLE", "1", Ville="1").axis == AXIS_3


# -- repeated descriptions: a key of a few words at each end, then the whole text -------------
def _naive_repeats(descriptions: list[str | None], files: list[int]) -> set[tuple[int, int]]:
    first: dict[tuple[int, str], int] = {}
    found = set()
    for index, text in enumerate(descriptions):
        if text is None:
            continue
        seen = first.setdefault((files[index], " ".join(text.split()).casefold()), index)
        if seen != index:
            found.add((index, seen))
    return found


_WORDS = st.sampled_from(["Atelier", "atelier", "ATELIER", "des", "familles", "Straße",
                          "STRASSE", "à", "l'école", "x"])
_SPACES = st.sampled_from([" ", "  ", "\n", "\u00a0", "\t ", "\u202f"])


@st.composite
def _texts(draw: st.DrawFn) -> str | None:
    words = draw(st.lists(_WORDS, min_size=0, max_size=30))
    if not words:
        return draw(st.sampled_from([None, ""]))
    gaps = draw(st.lists(_SPACES, min_size=len(words) + 1, max_size=len(words) + 1))
    return "".join(g + w for g, w in zip(gaps, words, strict=False)) + gaps[-1]


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), _texts()), max_size=25))
def test_repeated_descriptions_are_those_of_the_whole_texts(
    rows: list[tuple[int, str | None]],
) -> None:
    rows = sorted(rows, key=lambda row: row[0])  # the frame is in file order
    files, descriptions = [f for f, _ in rows], [d for _, d in rows]
    found = set(_repeated_descriptions(descriptions, files))
    assert found == _naive_repeats(descriptions, files)


def test_share_above_cap_with_a_total_in_fractions_of_a_cent(tmp_path: Path) -> None:
    """The total's cents are rounded up for the quick comparison: the exact one decides."""
    path = edit(workbook(tmp_path), {"E5": 12.511, "G5": 2.501, "I5": 10.01})
    codes = {(p.cell, p.code) for p in validate_file(path).problems}
    assert ("I5", "share-above-cap") in codes


def test_a_row_whose_only_cell_is_unusable_is_not_also_without_funder(tmp_path: Path) -> None:
    path = edit(workbook(tmp_path), {"E9": "abc"})
    assert problem_rows(validate_file(path)) == [
        (SHEET, "A9", "missing-value"),
        (SHEET, "B9", "missing-value"),
        (SHEET, "C9", "missing-description"),
        (SHEET, "D9", "missing-value"),
        (SHEET, "E9", "invalid-amount"),
    ]
