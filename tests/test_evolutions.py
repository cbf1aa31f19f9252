"""Month to month: an earlier annex against this month's returns."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import example, given
from hypothesis import strategies as st
from seeddata import seed_actions, seed_programme

from xlfunding.model import Programme
from xlfunding.month.consolidate import consolidate
from xlfunding.month.evolutions import (
    ADDED,
    CHANGED,
    REMOVED,
    SHEET,
    FieldChange,
    compare,
    squeezed,
    write_evolutions_sheet,
)
from xlfunding.month.job import run_consolidate
from xlfunding.settings import Settings
from xlfunding.write.annex import write_annex

RETURNS = Path(__file__).parent.parent / "examples" / "retours"
GONE = "Fête de quartier"


@pytest.fixture
def last_month(tmp_path: Path, settings: Settings) -> Path:
    """October's annex: one amount different, one action since withdrawn, one not yet sent."""
    actions = list(seed_actions(settings))
    first = actions[0]  # Fonctionnement du PRE: CCAS 14 985, ANCT 31 465, CAF 4 500
    actions[0] = replace(first, total=first.total - 1000,
                         funding={**first.funding, "ANCT": first.amount("ANCT") - 1000})
    gone = replace(actions[1], title=GONE, description="Annulée.")
    october = [*actions[:-1], gone]  # the last action was not in October's annex
    return write_annex(Programme(settings, tuple(october)), tmp_path / "annexe-2025-10.xlsx")


def test_previous_lists_exactly_the_three_changes(last_month: Path, settings: Settings) -> None:
    seed = seed_actions(settings)
    result = consolidate(RETURNS, settings, previous=last_month)
    changes = result.evolutions
    assert changes is not None and changes.previous == last_month
    summary = [(c.kind, c.sponsor, c.title) for c in changes.changes]
    assert summary == [(ADDED, seed[-1].sponsor, seed[-1].title),
                       (REMOVED, seed[1].sponsor, GONE),
                       (CHANGED, seed[0].sponsor, seed[0].title)]
    assert changes.changes[2].fields == (
        FieldChange("Coût total", seed[0].total - 1000, seed[0].total),
        FieldChange("ANCT", seed[0].amount("ANCT") - 1000, seed[0].amount("ANCT")))
    groups = {g.group: g for g in changes.groups}
    assert groups["TOTAL"].after == Decimal(248656)
    assert groups["TOTAL"].difference == 1000 + seed[-1].total - seed[1].total
    assert groups["ANCT"].difference == 1000 + seed[-1].amount("ANCT") - seed[1].amount("ANCT")
    assert groups["ANCT"].share_after == Decimal("39.21")  # 97 494 / 248 656


def test_same_programme_has_no_changes(tmp_path: Path, settings: Settings) -> None:
    annex = write_annex(seed_programme(settings), tmp_path / "annexe.xlsx")
    changes = consolidate(RETURNS, settings, previous=annex).evolutions
    assert changes is not None and changes.changes == ()
    assert all(g.difference == 0 for g in changes.groups)


def test_key_is_sponsor_and_title_case_aside(settings: Settings) -> None:
    action = seed_actions(settings)[0]
    before = Programme(settings, (replace(action, title=action.title.upper() + "  "),))
    after = Programme(settings, (action,))
    (change,) = compare(before, after).changes
    assert change.kind == CHANGED
    assert change.fields == (FieldChange("Intitulé", action.title.upper() + "  ", action.title),)


def test_json_and_report_carry_the_evolutions(last_month: Path, tmp_path: Path,
                                              settings: Settings) -> None:
    out = io.StringIO()
    report = tmp_path / "rapport.xlsx"
    code = run_consolidate(RETURNS, tmp_path / "annexe-2025-11.xlsx", report=report,
                           previous=last_month, json_out=True, settings=settings, stdout=out)
    assert code == 0
    evolutions = json.loads(out.getvalue())["evolutions"]
    assert evolutions["counts"] == {ADDED: 1, REMOVED: 1, CHANGED: 1}
    changed = evolutions["changes"][2]["fields"]
    assert changed[0] == {"field": "Coût total", "before": "49950", "after": "50950"}
    rows = list(openpyxl.load_workbook(report)[SHEET].iter_rows(values_only=True))
    kinds = [row[0] for row in rows if row and row[0] in (ADDED, REMOVED, CHANGED)]
    assert set(kinds) == {ADDED, REMOVED, CHANGED}


def test_evolutions_sheet_writes_into_any_workbook(last_month: Path, tmp_path: Path,
                                                   settings: Settings) -> None:
    changes = consolidate(RETURNS, settings, previous=last_month).evolutions
    assert changes is not None
    path = tmp_path / "feuille.xlsx"
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    write_evolutions_sheet(book, changes)
    book.close()
    sheet = openpyxl.load_workbook(path)[SHEET]
    groups = {row[0]: row[1:4] for row in sheet.iter_rows(min_row=5, max_row=12,
                                                          values_only=True)}
    assert groups["TOTAL"][1] == 248656
    assert groups["TOTAL"][2] == groups["TOTAL"][1] - groups["TOTAL"][0]


def test_the_annex_gets_the_evolutions_sheet(last_month: Path, tmp_path: Path,
                                             settings: Settings) -> None:
    annex = tmp_path / "annexe-2025-11.xlsx"
    assert run_consolidate(RETURNS, annex, previous=last_month, settings=settings,
                           stdout=io.StringIO()) == 0
    book = openpyxl.load_workbook(annex, data_only=True)
    assert book.sheetnames[-1] == SHEET and "Annexe" in book.sheetnames
    changes = [row[:3] for row in book[SHEET].iter_rows(values_only=True)
               if row[0] in (ADDED, REMOVED, CHANGED)]
    assert (REMOVED, "CCAS", GONE) in changes


@given(st.text(alphabet=st.sampled_from("ab \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2009\u2028\u3000é")))
@example(" a")
@example("a ")
@example("a  b")
@example("a\xa0b")
@example("")
def test_squeezed_is_the_split_and_join_it_stands_for(text: str) -> None:
    assert squeezed(text) == " ".join(text.split())

