"""write_corrections: the sender's own workbook, each problem cell marked with a comment, and a
first sheet "À corriger" listing every problem with a link to its cell."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from builders import SHEET, digest, edit, problem_rows, set_cell, workbook

from xlfunding.errors import OutputError
from xlfunding.problems import Report
from xlfunding.validate import validate_file, validate_files
from xlfunding.write.corrections import write_corrections
from xlfunding.write.libreoffice import convert

LIST_SHEET = "À corriger"
# B5 and B6: the same title "=1+1" for CCAS (a text that looks like a formula);
# C6: no description; I7: ANCT 4 000 instead of 4 500.
BROKEN = {"B5": "=1+1", "B6": "=1+1", "C6": None, "I7": 4000}
EXPECTED = [  # (link text, link location, code), in the order of the list
    ("'Actions'!B5", "'Actions'!B5", "duplicate-title"),
    ("'Actions'!B6", "'Actions'!B6", "duplicate-title"),
    ("'Actions'!C6", "'Actions'!C6", "missing-description"),
    ("'Actions'!E7", "'Actions'!E7", "funders-do-not-add-up"),
]


Broken = tuple[Path, Report]


@pytest.fixture
def broken(tmp_path: Path) -> Broken:
    path = edit(workbook(tmp_path, name="retour.xlsx"), BROKEN)
    return path, validate_file(path)


def corrections(broken: Broken, tmp_path: Path) -> Path:
    source, report = broken
    return write_corrections(source, report, tmp_path / "a-corriger.xlsx")


def test_list_sheet_comes_first_with_one_linked_row_per_problem(
        broken: Broken, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(corrections(broken, tmp_path))
    assert book.sheetnames == [LIST_SHEET, SHEET, "Mode d'emploi", "Listes", "_xlfunding"]
    assert book.active.title == LIST_SHEET
    sheet = book[LIST_SHEET]
    assert [c.value for c in sheet[3]] == [
        "N°", "Gravité", "Cellule", "Problème", "Valeur trouvée", "Que faire", "Code"]
    rows = list(sheet.iter_rows(min_row=4))
    assert [(r[2].value, r[2].hyperlink.location if r[2].hyperlink else None, r[6].value)
            for r in rows] == EXPECTED
    assert [(r[0].value, r[1].value, r[3].value) for r in rows] == [
        (1, "Erreur", "Intitulé en double"),
        (2, "Erreur", "Intitulé en double"),
        (3, "Avertissement", "Description manquante"),
        (4, "Erreur", "Financements différents du coût total"),
    ]
    assert [r[5].value for r in rows] == [p.message for p in broken[1].problems]
    assert sheet["A1"].value.startswith("À corriger : 3 erreurs, 1 avertissement.")


def test_text_that_looks_like_a_formula_stays_text(broken: Broken, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(corrections(broken, tmp_path))
    found = [(r[4].value, r[4].data_type) for r in book[LIST_SHEET].iter_rows(min_row=4)]
    assert found[:2] == [("=1+1", "s"), ("=1+1", "s")]
    assert (book[SHEET]["B5"].value, book[SHEET]["B5"].data_type) == ("=1+1", "s")


def test_each_problem_cell_has_a_comment_and_no_other_cell_has_one(
        broken: Broken, tmp_path: Path) -> None:
    _, report = broken
    book = openpyxl.load_workbook(corrections(broken, tmp_path))
    comments = {cell.coordinate: (cell.comment.author, cell.comment.text)
                for row in book[SHEET].iter_rows() for cell in row if cell.comment}
    labels = {"error": "Erreur", "warning": "Avertissement"}
    assert comments == {p.cell: ("xlfunding", f"{labels[p.severity]} : {p.message}")
                        for p in report.problems}
    assert sorted(comments) == ["B5", "B6", "C6", "E7"]


def _cells(book: openpyxl.Workbook, name: str) -> dict[str, tuple[object, str]]:
    """Every cell with something in it: (value or formula text, data type)."""
    return {cell.coordinate: (cell.value, cell.data_type) for row in book[name].iter_rows()
            for cell in row if cell.value is not None}


def test_the_senders_values_are_unchanged(broken: Broken, tmp_path: Path) -> None:
    source, _ = broken
    before = openpyxl.load_workbook(source)
    after = openpyxl.load_workbook(corrections(broken, tmp_path))
    assert after.sheetnames[1:] == before.sheetnames
    for name in before.sheetnames:
        assert _cells(after, name) == _cells(before, name), name
        assert after[name].sheet_state == before[name].sheet_state, name
    # formulas are kept as formulas
    assert after[SHEET]["T5"].value == "=ROUND(E5-SUM(F5:P5),2)"
    assert after[SHEET]["E3"].value == "=SUM(E5:E14)"


def test_the_copy_is_still_a_template_and_once_fixed_is_valid(
        broken: Broken, tmp_path: Path) -> None:
    _, report = broken
    output = corrections(broken, tmp_path)
    assert problem_rows(validate_file(output)) == problem_rows(report)
    book = openpyxl.load_workbook(output)
    for ref, value in {"B6": "Forum santé", "C6": "Un forum sur la santé.", "I7": 4500}.items():
        set_cell(book[SHEET], ref, value)
    book.save(output)
    fixed = validate_file(output)
    assert fixed.valid and fixed.problems == []
    assert [a.title for a in fixed.actions] == ["=1+1", "Forum santé", "Bouge ta ville"]


def test_the_input_is_not_modified(broken: Broken, tmp_path: Path) -> None:
    source, _ = broken
    before = digest(source)
    corrections(broken, tmp_path)
    assert digest(source) == before


def test_writing_over_the_input_is_refused(broken: Broken) -> None:
    source, report = broken
    before = digest(source)
    with pytest.raises(OutputError) as caught:
        write_corrections(source, report, source, force=True)
    assert str(source) in str(caught.value)
    assert "c'est un des fichiers lus" in str(caught.value)
    assert digest(source) == before


def test_an_existing_output_needs_force(broken: Broken, tmp_path: Path) -> None:
    output = tmp_path / "a-corriger.xlsx"
    output.write_bytes(b"keep me")
    source, report = broken
    with pytest.raises(OutputError, match="existe déjà"):
        write_corrections(source, report, output)
    assert output.read_bytes() == b"keep me"
    write_corrections(source, report, output, force=True)
    assert openpyxl.load_workbook(output).sheetnames[0] == LIST_SHEET


def test_only_the_problems_of_this_file_are_listed(broken: Broken, tmp_path: Path) -> None:
    source, _ = broken
    (tmp_path / "other").mkdir()
    other = edit(workbook(tmp_path / "other"), {"A5": "Culture"})
    both = validate_files([source, other])
    assert len(both.problems) == 5
    output = write_corrections(source, both, tmp_path / "a-corriger.xlsx")
    sheet = openpyxl.load_workbook(output)[LIST_SHEET]
    assert [r[6].value for r in sheet.iter_rows(min_row=4)] == [code for *_, code in EXPECTED]


def test_link_to_a_sheet_whose_name_has_an_apostrophe(tmp_path: Path) -> None:
    def rename(book: openpyxl.Workbook) -> None:
        book[SHEET].title = "Actions d'été"
        book.defined_names["xlfunding_entete"].attr_text = "'Actions d''été'!$A$4:$Q$4"

    source = edit(workbook(tmp_path), {"A6": "Culture"}, change=rename)
    report = validate_file(source)
    assert problem_rows(report) == [("Actions d'été", "A6", "unknown-axis")]
    output = write_corrections(source, report, tmp_path / "a-corriger.xlsx")
    book = openpyxl.load_workbook(output)
    link = book[LIST_SHEET]["C4"]
    assert (link.value, link.hyperlink.location) == ("'Actions d''été'!A6",
                                                    "'Actions d''été'!A6")
    assert book["Actions d'été"]["A6"].comment.author == "xlfunding"


@pytest.mark.libreoffice
def test_libreoffice_opens_the_copy(broken: Broken, tmp_path: Path) -> None:
    output = corrections(broken, tmp_path)
    # the first sheet, the list, as UTF-8 CSV (44: comma, 34: quote, 76: UTF-8)
    exported = convert(output, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "csv")
    rows = list(csv.reader(exported.read_text(encoding="utf-8").splitlines()))
    assert rows[2][:3] == ["N°", "Gravité", "Cellule"]
    assert [(row[0], row[2], row[6]) for row in rows[3:]] == [
        (str(n), where, code) for n, (where, _, code) in enumerate(EXPECTED, start=1)]


FAR = """
import resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, resource.RLIM_INFINITY))
from xlfunding.errors import UnreadableFile
from xlfunding.validate import validate_file
from xlfunding.write.corrections import write_corrections
source = Path(sys.argv[1])
try:
    write_corrections(source, validate_file(source), source.with_name("copie.xlsx"))
    print("COPIE")
except UnreadableFile as exc:
    print(exc)
"""


@pytest.mark.parametrize(("where", "answer"), [
    ("XFD1048576", "COPIE"),  # the last cell Excel has: the copy is made, in bounded memory
    ("YSO3749", "hors des limites d'Excel (YSO3749)"),  # beyond column XFD: refused
])
def test_a_far_cell_on_another_sheet_costs_nothing(tmp_path: Path, where: str, answer: str) -> None:
    """The « Mode d'emploi » sheet is not read by the checks; its cell A4 moved far away made
    the copy allocate a cell for every place of the rectangle (20 GB for YSO3749)."""
    source = Path(__file__).parent.parent / "examples" / "retours" / "ccas-2025.xlsx"
    path = tmp_path / "retour.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                assert b'<c r="A4"' in data
                data = data.replace(b'<c r="A4"', f'<c r="{where}"'.encode())
            new.writestr(info.filename, data)
    done = subprocess.run([sys.executable, "-c", FAR, str(path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert answer in done.stdout
