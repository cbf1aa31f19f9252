"""The template's optional columns (#14): « Référence Dauphin », « SIRET du porteur », « RNA du
porteur ». Checked at their cell, carried to the actions, the annex's « Source », the funder
statement and the SCDL export; a template sent out without them is read as before."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import openpyxl
from builders import BASE, edit, problem_rows, workbook
from test_identity import make_siret, with_identity

from xlfunding.model import Programme
from xlfunding.opendata.publish import read_programme
from xlfunding.opendata.scdl import scdl_export
from xlfunding.opendata.statement import write_statements
from xlfunding.read.annex import read_annex
from xlfunding.settings import Settings
from xlfunding.validate import validate_file
from xlfunding.write.annex import write_annex

CCAS = make_siret("26620001", "0002")
IDS = {"reference": "DAU-2025-00123", "siret": CCAS, "rna": "W621000123"}


def test_the_columns_round_trip_through_the_template(tmp_path: Path, settings: Settings) -> None:
    actions = (replace(BASE[0], **IDS), *BASE[1:])
    report = validate_file(workbook(tmp_path, actions), settings)
    assert report.valid, report.problems
    first, second = report.actions[:2]
    assert (first.reference, first.siret, first.rna) == tuple(IDS.values())
    assert (second.reference, second.siret, second.rna) == ("", "", "")


def test_bad_numbers_are_problems_at_their_cell(tmp_path: Path, settings: Settings) -> None:
    path = edit(workbook(tmp_path), {"R5": CCAS[:-1] + "0", "S6": "W62100O123", "R7": "1 2"})
    report = validate_file(path, settings)
    assert problem_rows(report) == [
        ("Actions", "R5", "invalid-siret"),
        ("Actions", "R7", "invalid-siret"),
        ("Actions", "S6", "invalid-rna"),
    ]
    first, rna, short = sorted(report.problems, key=lambda p: p.row or 0)
    expected = f"le 14e devrait être {CCAS[-1]}"
    assert (
        first.message.startswith(f"« {CCAS[:-1]}0 » n'est pas un SIRET")
        and expected in first.message
    )
    assert "le 7e caractère, « O », n'est pas un chiffre" in rna.message
    assert "celui-ci en a 2" in short.message
    assert report.actions == [] and len(report.rejected) == 3  # each row is rejected


def test_a_siret_typed_as_a_number_is_read_and_a_lost_zero_is_told(
    tmp_path: Path, settings: Settings
) -> None:
    lost = make_siret("01234567", "0001")  # a SIRET that starts with 0
    path = edit(workbook(tmp_path), {"R5": int(CCAS), "R6": int(lost)})
    report = validate_file(path, settings)
    assert problem_rows(report) == [("Actions", "R6", "invalid-siret")]
    assert "un zéro au début a peut-être été perdu" in report.problems[0].message
    assert report.actions[0].siret == CCAS


def test_a_template_sent_out_without_the_columns_is_read_as_before(
    tmp_path: Path, settings: Settings
) -> None:
    path = edit(workbook(tmp_path), {"Q4": None, "R4": None, "S4": None, "R5": "pas lu"})
    report = validate_file(path, settings)
    assert report.valid and len(report.actions) == 3, report.problems
    assert report.actions[0].siret == ""


def test_the_numbers_reach_the_annex_the_statement_and_the_export(
    tmp_path: Path, settings: Settings
) -> None:
    actions = (replace(BASE[0], **IDS), replace(BASE[1], siret=CCAS), BASE[2])
    report = validate_file(workbook(tmp_path, actions), settings)
    annex = write_annex(Programme(settings, tuple(report.actions)), tmp_path / "annexe.xlsx")
    source = openpyxl.load_workbook(annex)["Annexe"]
    texts = [c.value for c in source["F"] if isinstance(c.value, str)]
    assert "cas.xlsx — 'Actions'!ligne 5 — Dauphin DAU-2025-00123" in texts
    programme = read_annex(annex)
    assert programme.actions[0].reference == "DAU-2025-00123"
    assert programme.settings.identity("CCAS").siret == CCAS  # kept with the annex's settings
    assert programme.settings.identity("CCAS").rna == "W621000123"
    ville = make_siret("21620907", "0001")
    given = with_identity(settings, {"Ville": {"siret": ville}}, {"date": "2024-12-18"})
    read, _ = read_programme(annex, given)  # the annex's numbers complete the given settings
    export = scdl_export(read, ["CCAS"], everything=True)
    assert export.problems == []
    assert {(r["idBeneficiaire"], r["rnaBeneficiaire"]) for r in export.rows} == {
        (CCAS, "W621000123")
    }
    book = tmp_path / "etats.xlsx"
    write_statements(programme, book, ["CCAS"])
    sheet = openpyxl.load_workbook(book)["CCAS"]
    assert sheet["G5"].value == "Référence Dauphin" and sheet["G6"].value == "DAU-2025-00123"


def test_the_sponsors_template_siret_is_enough_for_the_export(
    tmp_path: Path, settings: Settings
) -> None:
    actions = (*(replace(a, siret=CCAS) for a in BASE[:2]), BASE[2])
    report = validate_file(workbook(tmp_path, actions), settings)
    anct = with_identity(  # the ANCT publishes; the CCAS gives its SIRET in its template only
        settings, {"ANCT": {"siret": make_siret("13002060", "0001")}}, {"date": "2024-12-18"}
    )
    export = scdl_export(Programme(anct, tuple(report.actions)), ["ANCT"], everything=True)
    assert [p.message[:40] for p in export.problems] == ["Le porteur « VILLE » n'a pas de SIRET : "]
    fixed = [replace(a, siret=a.siret or CCAS) for a in report.actions]
    export = scdl_export(Programme(anct, tuple(fixed)), ["ANCT"], everything=True)
    assert export.problems == [] and {r["idBeneficiaire"] for r in export.rows} == {CCAS}


def test_the_numbers_survive_the_consolidations_cache(tmp_path: Path, settings: Settings) -> None:
    from xlfunding.month.consolidate import consolidate

    inbox = tmp_path / "retours"
    inbox.mkdir()
    workbook(inbox, (replace(BASE[0], **IDS), *BASE[1:]))
    for _ in range(2):  # read, then taken from the cache
        result = consolidate(inbox, settings, cache=tmp_path / "cache")
        first = result.programme.actions[0]
        assert (first.reference, first.siret, first.rna) == tuple(IDS.values())
    assert any(f.cached for f in result.files)
