"""The annex workbook: figures as printed in the 2025 annex, saved values equal to what
LibreOffice recomputes, golden dump, injection, PDF, round trip and refusals."""

from __future__ import annotations

import os
import random
import re
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from seeddata import ANNEX_TEXT, FIGURES, descriptions, seed_programme
from xlsxdump import dump_workbook

from xlfunding.errors import NotATemplate, OutputError, WrongProgramme
from xlfunding.model import Action, Location, Programme
from xlfunding.read.annex import NotAnAnnex, read_annex
from xlfunding.settings import Settings, load_settings, settings_from_dict
from xlfunding.write.annex import export_pdf, write_annex
from xlfunding.write.libreoffice import LibreOfficeMissing, recalculated_copy

GOLDEN = Path(__file__).parent / "golden" / "annex-2025.txt"
SHARES = FIGURES["shares_percent_as_printed"]
EXCEL_FORMULA_LIMIT = 8192
# XlsxWriter warns about whatever Excel would repair or refuse: that must never happen.
pytestmark = pytest.mark.filterwarnings("error")


# -- helpers -------------------------------------------------------------------------------
def normalise(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    return " ".join(re.sub(r"\s*=\s*", " = ", text).split())


def money(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def totals_rows(path: Path) -> dict[str, Decimal]:
    """The figures under the table: label in column D from « TOTAL » on, amount in column E."""
    sheet = openpyxl.load_workbook(path, data_only=True)["Annexe"]
    found: dict[str, Decimal] = {}
    for row in sheet.iter_rows(min_col=4, max_col=5, values_only=True):
        if row[0] == "TOTAL" or (found and isinstance(row[0], str)):
            found[row[0]] = money(row[1])
    return found


def summary_rows(path: Path) -> dict[str, list[tuple[str, Any, Any]]]:
    """Each table of « Synthèse » by heading: (name, amount, share) rows, TOTAL included."""
    sheet = openpyxl.load_workbook(path, data_only=True)["Synthèse"]
    tables: dict[str, list[tuple[str, Any, Any]]] = {}
    current: list[tuple[str, Any, Any]] | None = None
    for name, amount, share in sheet.iter_rows(min_row=2, max_col=3, values_only=True):
        if amount == "Montant":
            current = tables.setdefault(name, [])
        elif name is not None and current is not None:
            current.append((name, amount, share))
    return tables


def formula_cells(path: Path) -> dict[tuple[str, str], tuple[str, str, Any]]:
    """(sheet, cell) -> (formula, number format, saved value) for every formula cell."""
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    cells = {}
    for sheet in formulas.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    saved = values[sheet.title][cell.coordinate].value
                    cells[sheet.title, cell.coordinate] = (cell.value, cell.number_format, saved)
    return cells


def assert_libreoffice_agrees(path: Path, recomputed: Path) -> int:
    """Every saved formula value equals LibreOffice's: money exactly, ratios to 1e-9."""
    ours = formula_cells(path)
    theirs = openpyxl.load_workbook(recomputed, data_only=True)
    assert ours, "no formula at all"
    for (sheet, ref), (formula, number_format, saved) in ours.items():
        value = theirs[sheet][ref].value
        assert isinstance(saved, int | float), (sheet, ref, formula, saved)
        if "%" in number_format:
            assert value == pytest.approx(saved, abs=1e-9), (sheet, ref, formula, saved, value)
        else:
            assert money(value) == money(saved), (sheet, ref, formula, saved, value)
    return len(ours)


def balanced_action(rng: random.Random, settings: Settings, index: int) -> Action:
    codes = rng.sample(settings.funder_codes, rng.randint(1, 6))
    funding = {c: Decimal(rng.randint(1, 5_000_000)) / 100 for c in codes}
    return Action(
        axis=rng.choice(settings.axes),
        title=f"Action {index}",
        description=f"Description de l'action {index}",
        sponsor=rng.choice(settings.sponsors),
        total=sum(funding.values(), Decimal(0)),
        funding=funding,
    )


def big_settings() -> Settings:
    groups = [f"Groupe {g}" for g in range(1, 7)]
    return settings_from_dict(
        {
            "programme": {
                "year": 2026,
                "commune": "Grandville",
                "qpv": "Centre",
                "title": "Programmation de test 2026",
            },
            "axes": [f"Axe {a}" for a in range(1, 5)],
            "sponsors": ["CCAS", "VILLE", "ASSO"],
            "groups": groups,
            "funders": [{"code": f"F{f:02}", "group": groups[f % 6]} for f in range(1, 31)],
        }
    )


def expected(programme: Programme) -> dict[str, Decimal]:
    """TOTAL and each group, computed here from the actions, independently of the writer."""
    s = programme.settings
    found = {"TOTAL": sum((a.total for a in programme.actions), Decimal(0))}
    for group in s.groups:
        members = {f.code for f in s.funders if f.group == group}
        found[group] = sum(
            (v for a in programme.actions for c, v in a.funding.items() if c in members),
            Decimal(0),
        )
    return found


# -- fixtures: each workbook is written once, and converted by LibreOffice once -------------
PROGRAMMES = ("seed", "empty", "single", "big")


def make_programme(name: str) -> Programme:
    if name == "seed":
        return seed_programme()
    if name == "empty":
        return Programme(load_settings(), ())
    if name == "single":
        action = Action(
            axis=load_settings().axes[2],
            title="Une action",
            description="",
            sponsor="CCAS",
            total=Decimal("1234.56"),
            funding={"ANCT": Decimal("1000.01"), "SIA HABITAT": Decimal("234.55")},
        )
        return Programme(load_settings(), (action,))
    settings, rng = big_settings(), random.Random(2025)
    return Programme(settings, tuple(balanced_action(rng, settings, i) for i in range(500)))


@pytest.fixture(scope="module")
def annexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Programme, Path]]:
    folder = tmp_path_factory.mktemp("annexes")
    made = {}
    for name in PROGRAMMES:
        programme = make_programme(name)
        made[name] = (programme, write_annex(programme, folder / f"annexe-{name}.xlsx"))
    return made


@pytest.fixture(scope="module")
def recomputed(
    annexes: dict[str, tuple[Programme, Path]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("recomputed")
    return {name: recalculated_copy(path, folder) for name, (_, path) in annexes.items()}


# -- the 2025 figures ----------------------------------------------------------------------
def check_seed_figures(path: Path) -> None:
    assert totals_rows(path) == {k: Decimal(v) for k, v in FIGURES["totals"].items()}
    groups = summary_rows(path)["Financeurs"]
    assert [name for name, _, _ in groups] == [*FIGURES["summary_groups"]["order"], "TOTAL"]
    for name, amount, share in groups:
        assert money(amount) == Decimal(FIGURES["totals"][name])
        assert round(share * 100) == SHARES[name], name


def test_seed_figures_as_saved(annexes: dict[str, tuple[Programme, Path]]) -> None:
    check_seed_figures(annexes["seed"][1])


@pytest.mark.libreoffice
def test_seed_figures_as_libreoffice_computes_them(recomputed: dict[str, Path]) -> None:
    check_seed_figures(recomputed["seed"])


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", PROGRAMMES)
def test_every_formula_saved_value_is_what_libreoffice_computes(
    name: str, annexes: dict[str, tuple[Programme, Path]], recomputed: dict[str, Path]
) -> None:
    assert assert_libreoffice_agrees(annexes[name][1], recomputed[name]) > 10


@pytest.mark.parametrize("name", PROGRAMMES)
def test_totals_equal_the_decimal_sums(
    name: str, annexes: dict[str, tuple[Programme, Path]]
) -> None:
    programme, path = annexes[name]
    wanted = expected(programme)
    assert totals_rows(path) == wanted
    tables = summary_rows(path)
    for group, amount, share in tables["Financeurs"]:
        assert money(amount) == wanted[group]
        ratio = wanted[group] / wanted["TOTAL"] if wanted["TOTAL"] else 0
        assert share == pytest.approx(float(ratio), abs=1e-12)
    axes = {
        a: sum((x.total for x in programme.actions if x.axis == a), Decimal(0))
        for a in programme.settings.axes
    }
    assert {n: money(v) for n, v, _ in tables["Axes du contrat de ville"]} == {
        **axes,
        "TOTAL": wanted["TOTAL"],
    }
    sponsors = {
        s: sum((x.total for x in programme.actions if x.sponsor == s), Decimal(0))
        for s in programme.settings.sponsors
    }
    assert {n: money(v) for n, v, _ in tables["Porteurs"]} == {**sponsors, "TOTAL": wanted["TOTAL"]}


def test_big_annex_formulas_stay_within_excel_limits(
    annexes: dict[str, tuple[Programme, Path]],
) -> None:
    cells = formula_cells(annexes["big"][1])
    assert len(cells) > 100
    assert max(len(formula) for formula, _, _ in cells.values()) < EXCEL_FORMULA_LIMIT
    assert all(isinstance(saved, int | float) for _, _, saved in cells.values())


def test_cents_get_a_format_with_cents(annexes: dict[str, tuple[Programme, Path]]) -> None:
    sheet = openpyxl.load_workbook(annexes["single"][1])["Annexe"]
    row = next(r for r in sheet.iter_rows() if r[0].value == "Une action")
    assert row[4].value == 1234.56
    assert row[4].number_format.endswith('#,##0.00\\ "€"')
    assert (
        normalise(row[3].value)
        == "Coût total = 1 234,56 € ANCT = 1 000,01 € SIA HABITAT = 234,55 €"
    )


def test_budget_text_is_the_annex_text(annexes: dict[str, tuple[Programme, Path]]) -> None:
    texts = descriptions()
    sheet = openpyxl.load_workbook(annexes["seed"][1])["Annexe"]
    written = {r[0].value: r[3].value for r in sheet.iter_rows() if r[0].value in texts}
    assert len(written) == len(FIGURES["actions"]) == 10
    for title, (description, budget) in texts.items():
        assert normalise(written[title]) == normalise(budget), title
        assert description in ANNEX_TEXT


def test_layout_of_the_annex(annexes: dict[str, tuple[Programme, Path]]) -> None:
    book = openpyxl.load_workbook(annexes["seed"][1])
    assert book.sheetnames == ["Annexe", "Synthèse", "_xlfunding"]
    assert [s.sheet_state for s in book.worksheets] == ["visible", "visible", "veryHidden"]
    sheet = book["Annexe"]
    assert sheet["A1"].value == "PROPOSITION PROGRAMMATION POLITIQUE DE LA VILLE 2025"
    assert sheet["A2"].value == "Annexe n°2"
    assert [c.value for c in sheet[4]][:6] == [
        "Intitulé du projet",
        "Description",
        "Porteur",
        "Budget prévisionnel",
        "Coût total",
        "Source",
    ]
    assert [c.value for c in sheet[4]][6:] == list(load_settings().funder_codes)
    axis_rows = [c.value for c in sheet["A"] if c.fill.fgColor.rgb == "FFD9E1F2"]
    assert axis_rows == list(FIGURES["axes"])
    assert sheet.column_dimensions["F"].hidden
    assert book.properties.title == "Proposition programmation politique de la ville 2025"
    lines = [
        c.value for c in sheet["A"] if c.value and str(c.value).startswith(("Accusé", "0", "Date"))
    ]
    assert lines[:4] == [
        "Accusé de réception en préfecture",
        "062-216209072-20241218-DELIB-2024-1179",
        "Date de télétransmission : 18/12/2024",
        "Date de réception préfecture : 18/12/2024",
    ]
    assert len(book["Synthèse"]._charts) == 1


def test_golden_dump(annexes: dict[str, tuple[Programme, Path]]) -> None:
    dump = dump_workbook(annexes["seed"][1])
    if os.environ.get("XLFUNDING_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(dump, encoding="utf-8")
    assert dump == GOLDEN.read_text(encoding="utf-8"), (
        "the annex changed; if on purpose, run XLFUNDING_REGEN_GOLDEN=1 pytest "
        "tests/test_annex.py and review the diff of tests/golden/annex-2025.txt"
    )


# -- sources, injection ----------------------------------------------------------------------
def test_source_column_hidden_unless_asked(tmp_path: Path) -> None:
    seed = seed_programme()
    located = replace(seed.actions[0], source=Location(Path("/x/ccas-2025.xlsx"), "Actions", 5))
    programme = Programme(seed.settings, (located, *seed.actions[1:]))
    for shown in (False, True):
        path = write_annex(programme, tmp_path / f"{shown}.xlsx", show_sources=shown)
        sheet = openpyxl.load_workbook(path)["Annexe"]
        assert sheet.column_dimensions["F"].hidden is not shown
        assert sheet["F6"].value == "ccas-2025.xlsx — 'Actions'!ligne 5"


HOSTILE = [
    "=1+1",
    "+33 6 12 34 56 78",
    "-2",
    "@SUM(A1:A2)",
    '=HYPERLINK("http://x","y")',
    "http://example.com",
]


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    settings = load_settings()
    actions = tuple(
        Action(settings.axes[0], text, text, "CCAS", Decimal(10), {"CCAS": Decimal(10)})
        for text in HOSTILE
    )
    path = write_annex(Programme(settings, actions), tmp_path / "annexe.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["Annexe"]
    written = {}
    for row in sheet.iter_rows():
        if row[0].value in HOSTILE:
            written[row[0].value] = row
    assert set(written) == set(HOSTILE)
    for text, row in written.items():
        for cell in row[:2]:
            assert cell.data_type == "s" and cell.value == text
    for worksheet in book.worksheets:
        assert not worksheet._hyperlinks
        assert all(c.hyperlink is None for r in worksheet.iter_rows() for c in r)
    assert read_annex(path).actions == actions


# -- PDF -----------------------------------------------------------------------------------------
@pytest.mark.libreoffice
def test_pdf_first_page_has_title_and_total(
    annexes: dict[str, tuple[Programme, Path]], tmp_path: Path
) -> None:
    pdf = export_pdf(annexes["seed"][1], tmp_path / "annexe.pdf")
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    assert "PROPOSITION PROGRAMMATION POLITIQUE DE LA VILLE 2025" in text
    assert "248 656" in text
    with pytest.raises(OutputError):
        export_pdf(annexes["seed"][1], pdf)


def test_pdf_without_libreoffice_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("xlfunding.write.annex.find_soffice", lambda: None)
    with pytest.raises(LibreOfficeMissing, match="LibreOffice n'est pas installé"):
        export_pdf(tmp_path / "annexe.xlsx", tmp_path / "annexe.pdf")
    assert not (tmp_path / "annexe.pdf").exists()


# -- reading back, refusals --------------------------------------------------------------------
@pytest.mark.parametrize("name", PROGRAMMES)
def test_round_trip(name: str, annexes: dict[str, tuple[Programme, Path]]) -> None:
    programme, path = annexes[name]
    back = read_annex(path)
    in_axis_order = tuple(a for actions in programme.by_axis().values() for a in actions)
    assert back.actions == in_axis_order
    assert back.settings.fingerprint == programme.settings.fingerprint
    assert back.settings.deliberations == programme.settings.deliberations
    assert read_annex(path, programme.settings).total == programme.total
    sheet = openpyxl.load_workbook(path)["Annexe"]
    for action in back.actions:
        assert action.source is not None and action.source.file == path
        assert sheet[action.source.cell("title") or ""].value == action.title


def test_read_with_other_settings_is_refused(annexes: dict[str, tuple[Programme, Path]]) -> None:
    path = annexes["seed"][1]
    with pytest.raises(WrongProgramme, match=path.name):
        read_annex(path, big_settings())


def test_not_an_annex_is_refused_naming_the_file(
    tmp_path: Path, annexes: dict[str, tuple[Programme, Path]]
) -> None:
    plain = tmp_path / "classeur-quelconque.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "Intitulé du projet"
    book.save(plain)
    with pytest.raises(NotAnAnnex, match=r"classeur-quelconque\.xlsx") as caught:
        read_annex(plain)
    assert isinstance(caught.value, NotATemplate)
    assert "n'est pas une annexe" in str(caught.value)
    text = tmp_path / "notes.xlsx"
    text.write_text("pas un classeur", encoding="utf-8")
    with pytest.raises(NotAnAnnex, match=r"notes\.xlsx"):
        read_annex(text)


def test_existing_output_is_not_overwritten_without_force(tmp_path: Path) -> None:
    path = tmp_path / "annexe.xlsx"
    path.write_bytes(b"previous")
    with pytest.raises(OutputError, match="existe déjà"):
        write_annex(seed_programme(), path)
    assert path.read_bytes() == b"previous"
    write_annex(seed_programme(), path, force=True)
    assert read_annex(path).total == Decimal(FIGURES["totals"]["TOTAL"])
    assert [p.name for p in tmp_path.iterdir()] == ["annexe.xlsx"]


def test_unknown_funder_is_refused(tmp_path: Path) -> None:
    settings = load_settings()
    action = Action(settings.axes[0], "T", "", "CCAS", Decimal(5), {"Inconnu": Decimal(5)})
    with pytest.raises(ValueError, match="Inconnu"):
        write_annex(Programme(settings, (action,)), tmp_path / "annexe.xlsx")
    assert not list(tmp_path.iterdir())


def test_a_cell_written_out_of_row_order_is_an_error_not_a_silent_loss(tmp_path):
    """The annex streams its rows (constant memory): a late write must fail loudly."""
    import xlsxwriter

    from xlfunding.write.annex_layout import OPTIONS, InOrderSheet

    book = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"), OPTIONS)
    sheet = book.add_worksheet("Annexe", InOrderSheet)
    sheet.write_string(5, 0, "ligne 6")
    with pytest.raises(RuntimeError, match="hors de l'ordre"):
        sheet.write_string(3, 0, "ligne 4")
    book.close()


def test_a_row_written_out_of_order_by_the_fast_writers_is_an_error(tmp_path):
    """The action rows use XlsxWriter's undecorated writers, checked once a row."""
    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

    from xlfunding.write.annex_layout import OPTIONS, InOrderSheet, next_row

    book = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"), OPTIONS)
    sheet = book.add_worksheet("Annexe", InOrderSheet)
    next_row(sheet, 5)
    Worksheet._write_string(sheet, 5, 0, "ligne 6")
    next_row(sheet, 5)  # the same row again: its other cells
    Worksheet._write_string(sheet, 6, 0, "ligne 7")
    with pytest.raises(RuntimeError, match="hors de l'ordre"):
        next_row(sheet, 5)
    with pytest.raises(RuntimeError, match="hors de l'ordre"):
        next_row(sheet, 1_048_576)  # past Excel's last row
    book.close()
