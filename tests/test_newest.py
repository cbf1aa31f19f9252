"""#17: ``annex`` and ``validate`` over several files follow the rules of ``consolidate`` (a copy
read once, the newest return of each sponsor counted), and « newest wins » holds per sponsor
for every template kind, saying what an older file still held."""

from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
from builders import BASE, action, workbook
from typer.testing import CliRunner

from xlfunding.cli import app
from xlfunding.month.consolidate import Status, check_files, consolidate
from xlfunding.read.annex import read_annex
from xlfunding.settings import Settings

CCAS = "examples/retours/ccas-2025.xlsx"
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def annex_total(path: Path, settings: Settings) -> Decimal:
    return read_annex(path, settings).total


def test_annex_of_a_return_and_its_copy_counts_it_once(tmp_path: Path, settings: Settings) -> None:
    source = ROOT / CCAS
    copy = shutil.copy(source, tmp_path / "copie-de-ccas-2025.xlsx")
    single, double = tmp_path / "seule.xlsx", tmp_path / "double.xlsx"
    assert run("annex", str(source), "-o", str(single))[0] == 0
    code, output = run("annex", str(source), str(copy), "-o", str(double))
    assert code == 0, output
    assert annex_total(double, settings) == annex_total(single, settings) == Decimal(85520)
    assert "TOTAL 85\u00a0520\u00a0€" in output
    # the same path twice, too
    code, output = run("annex", str(source), str(source), "-o", str(double), "--force")
    assert code == 0 and annex_total(double, settings) == Decimal(85520), output


def test_annex_of_a_resaved_copy_counts_the_newest_once(tmp_path: Path,
                                                         settings: Settings) -> None:
    """Not byte-identical (saved again): the same sponsor's newest return counts."""
    old = shutil.copy(ROOT / CCAS, tmp_path / "ccas.xlsx")
    new = tmp_path / "ccas-v2.xlsx"
    book = openpyxl.load_workbook(old)
    book.save(new)
    os.utime(old, (1_700_000_000, 1_700_000_000))
    output_path = tmp_path / "annexe.xlsx"
    code, output = run("annex", str(old), str(new), "-o", str(output_path))
    assert code == 0, output
    assert annex_total(output_path, settings) == Decimal(85520)
    report = check_files([old, new], settings)
    assert {a.source.file.name for a in report.actions if a.source and a.source.file} == {
        "ccas-v2.xlsx"}
    assert [(p.code, p.file) for p in report.problems] == [("superseded-file", old)]


def test_validate_over_several_files_applies_the_same_rules(tmp_path: Path) -> None:
    source = ROOT / CCAS
    copy = shutil.copy(source, tmp_path / "ccas (1).xlsx")
    code, output = run("validate", "--json", str(source), str(copy))
    assert code == 0, output
    data = json.loads(output)
    assert data["counts"]["by_code"].get("duplicate-file") == 1
    assert data["counts"]["actions"] == len(check_files([source]).actions)


def test_a_generic_return_that_drops_an_action_replaces_the_older(tmp_path: Path,
                                                                   settings: Settings) -> None:
    """Two generic (not locked) templates, both of the CCAS: the newer one dropped « Forum
    santé »; it must leave the annex, and the report must say the older file still held it."""
    ccas = BASE[:2]
    older = workbook(tmp_path, ccas, name="octobre.xlsx")
    newer = workbook(tmp_path, ccas[:1], name="novembre.xlsx")
    os.utime(older, (1_700_000_000, 1_700_000_000))
    os.utime(newer, (1_800_000_000, 1_800_000_000))
    result = consolidate(tmp_path, settings)
    assert {f.name: f.status for f in result.files} == {
        "novembre.xlsx": Status.VALID, "octobre.xlsx": Status.SUPERSEDED}
    assert [a.title for a in result.programme.actions] == ["Atelier théâtre"]
    dropped = [p for p in result.problems if p.code == "action-dropped"]
    assert [(p.file.name if p.file else None, p.cell, p.value) for p in dropped] == [
        ("octobre.xlsx", "B6", "Forum santé")]
    assert "novembre.xlsx" in dropped[0].message and "CCAS" in dropped[0].message
    assert result.complete  # a replaced return is normal, not an error


def test_a_compilation_of_several_sponsors_is_no_ones_return(tmp_path: Path,
                                                              settings: Settings) -> None:
    """A generic file with CCAS and VILLE actions (the city's compilation) replaces no return
    and is replaced by none: its actions add up, each action taken once."""
    mixed = workbook(tmp_path, BASE, name="ville-et-ccas.xlsx")
    locked = workbook(tmp_path, [BASE[0], action(4, "Nouveau", "CCAS", "10", CCAS="10")],
                      name="ccas.xlsx", sponsor="CCAS")
    os.utime(mixed, (1_700_000_000, 1_700_000_000))
    os.utime(locked, (1_800_000_000, 1_800_000_000))
    result = consolidate(tmp_path, settings)
    status = {f.name: f.status for f in result.files}
    assert status == {"ccas.xlsx": Status.VALID, "ville-et-ccas.xlsx": Status.DUPLICATE_ACTIONS}
    assert sorted(a.title for a in result.programme.actions) == [
        "Atelier théâtre", "Bouge ta ville", "Forum santé", "Nouveau"]
    assert [p.code for p in result.problems] == ["duplicate-action"]


def test_the_newest_file_of_another_kind_wins_even_if_generic(tmp_path: Path,
                                                               settings: Settings) -> None:
    locked = workbook(tmp_path, BASE[:2], name="ccas.xlsx", sponsor="CCAS")
    generic = workbook(tmp_path, [BASE[1], action(4, "Nouveau", "CCAS", "10", CCAS="10")],
                       name="ccas-generique.xlsx")
    os.utime(locked, (1_700_000_000, 1_700_000_000))
    os.utime(generic, (1_800_000_000, 1_800_000_000))
    result = consolidate(tmp_path, settings)
    assert {f.name: f.status for f in result.files} == {
        "ccas.xlsx": Status.SUPERSEDED, "ccas-generique.xlsx": Status.VALID}
    assert sorted(a.title for a in result.programme.actions) == ["Forum santé", "Nouveau"]
    assert [p.value for p in result.problems if p.code == "action-dropped"] == [
        "Atelier théâtre"]
