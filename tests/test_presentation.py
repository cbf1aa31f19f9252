"""Presentation found on the way (#17): long sponsor names in the printed annex, the saved
values of formula cells in the corrections copy, the file named on every problem line."""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import xlsxwriter
from builders import BASE, edit, workbook
from typer.testing import CliRunner

from xlfunding.cli import app
from xlfunding.model import Programme
from xlfunding.problems import Report
from xlfunding.settings import load_settings, settings_from_json
from xlfunding.write.annex import write_annex
from xlfunding.write.annex_layout import LINE_HEIGHT
from xlfunding.write.corrections import write_corrections

ROOT = Path(__file__).resolve().parent.parent
RETURN = ROOT / "examples" / "retours" / "ccas-2025.xlsx"
LONG = "Association Rencontres et Loisirs de l'Arrondissement"  # another city's sponsor


def test_a_long_sponsor_name_wraps_in_a_wider_porteur_column(tmp_path: Path) -> None:
    data = load_settings().to_dict()
    data["sponsors"] = [*data["sponsors"], LONG]
    settings = settings_from_json(data)
    actions = (replace(BASE[0], sponsor=LONG),)
    path = write_annex(Programme(settings, actions), tmp_path / "annexe.xlsx")
    sheet = openpyxl.load_workbook(path)["Annexe"]
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == LONG)
    width = sheet.column_dimensions[cell.column_letter].width
    assert width >= len("Arrondissement") + 2 and width <= 30
    assert cell.alignment.wrap_text and cell.alignment.horizontal == "center"
    # the row is tall enough for the name wrapped between its words at that width
    lines, line = 1, 0
    for word in LONG.split():
        if line and line + 1 + len(word) > width:
            lines, line = lines + 1, len(word)
        else:
            line += (1 if line else 0) + len(word)
    height = sheet.row_dimensions[cell.row].height
    assert height is not None and height >= lines * LINE_HEIGHT


def _with_cached_formulas(path: Path) -> Path:
    """A workbook whose formulas carry saved values: a number, a text, a boolean."""
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Feuille")
    sheet.write_number("A1", 21)
    sheet.write_formula("B1", "=A1*2", None, 42)
    sheet.write_formula("C1", '="x"&A1', None, "x21")
    sheet.write_formula("D1", "=A1>1", None, True)
    book.close()
    return path


def test_the_corrections_copy_keeps_the_saved_values_of_formula_cells(tmp_path: Path) -> None:
    source = _with_cached_formulas(tmp_path / "retour.xlsx")
    copy = write_corrections(source, Report(files=[source]), tmp_path / "copie.xlsx")
    values = openpyxl.load_workbook(copy, data_only=True)["Feuille"]
    assert [values[ref].value for ref in ("A1", "B1", "C1", "D1")] == [21, 42, "x21", True]
    formulas = openpyxl.load_workbook(copy)["Feuille"]
    assert [formulas[ref].value for ref in ("B1", "C1", "D1")] == ["=A1*2", '="x"&A1', "=A1>1"]


def test_the_corrections_copy_of_a_return_keeps_every_saved_value(tmp_path: Path) -> None:
    report_line = CliRunner().invoke(
        app, ["validate", str(RETURN), "--corrections", str(tmp_path / "copie.xlsx")]
    )
    assert report_line.exit_code == 0, report_line.output
    before = openpyxl.load_workbook(RETURN, data_only=True)
    after = openpyxl.load_workbook(tmp_path / "copie.xlsx", data_only=True)
    formulas = openpyxl.load_workbook(RETURN)
    checked = 0
    for sheet in formulas.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    expected = before[sheet.title][cell.coordinate].value
                    assert after[sheet.title][cell.coordinate].value == expected, cell.coordinate
                    checked += expected is not None
    assert checked > 300  # the totals and the « Écart » of every row
    with zipfile.ZipFile(tmp_path / "copie.xlsx") as archive:
        assert b"<v />" not in b"".join(archive.read(n) for n in archive.namelist()
                                        if n.startswith("xl/worksheets/"))


def test_with_several_files_every_problem_line_names_its_file(tmp_path: Path) -> None:
    good = shutil.copy(RETURN, tmp_path / "bon.xlsx")
    bad = edit(workbook(tmp_path, name="faux.xlsx"), {"E5": Decimal("1")})
    done = CliRunner().invoke(app, ["validate", str(good), str(bad)])
    assert done.exit_code == 1, done.output
    lines = [line for line in done.output.splitlines() if line.startswith("    ")]
    assert lines and all(line.strip().startswith("faux.xlsx ") for line in lines), lines
