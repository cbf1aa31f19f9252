"""Year over year: last year's annex (its text, or an annex workbook) imported as a filled
template, checked against its own totals; next year's templates pre-filled from it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from seeddata import ANNEX_TEXT, FIGURES, descriptions, seed_actions, seed_programme
from typer.testing import CliRunner

from xlfunding.cli import app
from xlfunding.errors import UnreadableFile, WrongProgramme
from xlfunding.model import Action, Programme
from xlfunding.read.annex import read_annex
from xlfunding.settings import Funder, Settings, load_settings
from xlfunding.validate import validate_file
from xlfunding.write.annex import budget_text, write_annex
from xlfunding.year.import_text import parse_budget
from xlfunding.year.importer import ImportResult, import_annex
from xlfunding.year.prefilled import write_import, write_renewed
from xlfunding.year.renew import renew, settings_for_year

SEED_TEXT = Path(__file__).parent / "seed" / "programmation-pdv-2025-annexe2.txt"
TOTALS = {label: Decimal(v) for label, v in FIGURES["totals"].items()}
# Lines of the seed text: 9 first action (PRE, CCAS), 15 « Promouvoir le Bien Vivre » (the
# landlords), 19 « Bouges ta mobilité », 22 TOTAL, 23-29 the groups Ville … Autres.
FIRST_ACTION, LANDLORDS, MOBILITY, TOTAL_LINE, CCAS_LINE = 9, 15, 19, 22, 24


# -- helpers -------------------------------------------------------------------------------
def seed_lines() -> list[str]:
    return ANNEX_TEXT.split("\n")


def edited(tmp_path: Path, edits: dict[int, tuple[str, str]], name: str = "annexe.txt") -> Path:
    """The seed text with, on line N (1-based), each ``old`` replaced by ``new``."""
    lines = seed_lines()
    for number, (old, new) in edits.items():
        assert old in lines[number - 1], (number, old)
        lines[number - 1] = lines[number - 1].replace(old, new)
    path = tmp_path / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def found(result: ImportResult) -> list[tuple[str, str | None]]:
    return [(p.code, p.cell) for p in result.problems]


def figures(actions: tuple[Action, ...] | list[Action], settings: Settings) -> list[dict[str, Any]]:
    """Actions in the figures JSON's shape."""
    return [
        {
            "axis": settings.axes.index(a.axis) + 1,
            "title": a.title,
            "sponsor": a.sponsor,
            "total": int(a.total),
            "funders": {code: int(v) for code, v in a.funding.items()},
        }
        for a in actions
    ]


def totals_rows(path: Path) -> dict[str, Decimal]:
    """The annex's figures under its table (label in D, saved value in E), as openpyxl reads
    them without recomputing."""
    sheet = openpyxl.load_workbook(path, data_only=True)["Annexe"]
    rows: dict[str, Decimal] = {}
    for label, value in sheet.iter_rows(min_col=4, max_col=5, values_only=True):
        if label == "TOTAL" or (rows and isinstance(label, str)):
            rows[label] = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return rows


def sheet_rows(path: Path, name: str) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))


# -- the seed text ---------------------------------------------------------------------------
def test_seed_text_gives_every_action_axis_and_amount_with_no_problem(settings):
    result = import_annex(SEED_TEXT, settings)
    assert result.problems == [] and result.leftovers == ()
    assert figures(result.actions, settings) == FIGURES["actions"]
    assert sorted({a.axis for a in result.actions}, key=settings.axes.index) == FIGURES["axes"]
    assert [a.description for a in result.actions] == [
        descriptions()[a.title][0] for a in result.actions
    ]
    assert result.actions == seed_actions(settings)
    # the annex's own totals block was read and agrees with the imported actions
    assert {line.label: line.amount for line in result.checked_totals} == TOTALS
    assert [line.where.line for line in result.checked_totals] == list(range(22, 30))
    programme = Programme(settings, result.actions)
    assert programme.total == TOTALS["TOTAL"]
    assert programme.group_totals() == {g: TOTALS[g] for g in settings.groups}
    assert result.settings is settings and result.added_funders == ()


def test_seed_import_validates_clean_and_its_annex_reproduces_the_figures(tmp_path, settings):
    result = import_annex(SEED_TEXT, settings)
    written, toml = write_import(result, tmp_path / "programme.xlsx")
    assert toml is None
    assert openpyxl.load_workbook(written).sheetnames == [
        "Actions",
        "Mode d'emploi",
        "Listes",
        "_xlfunding",
    ]
    report = validate_file(written, settings)
    assert report.valid and report.problems == []
    assert figures(report.actions, settings) == FIGURES["actions"]
    annex = write_annex(Programme(settings, tuple(report.actions)), tmp_path / "annexe.xlsx")
    assert totals_rows(annex) == TOTALS


def test_names_are_forgiven_case_accents_and_spacing(tmp_path, settings):
    path = edited(
        tmp_path,
        {
            8: ("Emancipation des habitants du QPV", "  EMANCIPATION des  habitants du qpv "),
            9: ("\tCCAS\tCoût", "\tccas \tCoût"),
            10: ("CCAS= 4 565 €", "C C A S= 4 565 €"),
            15: ("Maisons et Cités= 19 334 €", "maisons et cites  =  19 334 €"),
            16: ("Améliorer la santé", "AMELIORER LA SANTE"),
            26: ("Région", "REGION"),
        },
    )
    result = import_annex(path, settings)
    assert result.problems == []
    assert result.actions == seed_actions(settings)


@pytest.mark.parametrize(
    ("name", "encoding"), [("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("utf-16", "utf-16")]
)
def test_text_as_word_or_windows_saves_it(tmp_path, settings, name, encoding):
    path = tmp_path / f"annexe-{name}.txt"
    path.write_bytes(ANNEX_TEXT.replace("\n", "\r\n").encode(encoding))
    result = import_annex(path, settings)
    assert result.problems == [] and result.actions == seed_actions(settings)


# -- problems, each once, at its line ------------------------------------------------------------
def test_an_altered_amount_a_misspelt_funder_and_a_garbled_line_are_exactly_three_problems(
    tmp_path, settings
):
    """One cause, one problem. The altered CCAS amount makes its action not add up (reported
    at its line); the totals block's CCAS line then disagrees by the same 90 €, which confirms
    that the cost is right and a CCAS amount is wrong: the action's message says so, and the
    block line is not reported a second time. « Maison et Cité » is not forgiven (a missing
    letter is not case, accent or spacing): its 19 334 € are not imported, which is exactly what
    the TFPB line lacks. The garbled line (tabs lost) is not imported either; its budget can
    still be read, and is exactly what TOTAL, Ville and ANCT lack. A difference the reported
    causes do not explain would be reported at its block line (next test)."""
    path = edited(
        tmp_path,
        {
            FIRST_ACTION: ("CCAS = 14 985 €", "CCAS = 14 895 €"),
            LANDLORDS: ("Maisons et Cités= 19 334 €", "Maison et Cité= 19 334 €"),
            MOBILITY: ("\t", " "),
        },
    )
    result = import_annex(path, settings)
    assert found(result) == [
        ("funders-do-not-add-up", "ligne 9"),
        ("unknown-funder", "ligne 15"),
        ("line-not-understood", "ligne 19"),
    ]
    add_up, funder, garbled = result.problems
    n = "\u00a0"  # format_euros groups digits with no-break spaces
    assert add_up.message == (
        f"Les financeurs totalisent 50{n}860{n}€ pour un coût total de 50{n}950{n}€ "
        f"(écart 90{n}€). Le total « CCAS » de l'annexe (ligne 24) s'accorde avec le coût "
        "total : c'est sans doute un montant du groupe CCAS qui est faux. Corrigez-le dans le "
        "modèle importé (la colonne « Écart » doit revenir à 0)."
    )
    assert funder.message.startswith(
        "« Maison et Cité » n'est pas un financeur des paramètres (vouliez-vous dire "
        "« Maisons et Cités » ?) : son montant (19\u00a0334\u00a0€) n'a pas été importé."
    )
    assert garbled.message.startswith("Action sur 1 colonne(s) au lieu de 4")
    assert [p.sheet for p in result.problems] == [None, None, None]
    assert len(result.actions) == 9
    assert [line.line for line in result.unparsed] == [MOBILITY]
    # the output is still written, and keeps what was not imported
    written, _ = write_import(result, tmp_path / "programme.xlsx")
    rows = sheet_rows(written, "Non importé")
    assert rows[0] == ("Ligne", "Ce qui n'a pas été importé", "Texte d'origine")
    assert [(r[0], r[2]) for r in rows[1:]] == [
        (LANDLORDS, "Maison et Cité = 19\u00a0334\u00a0€"),
        (MOBILITY, seed_lines()[MOBILITY - 1].replace("\t", " ")),
    ]
    report = validate_file(written, settings)  # the Écart of the two actions shows in Excel
    assert [(p.code, p.cell) for p in report.errors] == [
        ("funders-do-not-add-up", "E5"),
        ("funders-do-not-add-up", "E11"),
    ]


def test_an_altered_total_cost_is_one_problem_that_blames_the_cost(tmp_path, settings):
    path = edited(tmp_path, {FIRST_ACTION: ("Coût total = 50 950 €", "Coût total = 50 590 €")})
    result = import_annex(path, settings)
    assert found(result) == [("funders-do-not-add-up", "ligne 9")]
    assert (
        "Le TOTAL de l'annexe (ligne 22) s'accorde avec les financements : c'est sans doute "
        "le coût total qui est faux." in result.problems[0].message
    )


def test_a_typo_in_the_totals_block_is_reported_at_its_line(tmp_path, settings):
    path = edited(tmp_path, {TOTAL_LINE: ("248 656 €", "248 756 €"), CCAS_LINE: ("29", "28")})
    result = import_annex(path, settings)
    assert found(result) == [
        ("annex-total-mismatch", "ligne 22"),
        ("annex-total-mismatch", "ligne 24"),
    ]
    nbsp = "\u00a0"
    assert result.problems[0].message == (
        f"TOTAL indique 248{nbsp}756{nbsp}€, les actions importées totalisent "
        f"248{nbsp}656{nbsp}€ (écart 100{nbsp}€). Un montant de l'annexe d'origine est faux, "
        "ou une action manque : vérifiez-la, puis corrigez le modèle importé."
    )
    assert result.problems[1].message.startswith(
        f"CCAS indique 28{nbsp}950{nbsp}€, les actions importées totalisent "
        f"29{nbsp}950{nbsp}€ (écart -1{nbsp}000{nbsp}€)."
    )


def test_an_action_that_adds_up_but_disagrees_with_the_block_is_found_by_the_block(
    tmp_path, settings
):
    """Total and funder mistyped consistently: only the totals block can tell."""
    path = edited(
        tmp_path,
        {FIRST_ACTION: ("total = 50 950 € CCAS = 14 985 €", "total = 51 950 € CCAS = 15 985 €")},
    )
    result = import_annex(path, settings)
    assert found(result) == [
        ("annex-total-mismatch", "ligne 22"),
        ("annex-total-mismatch", "ligne 24"),
    ]


def test_noise_unknown_axis_and_unknown_sponsor(tmp_path, settings):
    path = edited(
        tmp_path,
        {
            18: ("Engager la transition économique", "Transition économique"),
            19: ("\tVILLE\t", "\tMAIRIE\t"),
            30: ("", "Page 2 / 3"),
        },
    )
    result = import_annex(path, settings)
    assert found(result) == [
        ("unknown-axis", "ligne 18"),
        ("unknown-sponsor", "ligne 19"),
        ("line-not-understood", "ligne 30"),
    ]
    mobility = result.actions[8]
    assert (mobility.axis, mobility.sponsor) == ("Transition économique dans les QPV", "MAIRIE")
    assert result.problems[2].message == (
        "Ligne qui n'est ni un axe, ni une action, ni un total de l'annexe ; la "
        "ligne est recopiée dans l'onglet « Non importé »."
    )


def test_without_a_totals_block_nothing_is_compared(tmp_path, settings):
    path = tmp_path / "tableau.txt"
    path.write_text("\n".join(seed_lines()[:21]), encoding="utf-8")
    result = import_annex(path, settings)
    assert result.problems == [] and result.checked_totals == ()
    assert result.actions == seed_actions(settings)


def test_add_funders_extends_the_settings_and_writes_them_beside_the_output(tmp_path, settings):
    path = edited(tmp_path, {LANDLORDS: ("Maisons et Cités= 19 334 €", "Maison et Cité= 19 334 €")})
    result = import_annex(path, settings, add_funders="tfpb")
    assert result.problems == []
    assert result.added_funders == (Funder("Maison et Cité", "Maison et Cité", "TFPB"),)
    assert result.settings.funders == (*settings.funders, *result.added_funders)
    assert result.actions[6].funding["Maison et Cité"] == Decimal(19334)
    written, toml = write_import(result, tmp_path / "programme.xlsx")
    assert toml == tmp_path / "programme.toml"
    extended = load_settings(toml)
    assert replace(extended, path=None) == replace(result.settings, path=None)
    report = validate_file(written, extended)
    assert report.valid and report.problems == []
    with pytest.raises(WrongProgramme):
        validate_file(written, settings)
    with pytest.raises(ValueError, match="groupe inconnu « État »"):
        import_annex(path, settings, add_funders="État")


# -- annex workbooks -------------------------------------------------------------------------
def test_round_trip_annex_import_annex_gives_the_same_figures(tmp_path, settings):
    first = write_annex(seed_programme(settings), tmp_path / "annexe-2025.xlsx")
    result = import_annex(first, settings)
    assert result.problems == [] and result.leftovers == ()
    assert result.actions == seed_actions(settings)
    assert [line.where.label for line in result.checked_totals] == [
        f"'Annexe'!E{row}" for row in range(24, 32)
    ]
    written, _ = write_import(result, tmp_path / "programme.xlsx")
    report = validate_file(written, settings)
    assert report.valid and report.problems == []
    second = write_annex(Programme(settings, tuple(report.actions)), tmp_path / "annexe-2.xlsx")
    assert totals_rows(second) == totals_rows(first) == TOTALS
    assert read_annex(second).actions == read_annex(first).actions


def test_annex_budget_text_is_checked_against_its_numbers(tmp_path, settings, monkeypatch):
    def doctored(action: Action, codes: Any) -> str:
        text = budget_text(action, codes)
        return text.replace("14\u00a0985", "14\u00a0895") if action.amount("CCAS") else text

    monkeypatch.setattr("xlfunding.write.annex.budget_text", doctored)
    path = write_annex(seed_programme(settings), tmp_path / "annexe.xlsx")
    result = import_annex(path, settings)
    assert [(p.code, p.sheet, p.cell) for p in result.problems] == [
        ("budget-text-mismatch", "Annexe", "D6")
    ]
    assert "CCAS 14\u00a0895\u00a0€ dans le texte, 14\u00a0985\u00a0€ en colonne" in (
        result.problems[0].message
    )
    assert result.actions == seed_actions(settings)  # the numbers are the truth


def test_annex_edited_without_recalculation_is_not_trusted_silently(tmp_path, settings):
    path = write_annex(seed_programme(settings), tmp_path / "annexe.xlsx")
    book = openpyxl.load_workbook(path)
    book["Annexe"]["E6"] = 50590  # openpyxl saves no formula values
    book.save(path)
    result = import_annex(path, settings)
    assert found(result) == [
        ("budget-text-mismatch", "D6"),  # the printed text still says 50 950 €
        ("funders-do-not-add-up", "E6"),
        *[("formula-without-value", f"E{row}") for row in range(24, 32)],  # TOTAL, groups
    ]


def test_unreadable_sources_name_the_file(tmp_path, settings):
    pdf = tmp_path / "annexe.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    with pytest.raises(UnreadableFile, match=r"annexe\.pdf : .*document PDF : copiez le tableau"):
        import_annex(pdf, settings)
    empty = tmp_path / "vide.txt"
    empty.write_text("\n\n")
    with pytest.raises(UnreadableFile, match=r"vide\.txt : "):
        import_annex(empty, settings)
    with pytest.raises(UnreadableFile, match=r"absent\.txt : .*introuvable"):
        import_annex(tmp_path / "absent.txt", settings)


# -- next year --------------------------------------------------------------------------------
def test_settings_for_the_new_year(settings):
    new = settings_for_year(settings, 2026)
    assert (new.year, new.title, new.deadline, new.deliberations) == (
        2026,
        "Proposition programmation politique de la ville 2026",
        "le 15 octobre 2025",
        (),
    )
    assert new.axes == settings.axes and new.funders == settings.funders


def test_renewal_with_amounts_keeps_them(tmp_path, settings):
    source = write_import(import_annex(SEED_TEXT, settings), tmp_path / "programme.xlsx")[0]
    renewal = renew(source, settings, year=2026)
    paths, toml = write_renewed(renewal, folder=tmp_path)
    assert toml == tmp_path / "parametres-2026.toml"
    ccas = validate_file(paths[0], load_settings(toml))
    assert ccas.valid and ccas.problems == []
    assert figures(ccas.actions, settings) == [
        item for item in FIGURES["actions"] if item["sponsor"] == "CCAS"
    ]


def test_renewal_from_an_annex_workbook_for_one_sponsor(tmp_path, settings):
    annex = write_annex(seed_programme(settings), tmp_path / "annexe-2025.xlsx")
    renewal = renew(annex, settings, year=2026, clear_amounts=True)
    assert renewal.report.problems == []
    assert [a.title for a in renewal.actions] == [a["title"] for a in FIGURES["actions"]]
    assert {(a.total, len(a.funding)) for a in renewal.actions} == {(Decimal(0), 0)}
    (path,), toml = write_renewed(renewal, output=tmp_path / "ville.xlsx", sponsor="VILLE")
    assert toml == tmp_path / "parametres-2026.toml"
    report = validate_file(path, load_settings(toml))
    assert [a.title for a in report.actions] == []  # no amounts yet: every row is to complete
    assert len({p.cell for p in report.problems if p.code == "missing-value"}) == 6


def test_a_line_longer_than_a_cell_is_kept_whole(tmp_path, settings):
    path = tmp_path / "annexe.txt"
    noise = "x" * 40_000
    path.write_text(ANNEX_TEXT + "\n" + noise, encoding="utf-8")
    result = import_annex(path, settings)
    assert found(result) == [("line-not-understood", "ligne 49")]
    written, _ = write_import(result, tmp_path / "programme.xlsx")
    (row,) = sheet_rows(written, "Non importé")[1:]
    assert row[0] == 49 and row[2] + row[3] == noise


# -- the command line ------------------------------------------------------------------------
def test_cli_template_for_next_year_without_source(tmp_path):
    result = CliRunner().invoke(app, ["template", "-o", str(tmp_path / "m.xlsx"), "--year", "2026"])
    assert result.exit_code == 0, result.output
    new = load_settings(tmp_path / "parametres-2026.toml")
    assert new.year == 2026
    assert validate_file(tmp_path / "m.xlsx", new).problems[0].code == "no-actions"


def test_cli_import_then_next_years_templates_without_amounts(tmp_path, settings):
    runner = CliRunner()
    out = tmp_path / "out.xlsx"
    imported = runner.invoke(app, ["import", str(SEED_TEXT), "-o", str(out)])
    assert imported.exit_code == 0, imported.output
    assert "10 actions importées" in imported.stderr
    assert "les 8 totaux de l'annexe correspondent aux actions" in imported.stderr
    folder = tmp_path / "envois"
    folder.mkdir()
    args = ["template", "--from", str(out), "--year", "2026", "--all-sponsors", str(folder)]
    renewed = runner.invoke(app, [*args, "--sans-montants"])
    assert renewed.exit_code == 0, renewed.output
    assert sorted(p.name for p in folder.iterdir()) == [
        "modele-2026-ccas.xlsx",
        "modele-2026-ville.xlsx",
        "parametres-2026.toml",
    ]
    assert "--settings " + str(folder / "parametres-2026.toml") in renewed.stderr
    new = load_settings(folder / "parametres-2026.toml")
    for sponsor, count in (("CCAS", 4), ("VILLE", 6)):
        path = folder / f"modele-2026-{sponsor.lower()}.xlsx"
        sheet = openpyxl.load_workbook(path)["Actions"]
        rows = [r for r in sheet.iter_rows(min_row=5, max_row=304) if r[1].value]
        titles = [r[1].value for r in rows]
        assert titles == [a["title"] for a in FIGURES["actions"] if a["sponsor"] == sponsor]
        assert len(titles) == count
        assert all(cell.value is None for r in rows for cell in r[4:16])  # no amounts
        assert all(not r[4].protection.locked for r in rows)  # the cost is still to type
        report = validate_file(path, new)
        assert {p.code for p in report.problems} == {"missing-value", "no-funder"}
        assert [p.cell for p in report.problems if p.code == "missing-value"] == [
            f"E{row}" for row in range(5, 5 + count)
        ]
        with pytest.raises(WrongProgramme):
            validate_file(path, settings)


def test_cli_import_with_problems_writes_and_exits_1(tmp_path):
    path = edited(tmp_path, {LANDLORDS: ("Maisons et Cités= 19 334 €", "Maison et Cité= 19 334 €")})
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(app, ["import", str(path), "-o", str(out)])
    assert result.exit_code == 1
    assert "ligne 15 : « Maison et Cité »" in result.stdout
    assert out.exists() and "Non importé" in openpyxl.load_workbook(out).sheetnames
    extended = CliRunner().invoke(
        app, ["import", str(path), "-o", str(tmp_path / "p.xlsx"), "--add-funders", "TFPB"]
    )
    assert extended.exit_code == 0, extended.output
    assert f"xlfunding validate {tmp_path / 'p.xlsx'} --settings {tmp_path / 'p.toml'}" in (
        extended.stderr
    )


def test_cli_misuse_and_unreadable_exit_2(tmp_path):
    runner = CliRunner()
    pdf = tmp_path / "annexe.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    cases = [
        (["import", str(pdf), "-o", str(tmp_path / "o.xlsx")], "document PDF"),
        (["import", str(SEED_TEXT), "-o", str(SEED_TEXT), "--force"], "un des fichiers lus"),
        (
            ["import", str(SEED_TEXT), "-o", str(tmp_path / "o.xlsx"), "--add-funders", "État"],
            "groupe inconnu « État »",
        ),
        (["template", "-o", str(tmp_path / "m.xlsx"), "--sans-montants"], "--from"),
        (["template", "-o", str(tmp_path / "m.xlsx"), "--year", "1999"], "2000"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["annexe.pdf"]


def test_cli_template_from_a_return_with_errors_writes_nothing(tmp_path):
    path = edited(tmp_path, {LANDLORDS: ("Maisons et Cités= 19 334 €", "Maison et Cité= 19 334 €")})
    out = tmp_path / "out.xlsx"
    assert CliRunner().invoke(app, ["import", str(path), "-o", str(out)]).exit_code == 1
    folder = tmp_path / "envois"
    folder.mkdir()
    result = CliRunner().invoke(
        app, ["template", "--from", str(out), "--year", "2026", "--all-sponsors", str(folder)]
    )
    assert result.exit_code == 1
    assert "'Actions'!E11" in result.stdout and "modèles non écrits" in result.stderr
    assert list(folder.iterdir()) == []


# -- the budget text, both ways ------------------------------------------------------------------
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**9), places=2)


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(load_settings().funder_codes), amounts, min_size=1))
def test_budget_text_reads_back_exactly(funding):
    settings = load_settings()
    action = Action("", "x", "", "CCAS", sum(funding.values(), Decimal(0)), funding)
    budget = parse_budget(budget_text(action, settings.funder_codes))
    assert budget.total == action.total
    assert dict(budget.items) == funding


def test_heading_lines_above_the_table_are_kept_not_reported(tmp_path, settings):
    """A title with a suffix, another annex number, a subtitle, a page number: the document's
    heading, kept in the imported workbook's metadata; the import exits 0."""
    from typer.testing import CliRunner

    from xlfunding.cli import app
    from xlfunding.read.template import read_template

    path = edited(
        tmp_path,
        {
            3: ("VILLE 2025", "VILLE 2025 - VERSION DÉFINITIVE"),
            4: ("", "Conseil municipal du 18 décembre 2024"),
            5: ("n°2", "n°3"),
            6: ("", "Page 1 / 3"),
        },
    )
    result = import_annex(path, settings)
    assert found(result) == []
    assert result.heading == (
        "PROPOSITION PROGRAMMATION POLITIQUE DE LA VILLE 2025 - VERSION DÉFINITIVE",
        "Conseil municipal du 18 décembre 2024",
        "Annexe n°3",
        "Page 1 / 3",
    )
    decision = result.decision
    assert decision is not None
    assert (decision.reference, str(decision.date)) == ("DELIB-2024-1179", "2024-12-18")
    out = tmp_path / "programme.xlsx"
    run = CliRunner().invoke(app, ["import", str(path), "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert "Délibération DELIB-2024-1179 du 18/12/2024 (tampon de la préfecture)" in run.output
    meta = read_template(out, settings).metadata
    assert meta["heading"].splitlines() == list(result.heading)
    assert (meta["decision_reference"], meta["decision_date"]) == ("DELIB-2024-1179", "2024-12-18")


def test_without_a_header_row_the_table_starts_at_its_first_axis(tmp_path, settings):
    lines = [line for line in seed_lines() if not line.startswith("Intitulé du projet")]
    path = tmp_path / "sans-entete.txt"
    path.write_text("\n".join(["Programmation 2025, suite", *lines]), encoding="utf-8")
    result = import_annex(path, settings)
    assert found(result) == [] and len(result.actions) == 10
    assert result.heading[0] == "Programmation 2025, suite"
