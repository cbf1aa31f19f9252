"""The SCDL « Subventions » export: the seed programme for the Ville and the CCAS passes the
vendored schema (frictionless) and its montants add up to the annex's totals, exactly."""

from __future__ import annotations

import csv
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from seeddata import FIGURES, seed_programme
from test_identity import make_siret, with_identity
from typer.testing import CliRunner

from xlfunding.cli import app
from xlfunding.model import Programme
from xlfunding.opendata.publish import schema_problems, write_scdl
from xlfunding.opendata.scdl import FIELDS, scdl_export, schema_path
from xlfunding.settings import Settings
from xlfunding.threshold import pairs
from xlfunding.write.annex import write_annex
from xlfunding.write.settings_toml import settings_toml

VILLE, CCAS = make_siret("21620907", "0001"), make_siret("26620001", "0002")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "scdl" / "subventions-2.1.1-schema.json"


@pytest.fixture(scope="module")
def published(settings: Settings) -> Settings:
    return with_identity(
        settings,
        {
            "Ville": {"siret": VILLE, "legal_name": "Commune de Libercourt"},
            "CCAS": {"siret": CCAS, "legal_name": "CCAS de Libercourt", "rna": "W621000123"},
        },
        {"reference": "DELIB-2024-1179", "date": "2024-12-18"},
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_vendored_schema_is_the_published_one() -> None:
    vendored = schema_path().read_bytes()
    assert json.loads(vendored)["version"] == "2.1.1"
    if SHARED.exists():
        assert hashlib.sha256(vendored).digest() == hashlib.sha256(SHARED.read_bytes()).digest()
    source = schema_path().with_name("scdl-subventions-2.1.1.SOURCE.txt").read_text()
    assert hashlib.sha256(vendored).hexdigest() in source and "gitlab.com/opendatafrance" in source


@pytest.mark.parametrize(("funder", "total"), [("Ville", "48207"), ("CCAS", "29950")])
def test_the_seed_exported_for_a_funder_passes_the_schema_and_adds_up(
    published: Settings, tmp_path: Path, funder: str, total: str
) -> None:
    assert FIGURES["totals"][funder] == int(total)
    export = scdl_export(seed_programme(published), [funder])
    assert export.problems == []
    path = tmp_path / f"subventions-{funder}.csv"
    assert write_scdl(export, path) == []
    assert schema_problems(path) == []  # frictionless, against the vendored schema
    rows = read_csv(path)
    assert list(rows[0]) == list(FIELDS)
    assert sum(Decimal(r["montant"]) for r in rows) == Decimal(total)
    assert {r["idAttribuant"] for r in rows} == {VILLE if funder == "Ville" else CCAS}
    first = rows[0]
    assert (first["dateConvention"], first["referenceDecision"]) == (
        "2024-12-18",
        "DELIB-2024-1179",
    )
    assert first["datesPeriodeVersement"] == "2024-12-18/2025-12-31"
    assert (first["nature"], first["notificationUE"], first["dispositifAide"]) == (
        "aide en numéraire",
        "non",
        "Politique de la ville",
    )


def test_montant_is_the_funders_share_and_the_percentage_its_part_of_the_cost(
    published: Settings, tmp_path: Path
) -> None:
    export = scdl_export(seed_programme(published), ["Ville"])
    row = next(r for r in export.rows if r["objet"].startswith("Accompagnement à la scolarité"))
    assert (row["montant"], row["pourcentageSubvention"]) == ("5457.00", "0.5131")  # 5457/10636
    assert (row["nomBeneficiaire"], row["idBeneficiaire"]) == ("Commune de Libercourt", VILLE)


def test_the_threshold_counts_per_beneficiary_over_all_its_actions(published: Settings) -> None:
    programme = seed_programme(published)
    found = {(p.funder, p.beneficiary): (p.amount, p.actions, p.due) for p in pairs(programme)}
    assert found[("Ville", "VILLE")] == (Decimal(48207), 6, True)
    assert found[("CCAS", "CCAS")] == (Decimal(29950), 4, True)
    # ANCT gives more than 23 000 € to each sponsor, but no single action reaches it
    assert found[("ANCT", "CCAS")][2] and found[("ANCT", "VILLE")][2]
    assert found[("CAF", "VILLE")] == (Decimal(15500), 1, False)
    assert found[("CAF", "CCAS")] == (Decimal(4500), 1, False)
    caf = scdl_export(programme, ["CAF"])  # no SIRET for the CAF: refused anyway
    assert caf.rows == [] and {p.code for p in caf.problems} == {"missing-identity"}


def test_below_the_threshold_only_tout_exports(published: Settings) -> None:
    few = Programme(published, seed_programme(published).actions[:2])  # CCAS: 19 550 €
    assert scdl_export(few, ["CCAS"]).rows == []
    assert len(scdl_export(few, ["CCAS"], everything=True).rows) == 2


def test_a_missing_siret_or_date_is_a_problem_and_nothing_is_written(
    settings: Settings, published: Settings, tmp_path: Path
) -> None:
    bare = with_identity(settings, {"Ville": {"siret": VILLE}})
    export = scdl_export(seed_programme(bare), ["Ville", "CCAS"])
    messages = [p.message for p in export.problems]
    assert export.rows == []
    assert messages[0].startswith("La date de la décision manque")
    assert messages[1].startswith("Le financeur « CCAS » n'a pas de SIRET")
    assert messages[2].startswith("Le porteur « CCAS » n'a pas de SIRET")
    assert len(messages) == 3  # the sponsor VILLE is the funder Ville: its SIRET is known


def test_a_value_the_schema_refuses_leaves_no_file(published: Settings, tmp_path: Path) -> None:
    export = scdl_export(seed_programme(published), ["Ville"])
    export.rows[0]["objet"] = "x" * 300  # beyond the schema's 256 characters
    path = tmp_path / "subventions.csv"
    path.write_text("ancien\n", encoding="utf-8")
    problems = write_scdl(export, path, force=True)
    assert [p.code for p in problems] == ["scdl-invalid"]
    assert "ligne 2, colonne « objet »" in problems[0].message
    assert path.read_text(encoding="utf-8") == "ancien\n"  # the old file keeps its bytes
    assert [p.name for p in tmp_path.iterdir()] == ["subventions.csv"]


def test_the_command_exports_an_annex(published: Settings, tmp_path: Path) -> None:
    toml = tmp_path / "parametres.toml"
    toml.write_text(settings_toml(published), encoding="utf-8")
    annex = write_annex(seed_programme(published), tmp_path / "annexe-2025.xlsx")
    out = tmp_path / "subventions-2025.csv"
    runner = CliRunner()
    args = ["scdl", str(annex), "-o", str(out), "--tous", "--date-decision", "2024-12-19"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    said = result.output.replace("\u00a0", " ")
    assert "Ville → VILLE : 48 207 € (6 actions)" in said
    assert "CCAS → CCAS : 29 950 € (4 actions)" in said
    rows = read_csv(out)
    assert len(rows) == 10 and {r["dateConvention"] for r in rows} == {"2024-12-19"}
    assert sum(Decimal(r["montant"]) for r in rows) == 48207 + 29950
    again = runner.invoke(app, [*args[:4], "--attribuant", "Ville", "--settings", str(toml)])
    assert again.exit_code == 2 and "existe déjà" in again.output  # no --force


def test_the_command_says_what_is_missing(settings: Settings, tmp_path: Path) -> None:
    annex = write_annex(seed_programme(settings), tmp_path / "annexe.xlsx")
    out = tmp_path / "s.csv"
    result = CliRunner().invoke(app, ["scdl", str(annex), "-o", str(out), "--attribuant", "ville"])
    assert result.exit_code == 1
    assert "Le financeur « Ville » n'a pas de SIRET" in result.output
    assert "n'est pas écrit" in result.output or "non écrit" in result.output
    assert not out.exists()
    wrong = CliRunner().invoke(app, ["scdl", str(annex), "-o", str(out), "--attribuant", "Etat"])
    assert wrong.exit_code == 2 and "financeur inconnu « Etat »" in wrong.output


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def identities_only(settings: Settings, folder: Path) -> Path:
    """A settings file with the Ville's and the CCAS's SIRET, and no decision."""
    path = folder / "parametres.toml"
    chosen = with_identity(settings, {"Ville": {"siret": VILLE}, "CCAS": {"siret": CCAS}})
    path.write_text(settings_toml(chosen), encoding="utf-8")
    return path


def test_the_decision_is_printed_under_the_title_and_reused_by_the_export(
    published: Settings, settings: Settings, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from xlfunding.read.annex import read_annex

    toml = identities_only(settings, tmp_path)
    annex = tmp_path / "annexe.xlsx"
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "annex",
            str(EXAMPLES / "programmation-2025.xlsx"),
            "-o",
            str(annex),
            "--settings",
            str(toml),
            "--decision",
            "DELIB-2024-1179",
            "--date-decision",
            "2024-12-18",
        ],
    )
    assert made.exit_code == 0, made.output
    sheet = load_workbook(annex)["Annexe"]
    assert [sheet["A1"].value, sheet["A2"].value, sheet["A3"].value] == [
        "PROPOSITION PROGRAMMATION POLITIQUE DE LA VILLE 2025",
        "Annexe n°2",
        "Délibération DELIB-2024-1179 du 18/12/2024",
    ]
    assert read_annex(annex).settings.decision.reference == "DELIB-2024-1179"
    out = tmp_path / "ccas.csv"
    result = runner.invoke(
        app, ["scdl", str(annex), "-o", str(out), "--attribuant", "CCAS", "--settings", str(toml)]
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert {(r["referenceDecision"], r["dateConvention"]) for r in rows} == {
        ("DELIB-2024-1179", "2024-12-18")
    }
    assert sum(Decimal(r["montant"]) for r in rows) == 29950


def test_consolidate_takes_the_decision_and_scdl_reads_a_folder(
    settings: Settings, tmp_path: Path
) -> None:
    from xlfunding.read.annex import read_annex

    toml = identities_only(settings, tmp_path)
    runner = CliRunner()
    annex = tmp_path / "annexe.xlsx"
    made = runner.invoke(
        app,
        [
            "consolidate",
            str(EXAMPLES / "retours"),
            "-o",
            str(annex),
            "--settings",
            str(toml),
            "--date-decision",
            "2024-12-18",
        ],
    )
    assert made.exit_code == 0, made.output
    assert str(read_annex(annex).settings.decision.date) == "2024-12-18"
    out = tmp_path / "ville.csv"
    result = runner.invoke(
        app,
        [
            "scdl",
            str(EXAMPLES / "retours"),
            "-o",
            str(out),
            "--attribuant",
            "Ville",
            "--settings",
            str(toml),
            "--date-decision",
            "2024-12-18",
            "--tout",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sum(Decimal(r["montant"]) for r in read_csv(out)) == 48207


def test_the_consolidation_report_lists_the_pairs_that_need_a_convention(
    settings: Settings, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from xlfunding.month.job import run_consolidate

    report = tmp_path / "rapport.xlsx"
    code = run_consolidate(
        EXAMPLES / "retours", tmp_path / "annexe.xlsx", report=report, settings=settings
    )
    assert code == 0
    rows = list(load_workbook(report)["Conventions"].iter_rows(values_only=True))
    assert rows == [
        ("Financeur", "Bénéficiaire", "Montant", "Actions"),
        ("Ville", "VILLE", 48207, 6),
        ("CCAS", "CCAS", 29950, 4),
        ("ANCT", "CCAS", 49565, 4),
        ("ANCT", "VILLE", 47929, 6),
    ]


def test_misuse_and_an_incomplete_folder_write_nothing(settings: Settings, tmp_path: Path) -> None:
    import shutil

    runner = CliRunner()
    out = tmp_path / "s.csv"
    annex = write_annex(seed_programme(settings), tmp_path / "annexe.xlsx")
    nobody = runner.invoke(app, ["scdl", str(annex), "-o", str(out), "--tous"])
    assert nobody.exit_code == 2 and "aucun financeur n'a de SIRET" in nobody.output
    both = runner.invoke(app, ["scdl", str(annex), "-o", str(out)])
    assert both.exit_code == 2 and "soit --attribuant FINANCEUR, soit --tous" in both.output
    template = EXAMPLES / "retours" / "ccas-2025.xlsx"
    wrong = runner.invoke(app, ["scdl", str(template), "-o", str(out), "--attribuant", "CCAS"])
    assert wrong.exit_code == 2 and "pas une annexe écrite par xlfunding" in wrong.output
    inbox = tmp_path / "retours"
    shutil.copytree(EXAMPLES / "retours", inbox)
    (inbox / "abime.xlsx").write_bytes(b"PK\x03\x04 pas un classeur")
    toml = identities_only(settings, tmp_path)
    args = ["scdl", str(inbox), "-o", str(out), "--tous", "-s", str(toml)]
    broken = runner.invoke(app, [*args, "--date-decision", "2024-12-18"])
    assert broken.exit_code == 1 and "consolidation incomplète" in broken.output
    assert not out.exists()


def test_a_title_a_spreadsheet_would_run_stays_text(published: Settings, tmp_path: Path) -> None:
    from dataclasses import replace

    actions = seed_programme(published).actions
    risky = replace(actions[0], title='=HYPERLINK("http://x")')
    export = scdl_export(Programme(published, (risky, *actions[1:])), ["CCAS"])
    assert export.rows[0]["objet"] == '\'=HYPERLINK("http://x")'
    assert write_scdl(export, tmp_path / "s.csv") == []


def test_a_sponsor_the_funder_pays_nothing_needs_no_siret(settings: Settings) -> None:
    """The Ville pays none of the CCAS's actions: the CCAS's missing SIRET stops nothing."""
    chosen = with_identity(
        settings, {"Ville": {"siret": VILLE}}, {"reference": "D-1", "date": "2024-12-18"}
    )
    export = scdl_export(seed_programme(chosen), ["Ville"], everything=True)
    assert export.problems == []
    assert {r["nomBeneficiaire"] for r in export.rows} == {"VILLE"}


def test_only_the_actions_exported_need_the_sponsors_siret(settings: Settings) -> None:
    """The CAF pays one of the CCAS's actions, whose template gives the SIRET; the CCAS's other
    actions, which the CAF does not pay, have none: they are not exported, so not asked."""
    from dataclasses import replace

    caf = make_siret("53431802", "0011")
    chosen = with_identity(
        settings,
        {"Ville": {"siret": VILLE}, "CAF": {"siret": caf}},
        {"reference": "D-1", "date": "2024-12-18"},
    )
    actions = [
        replace(a, siret=CCAS) if a.sponsor == "CCAS" and a.amount("CAF") else a
        for a in seed_programme(chosen).actions
    ]
    assert sum(1 for a in actions if a.siret) == 1
    export = scdl_export(Programme(chosen, tuple(actions)), ["CAF"], everything=True)
    assert export.problems == []
    paid = [(r["nomBeneficiaire"], r["idBeneficiaire"], r["montant"]) for r in export.rows]
    assert sorted(paid) == [("CCAS", CCAS, "4500.00"), ("VILLE", VILLE, "15500.00")]
