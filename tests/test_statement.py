"""Each funder group's statement: its actions, amounts, shares, and the annex's total."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from seeddata import FIGURES, seed_programme
from test_annex import assert_libreoffice_agrees
from typer.testing import CliRunner

from xlfunding.cli import app
from xlfunding.errors import UnknownGroup
from xlfunding.opendata.statement import sheet_name, statements, write_statements
from xlfunding.settings import Settings
from xlfunding.write.annex import write_annex
from xlfunding.write.libreoffice import recalculated_copy


@pytest.fixture(scope="module")
def book(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("etats") / "etats-2025.xlsx"
    write_statements(seed_programme(settings), path)
    return path


def rows(path: Path, sheet: str) -> list[tuple[object, ...]]:
    values = openpyxl.load_workbook(path, data_only=True)[sheet]
    return [tuple(r) for r in values.iter_rows(min_row=5, values_only=True)]


def test_a_sheet_per_group_whose_total_is_the_annexs(book: Path, settings: Settings) -> None:
    assert openpyxl.load_workbook(book).sheetnames == list(settings.groups)
    for group in settings.groups:
        table = rows(book, group)
        total = table[-1]
        assert total[0] == "TOTAL"
        assert Decimal(str(total[-2])) == FIGURES["totals"][group], group
        assert sum(Decimal(str(r[-2])) for r in table[1:-1]) == FIGURES["totals"][group]


def test_a_group_of_several_funders_shows_each_and_the_share(book: Path) -> None:
    header, *lines, _ = rows(book, "TFPB")
    assert header == (
        "Axe",
        "Intitulé de l'action",
        "Porteur",
        "Coût total",
        "TFPB",
        "Maisons et Cités",
        "PDC Habitat",
        "SIA HABITAT",
        "Total TFPB",
        "Part du coût",
    )
    mediation = next(line for line in lines if str(line[1]).startswith("Promouvoir le Bien"))
    assert mediation[3:9] == (47500, None, 19334, 6583, 6583, 32500)
    assert mediation[9] == pytest.approx(32500 * 100 / 47500)
    header, *lines, _ = rows(book, "CAF")
    assert header[4:] == ("CAF", "Part du coût") and [line[4] for line in lines] == [4500, 15500]


@pytest.mark.libreoffice
def test_every_formula_is_what_libreoffice_computes(book: Path, tmp_path: Path) -> None:
    assert assert_libreoffice_agrees(book, recalculated_copy(book, tmp_path)) > 20


def test_chosen_groups_and_an_unknown_one(settings: Settings) -> None:
    programme = seed_programme(settings)
    assert [s.group for s in statements(programme, ["caf", "Region"])] == ["CAF", "Région"]
    with pytest.raises(UnknownGroup, match="groupe inconnu « État »"):
        statements(programme, ["État"])
    assert sheet_name("Etat: [BOP 147]/ANCT") == "Etat- -BOP 147--ANCT"


def test_the_command(settings: Settings, tmp_path: Path) -> None:
    annex = write_annex(seed_programme(settings), tmp_path / "annexe.xlsx")
    out = tmp_path / "caf.xlsx"
    args = ["etat-financeur", str(annex), "-o", str(out), "--groupe", "CAF"]
    result = CliRunner().invoke(app, [*args, "--decision", "DELIB-2024-1179"])
    assert result.exit_code == 0, result.output
    assert "CAF : 2 actions, 20 000 €" in result.output.replace("\u00a0", " ")
    sheet = openpyxl.load_workbook(out)["CAF"]
    assert sheet["A1"].value == "État du financeur CAF"
    assert sheet["A3"].value == "Délibération DELIB-2024-1179"
