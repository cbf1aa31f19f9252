"""The standard template: drop-downs, protection, metadata, live check, and LibreOffice."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from seeddata import seed_actions
from typer.testing import CliRunner

from xlfunding import layout as L
from xlfunding.cli import app
from xlfunding.write.libreoffice import recalculated_copy
from xlfunding.write.template import write_all_sponsors, write_template

ROOT = Path(__file__).parent.parent
EXAMPLES = [
    ROOT / "examples" / "programmation-2025.xlsx",
    ROOT / "examples" / "retours" / "ccas-2025.xlsx",
    ROOT / "examples" / "retours" / "ville-2025.xlsx",
]


@pytest.fixture(scope="module")
def blank(tmp_path_factory, settings) -> Path:
    return write_template(settings, tmp_path_factory.mktemp("t") / "modele.xlsx")


def _validations(sheet) -> dict[str, tuple[str, str | None]]:
    return {str(v.sqref): (v.type, v.formula1) for v in sheet.data_validations.dataValidation}


def test_sheets_lists_and_dropdowns(blank, settings):
    book = openpyxl.load_workbook(blank)
    assert book.sheetnames == ["Actions", "Mode d'emploi", "Listes", "_xlfunding"]
    assert [s.sheet_state for s in book] == ["visible", "visible", "hidden", "veryHidden"]
    names = {name: book.defined_names[name].attr_text for name in book.defined_names}
    assert names == {
        "liste_axes": "'Listes'!$A$2:$A$5",
        "liste_porteurs": "'Listes'!$B$2:$B$3",
        "xlfunding_entete": "'Actions'!$A$4:$T$4",
    }
    lists = book["Listes"]
    assert [c.value for c in lists["A"][1:]] == list(settings.axes)
    assert [c.value for c in lists["B"][1:3]] == list(settings.sponsors)
    validations = _validations(book["Actions"])
    assert validations["A5:A304"] == ("list", "liste_axes")
    assert validations["D5:D304"] == ("list", "liste_porteurs")
    for letter in "EFGHIJKLMNOP":
        assert validations[f"{letter}5:{letter}304"] == ("decimal", "0")
    assert all(v.promptTitle and v.prompt for v in book["Actions"].data_validations.dataValidation)


def test_headers_check_formula_and_totals(blank, settings):
    sheet = openpyxl.load_workbook(blank)["Actions"]
    headers = [c.value for c in sheet[L.HEADER_ROW]]
    assert headers == [
        *L.FIXED_HEADERS.values(),
        *(f.label for f in settings.funders),
        "Référence Dauphin",  # the optional columns (#14), before the check
        "SIRET du porteur",
        "RNA du porteur",
        L.GAP_HEADER,
    ]
    assert sheet["T5"].value == "=ROUND(E5-SUM(F5:P5),2)"
    assert sheet["T304"].value == "=ROUND(E304-SUM(F304:P304),2)"
    assert sheet["E3"].value == "=SUM(E5:E304)"
    assert sheet["T3"].value == "=SUM(T5:T304)"
    assert sheet["Q3"].value is None and sheet["Q5"].number_format == "@"  # a text column
    assert sheet.freeze_panes == "C5"
    assert sheet["E5"].number_format == '#,##0.00\\ "€"'
    assert sheet["C5"].alignment.wrap_text
    rules = sheet.conditional_formatting
    assert [(str(r.sqref), [x.formula for x in r.rules]) for r in rules] == [
        ("T5:T304", [["$T5<>0"]])
    ]
    table = sheet.tables["tblActions"]
    assert table.ref == "A4:T304"


def test_protection_and_unlocked_input_range(blank):
    sheet = openpyxl.load_workbook(blank)["Actions"]
    assert sheet.protection.sheet is True
    for row in (5, 150, 304):
        for col in range(1, 20):
            assert sheet.cell(row, col).protection.locked is False, (row, col)
        assert sheet.cell(row, 20).protection.locked is True  # Écart is computed
    for cell in sheet[L.HEADER_ROW]:
        assert cell.protection.locked is not False
    assert sheet["E3"].protection.locked is not False


def test_metadata(blank, settings):
    meta = openpyxl.load_workbook(blank)["_xlfunding"]
    values = {row[0].value: row[1].value for row in meta.iter_rows()}
    assert values == {
        "format": "xlfunding-modele",
        "template_version": "1",
        "year": "2025",
        "commune": "Libercourt",
        "qpv": "La Haute Voie",
        "settings_fingerprint": settings.fingerprint,
        "sponsor": "",
        "capacity": "300",
    }


def test_sponsor_copy_is_prefilled_and_locked(tmp_path, settings):
    path = write_template(settings, tmp_path / "ccas.xlsx", sponsor="CCAS")
    book = openpyxl.load_workbook(path)
    sheet = book["Actions"]
    assert {sheet.cell(r, 4).value for r in range(5, 305)} == {"CCAS"}
    assert all(sheet.cell(r, 4).protection.locked is not False for r in (5, 304))
    assert "D5:D304" not in _validations(sheet)
    meta = {r[0].value: r[1].value for r in book["_xlfunding"].iter_rows()}
    assert meta["sponsor"] == "CCAS"


def test_all_sponsors_writes_one_file_each(tmp_path, settings):
    paths = write_all_sponsors(settings, tmp_path, actions=seed_actions(settings))
    assert [p.name for p in paths] == ["modele-2025-ccas.xlsx", "modele-2025-ville.xlsx"]
    sheet = openpyxl.load_workbook(paths[0], data_only=True)["Actions"]
    titles = [sheet.cell(r, 2).value for r in range(5, 9)]
    assert titles == [a.title for a in seed_actions(settings) if a.sponsor == "CCAS"]
    assert sheet.cell(9, 2).value is None


def test_committed_blank_template_is_what_the_writer_writes(tmp_path, settings):
    """The template in templates/ is regenerated here, so it never drifts from the code."""
    from xlsxdump import dump_workbook

    fresh = write_template(settings, tmp_path / "modele-2025.xlsx")
    assert dump_workbook(fresh) == dump_workbook(ROOT / "templates" / "modele-2025.xlsx")


def test_committed_examples_are_what_the_writer_writes(tmp_path, settings):
    import make_examples
    from xlsxdump import dump_workbook

    make_examples.build(tmp_path, settings)
    for path in EXAMPLES:
        relative = path.relative_to(ROOT)
        assert dump_workbook(tmp_path / relative) == dump_workbook(path), relative


@pytest.mark.libreoffice
def test_libreoffice_opens_the_template_and_recomputes_every_check_cell_to_zero(tmp_path, blank):
    sources = [blank, *EXAMPLES]
    for source in sources:
        copy = tmp_path / f"in-{source.parent.name}-{source.name}"
        shutil.copy(source, copy)
        recomputed = openpyxl.load_workbook(
            recalculated_copy(copy, tmp_path / "lo"), data_only=True
        )
        sheet = recomputed["Actions"]
        checks = [sheet.cell(r, 20).value for r in range(5, 305)]
        assert checks == [0] * 300, source.name
        assert sheet["T3"].value == 0


@pytest.mark.libreoffice
def test_libreoffice_recomputes_the_examples_totals(tmp_path):
    copy = tmp_path / "full.xlsx"
    shutil.copy(EXAMPLES[0], copy)
    sheet = openpyxl.load_workbook(recalculated_copy(copy, tmp_path / "lo"), data_only=True)[
        "Actions"
    ]
    assert Decimal(str(sheet["E3"].value)) == 248656


@pytest.mark.libreoffice
def test_the_recalculating_profile_really_recomputes(tmp_path):
    """Guard for the harness itself: a wrong saved value must be replaced by LibreOffice."""
    import xlsxwriter

    path = tmp_path / "wrong.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_number(0, 0, 2)
    sheet.write_formula(0, 1, "=A1*21", None, 999)  # saved value deliberately wrong
    book.close()
    recomputed = openpyxl.load_workbook(recalculated_copy(path, tmp_path / "lo"), data_only=True)
    assert recomputed.active["B1"].value == 42


def test_cli_template_and_output_paths(tmp_path):
    runner = CliRunner()
    target = tmp_path / "modele.xlsx"
    assert runner.invoke(app, ["template", "-o", str(target)]).exit_code == 0
    before = target.read_bytes()
    again = runner.invoke(app, ["template", "-o", str(target)])
    assert again.exit_code == 2
    assert "existe déjà" in again.stderr and "--force" in again.stderr
    assert target.read_bytes() == before
    assert runner.invoke(app, ["template", "-o", str(target), "--force"]).exit_code == 0
    missing = runner.invoke(app, ["template", "-o", str(tmp_path / "nope" / "m.xlsx")])
    assert missing.exit_code == 2 and "n'existe pas" in missing.stderr
    unwritable = runner.invoke(app, ["template", "-o", "/proc/modele.xlsx"])
    assert unwritable.exit_code == 2 and "/proc/modele.xlsx" in unwritable.stderr
    assert "Traceback" not in missing.output + unwritable.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["modele.xlsx"]  # no stray temp file


def test_cli_template_for_a_sponsor_and_all_sponsors(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["template", "-o", str(tmp_path / "x.xlsx"), "--sponsor", "CAF"])
    assert result.exit_code == 2 and "porteur inconnu « CAF »" in result.output
    assert runner.invoke(app, ["template", "--all-sponsors", str(tmp_path)]).exit_code == 0
    assert sorted(p.name for p in tmp_path.glob("modele-*.xlsx")) == [
        "modele-2025-ccas.xlsx",
        "modele-2025-ville.xlsx",
    ]
