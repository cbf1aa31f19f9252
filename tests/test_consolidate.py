"""Monthly consolidation: every file accounted for, the ledger balanced, the policy kept."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tomllib
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from seeddata import seed_actions

from xlfunding.month import consolidate as consolidate_module
from xlfunding.month.consolidate import ConsolidationBug, Status, consolidate
from xlfunding.month.job import run_consolidate
from xlfunding.settings import Settings, default_settings_path, settings_from_dict
from xlfunding.write.template import write_template

ROOT = Path(__file__).parent.parent
RETURNS = ROOT / "examples" / "retours"
SEED_GROUPS = {"Ville": 48207, "CCAS": 29950, "ANCT": 97494, "Région": 5000, "CAF": 20000,
               "TFPB": 33765, "Autres": 14240}
NEW_ACTION_TITLE = "Jardin partagé de la Haute Voie"


def mine(settings: Settings, sponsor: str) -> list:
    return [a for a in seed_actions(settings) if a.sponsor == sponsor]


def set_saved_at(path: Path, stamp: str) -> None:
    """Rewrite docProps/core.xml dcterms:modified, as Excel does on save."""
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(),
                              data)
            target.writestr(info, data)


def annex_figures(path: Path) -> dict[str, float]:
    """The annex's TOTAL and group rows as a reader that does not recompute sees them."""
    sheet = openpyxl.load_workbook(path, data_only=True)["Annexe"]
    figures = {}
    for label, value in sheet.iter_rows(min_col=4, max_col=5, values_only=True):
        if isinstance(label, str) and label in ("TOTAL", *SEED_GROUPS):
            figures[label] = value
    return figures


@pytest.fixture
def messy_inbox(tmp_path: Path, settings: Settings) -> Path:
    """One file of each kind the inbox receives."""
    inbox = tmp_path / "retours"
    (inbox / "sous-dossier").mkdir(parents=True)
    ccas = write_template(settings, inbox / "ccas.xlsx", sponsor="CCAS",
                          actions=mine(settings, "CCAS"))
    shutil.copyfile(ccas, inbox / "ccas-copie.xlsx")
    (inbox / "~$ccas.xlsx").write_bytes(b"\x07jdupont" + b"\x00" * 100)
    (inbox / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (inbox / "export.xlsx").write_text("Intitulé;Coût\nPRE;50950\n", encoding="utf-8")
    ville = mine(settings, "VILLE")
    ville[1] = replace(ville[1], total=ville[1].total + 100)  # funders no longer add up
    write_template(settings, inbox / "sous-dossier" / "ville.xlsx", sponsor="VILLE",
                   actions=ville)
    extra = replace(ville[0], title=NEW_ACTION_TITLE, description="Un jardin pour tous.")
    write_template(settings, inbox / "complement.xlsx",
                   actions=[mine(settings, "CCAS")[0], extra])  # not locked to a sponsor
    os.utime(inbox / "complement.xlsx", (1_700_000_000, 1_700_000_000))
    os.utime(ccas, (1_700_000_500, 1_700_000_500))  # ccas.xlsx is the newer copy
    data = tomllib.loads(default_settings_path().read_text(encoding="utf-8"))
    data["programme"]["year"] = 2026
    write_template(settings_from_dict(data), inbox / "modele-2026.xlsx", sponsor="CCAS")
    return inbox


EXPECTED_STATUS = {
    ".DS_Store": "ignoré (fichier caché)",
    "ccas-copie.xlsx": "doublon",
    "ccas.xlsx": "valide",
    "complement.xlsx": "actions en double",
    "export.xlsx": "illisible",
    "modele-2026.xlsx": "autre programmation",
    "sous-dossier/ville.xlsx": "erreurs",
    "~$ccas.xlsx": "ignoré (ouvert dans Excel)",
}


def test_bundled_returns_give_the_full_programme(tmp_path: Path, settings: Settings) -> None:
    result = consolidate(RETURNS, settings)
    assert result.programme.total == Decimal(248656)
    assert result.programme.group_totals() == {k: Decimal(v) for k, v in SEED_GROUPS.items()}
    assert result.complete and [f.status for f in result.files] == [Status.VALID] * 2
    assert all(a.source and a.source.file and a.source.file.parent == RETURNS
               for a in result.programme.actions)
    annex = tmp_path / "annexe.xlsx"
    assert run_consolidate(RETURNS, annex, settings=settings, stdout=io.StringIO()) == 0
    assert annex_figures(annex) == {"TOTAL": 248656, **SEED_GROUPS}


def test_every_file_gets_exactly_one_status(messy_inbox: Path, settings: Settings) -> None:
    result = consolidate(messy_inbox, settings)
    assert {f.name: str(f.status) for f in result.files} == EXPECTED_STATUS
    ledger = result.ledger
    assert (ledger.files_found, ledger.files_read, ledger.files_skipped,
            ledger.files_unreadable) == (8, 3, 3, 2)
    assert (ledger.actions_read, ledger.actions_accepted, ledger.actions_rejected) == (12, 5, 7)
    problems = {(Path(p.file).name if p.file else None, p.cell, p.code) for p in result.problems}
    assert problems == {
        ("ccas-copie.xlsx", None, "duplicate-file"),
        ("~$ccas.xlsx", None, "open-in-excel"),
        (".DS_Store", None, "hidden-file"),
        ("export.xlsx", None, "not-an-xlsx"),
        ("modele-2026.xlsx", None, "wrong-programme"),
        ("ville.xlsx", "E6", "funders-do-not-add-up"),
        ("complement.xlsx", "B5", "duplicate-action"),
    }
    accepted = {a.title for a in result.programme.actions}
    assert accepted == {a.title for a in mine(settings, "CCAS")} | {NEW_ACTION_TITLE}
    kept = next(a for a in result.programme.actions if a.title == mine(settings, "CCAS")[0].title)
    assert kept.source is not None and kept.source.file == messy_inbox / "ccas.xlsx"


def test_a_file_with_an_error_contributes_nothing(messy_inbox: Path, settings: Settings) -> None:
    ville = next(f for f in consolidate(messy_inbox, settings).files
                 if f.name.endswith("ville.xlsx"))
    assert (len(ville.rows), ville.accepted, ville.rejected) == (6, 0, 6)
    reasons = {r.row: r.reason for r in ville.rows}
    assert reasons[6] == "erreur dans la ligne : Financements différents du coût total (E6)"
    assert reasons[5] == ("le fichier a 1 erreur : aucune de ses lignes n'est reprise avant "
                          "correction")


def test_default_policy_writes_the_annex_and_exits_1(messy_inbox: Path, tmp_path: Path,
                                                     settings: Settings) -> None:
    annex, report, out = tmp_path / "annexe.xlsx", tmp_path / "rapport.xlsx", io.StringIO()
    assert run_consolidate(messy_inbox, annex, report=report, settings=settings,
                           stdout=out) == 1
    ccas = sum(a.total for a in mine(settings, "CCAS"))
    assert annex_figures(annex)["TOTAL"] == ccas + mine(settings, "VILLE")[0].total
    text = out.getvalue()
    assert "8 fichiers = 3 lus + 3 ignorés + 2 illisibles" in text
    assert "12 actions lues = 5 retenues + 7 écartées" in text
    book = openpyxl.load_workbook(report)
    assert book.sheetnames == ["Bilan", "Fichiers", "Problèmes", "Actions écartées", "Conventions"]
    files = list(book["Fichiers"].iter_rows(min_row=2, values_only=True))
    assert {row[0]: row[8] for row in files} == EXPECTED_STATUS
    assert len(list(book["Actions écartées"].iter_rows(min_row=2))) == 7
    assert len(list(book["Problèmes"].iter_rows(min_row=2))) == 7
    bilan = {row[0].strip(): row[1] for row in book["Bilan"].iter_rows(values_only=True)
             if isinstance(row[0], str) and isinstance(row[1], int | float)}
    assert [bilan[k] for k in ("Fichiers trouvés", "dont lus", "Actions lues",
                               "dont retenues dans l'annexe")] == [8, 3, 12, 5]


def test_strict_writes_no_annex(messy_inbox: Path, tmp_path: Path, settings: Settings) -> None:
    annex = tmp_path / "annexe.xlsx"
    assert run_consolidate(messy_inbox, annex, strict=True, settings=settings,
                           stdout=io.StringIO()) == 1
    assert not annex.exists()
    assert run_consolidate(RETURNS, annex, strict=True, settings=settings,
                           stdout=io.StringIO()) == 0
    assert annex.exists()


def test_json_counts_match_the_ledger(messy_inbox: Path, tmp_path: Path,
                                      settings: Settings) -> None:
    out = io.StringIO()
    assert run_consolidate(messy_inbox, tmp_path / "a.xlsx", json_out=True, settings=settings,
                           stdout=out) == 1
    data = json.loads(out.getvalue())
    assert (data["format"], data["kind"], data["complete"]) == (1, "consolidation", False)
    assert data["ledger"] == {"files_found": 8, "files_read": 3, "files_skipped": 3,
                              "files_unreadable": 2, "actions_read": 12, "actions_accepted": 5,
                              "actions_rejected": 7}
    assert {f["file"]: f["status"] for f in data["files"]} == EXPECTED_STATUS
    assert sum(f["actions_read"] for f in data["files"]) == 12
    assert sum(f["accepted"] for f in data["files"]) == 5
    assert len(data["rejected_actions"]) == 7 and len(data["problems"]) == 7
    assert data["totals"]["total"] == str(sum(a.total for a in mine(settings, "CCAS")) + 10636)


def test_the_newest_return_of_a_sponsor_wins(tmp_path: Path, settings: Settings) -> None:
    actions = mine(settings, "CCAS")
    october = write_template(settings, tmp_path / "z-octobre.xlsx", sponsor="CCAS",
                             actions=actions)
    changed = [replace(actions[0], total=actions[0].total + 500,
                       funding={**actions[0].funding, "CAF": actions[0].amount("CAF") + 500}),
               *actions[1:]]
    november = write_template(settings, tmp_path / "a-novembre.xlsx", sponsor="CCAS",
                              actions=changed)
    os.utime(october, (1_800_000_000, 1_800_000_000))  # newer file, but older in Excel:
    set_saved_at(november, "2025-11-03T09:00:00Z")
    set_saved_at(october, "2025-10-02T09:00:00Z")
    result = consolidate(tmp_path, settings)
    status = {f.name: f.status for f in result.files}
    assert status == {"a-novembre.xlsx": Status.VALID, "z-octobre.xlsx": Status.SUPERSEDED}
    assert result.programme.total == sum(a.total for a in actions) + 500
    old = next(p for p in result.problems if p.code == "superseded-file")
    assert "a-novembre.xlsx" in old.message and "03/11/2025" in old.message
    assert result.complete  # a replaced return is normal, not an error


def test_same_save_time_then_mtime_then_name(tmp_path: Path, settings: Settings) -> None:
    for name in ("b.xlsx", "a.xlsx"):
        write_template(settings, tmp_path / name, sponsor="CCAS",
                       actions=mine(settings, "CCAS")[: 1 if name == "a.xlsx" else 2])
    os.utime(tmp_path / "a.xlsx", (1_800_000_000, 1_800_000_000))
    os.utime(tmp_path / "b.xlsx", (1_700_000_000, 1_700_000_000))
    assert {f.name: f.status for f in consolidate(tmp_path, settings).files} == {
        "a.xlsx": Status.VALID, "b.xlsx": Status.SUPERSEDED}
    os.utime(tmp_path / "b.xlsx", (1_800_000_000, 1_800_000_000))
    assert {f.name: f.status for f in consolidate(tmp_path, settings).files} == {
        "a.xlsx": Status.SUPERSEDED, "b.xlsx": Status.VALID}


def test_a_crashing_reader_does_not_stop_the_batch(tmp_path: Path, settings: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import xlfunding.read.template

    inbox = tmp_path / "retours"
    shutil.copytree(RETURNS, inbox)
    for name in ("boucle.xlsx", "enorme.xlsx"):
        shutil.copyfile(RETURNS / "ccas-2025.xlsx", inbox / name)
        (inbox / name).write_bytes((inbox / name).read_bytes() + name.encode())
    real = xlfunding.read.template.read_template

    def fragile(path, settings):  # type: ignore[no-untyped-def]
        if Path(path).name == "boucle.xlsx":
            raise RecursionError("maximum recursion depth exceeded")
        if Path(path).name == "enorme.xlsx":
            raise MemoryError()
        return real(path, settings)

    monkeypatch.setattr(xlfunding.read.template, "read_template", fragile)
    result = consolidate(inbox, settings)
    status = {f.name: str(f.status) for f in result.files}
    assert status == {"boucle.xlsx": "illisible", "ccas-2025.xlsx": "valide",
                      "enorme.xlsx": "illisible", "ville-2025.xlsx": "valide"}
    assert {p.value for p in result.problems} == {"RecursionError", "MemoryError"}
    assert result.programme.total == Decimal(248656) and not result.complete


def test_an_unbalanced_ledger_is_a_bug(tmp_path: Path, settings: Settings,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    real = consolidate_module.triage
    monkeypatch.setattr(consolidate_module, "triage",
                        lambda found, **kw: real(found[1:], **kw))  # loses a file
    with pytest.raises(ConsolidationBug, match="bilan"):
        consolidate(RETURNS, settings)


def test_misuse_exits_2(tmp_path: Path, settings: Settings,
                        capsys: pytest.CaptureFixture[str]) -> None:
    def run(inbox: Path, output: Path, **options: object) -> int:
        return run_consolidate(inbox, output, settings=settings, stdout=io.StringIO(),
                               **options)  # type: ignore[arg-type]

    assert run(tmp_path / "absent", tmp_path / "a.xlsx") == 2
    assert run(RETURNS, tmp_path / "absent" / "a.xlsx") == 2
    (tmp_path / "a.xlsx").write_bytes(b"")
    assert run(RETURNS, tmp_path / "a.xlsx") == 2
    inbox = tmp_path / "retours"
    shutil.copytree(RETURNS, inbox)
    assert run(inbox, inbox / "annexe.xlsx") == 2
    assert run(inbox, tmp_path / "b.xlsx", previous=RETURNS / "ccas-2025.xlsx") == 2
    assert "dossier des retours" in capsys.readouterr().err
    assert run(inbox, tmp_path / "a.xlsx", force=True) == 0


def test_empty_inbox_is_incomplete(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "vide").mkdir()
    out = io.StringIO()
    assert run_consolidate(tmp_path / "vide", tmp_path / "a.xlsx", settings=settings,
                           stdout=out) == 1
    assert "aucune action retenue" in out.getvalue()


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str],
                                                       settings: Settings) -> None:
    consolidate(RETURNS, settings, progress=True)
    assert capsys.readouterr().err == ""


def test_the_annex_can_show_where_each_action_came_from(tmp_path: Path,
                                                        settings: Settings) -> None:
    annex = tmp_path / "annexe.xlsx"
    assert run_consolidate(RETURNS, annex, show_sources=True, settings=settings,
                           stdout=io.StringIO()) == 0
    sheet = openpyxl.load_workbook(annex)["Annexe"]
    assert not sheet.column_dimensions["F"].hidden
    sources = {c.value for c in sheet["F"] if isinstance(c.value, str) and "—" in c.value}
    assert "ccas-2025.xlsx — 'Actions'!ligne 5" in sources and len(sources) == 10


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str],
                                    settings: Settings) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    result = consolidate(RETURNS, settings, progress=True)
    assert result.programme.total == Decimal(248656)
    assert "Lecture des retours" in capsys.readouterr().err


def test_a_file_that_breaks_the_common_check_is_checked_alone(
        tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlfunding.validate

    inbox = tmp_path / "retours"
    shutil.copytree(RETURNS, inbox)
    write_template(settings, inbox / "casse.xlsx", sponsor="VILLE", actions=mine(settings,
                                                                               "VILLE")[:1])
    real = xlfunding.validate.check_reads

    def fragile(reads, settings):  # type: ignore[no-untyped-def]
        if any(read.path.name == "casse.xlsx" for read in reads):
            raise RecursionError("maximum recursion depth exceeded")
        return real(reads, settings)

    monkeypatch.setattr(xlfunding.validate, "check_reads", fragile)
    result = consolidate(inbox, settings)
    assert {f.name: str(f.status) for f in result.files} == {
        "casse.xlsx": "illisible", "ccas-2025.xlsx": "valide", "ville-2025.xlsx": "valide"}
    assert result.programme.total == Decimal(248656)  # an unreadable file replaces nothing


def test_the_summary_prints_the_annex_totals_and_shares(tmp_path: Path, settings: Settings) -> None:
    out = io.StringIO()
    assert run_consolidate(RETURNS, tmp_path / "annexe.xlsx", settings=settings, stdout=out) == 0
    assert ("TOTAL 248\u00a0656\u00a0€ · Ville 48\u00a0207\u00a0€ (19 %) · CCAS 29\u00a0950\u00a0€ "
            "(12 %) · ANCT 97\u00a0494\u00a0€ (39 %) · Région 5\u00a0000\u00a0€ (2 %) · CAF "
            "20\u00a0000\u00a0€ (8 %) · TFPB 33\u00a0765\u00a0€ (14 %) · Autres 14\u00a0240\u00a0€ "
            "(6 %)") in out.getvalue()
