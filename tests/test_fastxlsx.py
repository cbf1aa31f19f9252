"""The fast engine (python-calamine behind a scan) and the sparse XML reader give the same
report for every workbook: the bundled examples, one broken workbook per problem code, and the
readable hostile files. And calamine never sees a sheet that would abort the process."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from builders import BASE, edit, workbook
from hostile import CASES as HOSTILE
from hostile import FLAGGED, quoted_far_cell, xfd1048576
from test_validate import CASES, build

from xlfunding.problems import Report
from xlfunding.read.fast import FastXlsxFile, python_calamine
from xlfunding.validate import validate_file

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.xlsx"))
pytestmark = pytest.mark.skipif(python_calamine is None, reason="python-calamine absent")


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    answers = []
    for engine in ("auto", "xml"):
        monkeypatch.setenv("XLFUNDING_ENGINE", engine)
        try:
            answers.append(_summary(validate_file(path)))
        except Exception as exc:  # compare the refusals too
            answers.append((type(exc).__name__, str(exc)))
    return answers[0], answers[1]


def _summary(report: Report) -> tuple[object, ...]:
    return (
        [(p.code, p.sheet, p.cell, str(p.value), p.message) for p in report.problems],
        [(a.axis, a.title, a.description, a.sponsor, a.total, dict(a.funding), a.source.row
          if a.source else None) for a in report.actions],
        sorted(report.rejected),
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_same_report_on_the_examples(path, monkeypatch):
    fast, xml = _both(path, monkeypatch)
    assert fast == xml


def _table_read_by_calamine(path: Path) -> bool:
    """Whether the fast engine reads the actions table with calamine (not the safe reader)."""
    from xlfunding.read.template import _find_table
    from xlfunding.settings import load_settings

    with FastXlsxFile(path) as book:
        sheet, _ = _find_table(book, load_settings())
        return book._grid(sheet) is not None


@pytest.mark.parametrize("code", sorted(CASES))
def test_same_report_on_each_broken_workbook(tmp_path, code, monkeypatch):
    path = build(tmp_path, CASES[code][0])
    fast, xml = _both(path, monkeypatch)
    assert fast == xml
    # openpyxl wrote these (inline strings, "coût total = somme" among them): the comparison
    # is only worth something if calamine read the table.
    assert _table_read_by_calamine(path)


READABLE = [name for name, case in HOSTILE.items() if case.error is None]


@pytest.mark.parametrize("name", READABLE)
def test_same_report_on_readable_hostile_files(tmp_path, name, monkeypatch):
    path = HOSTILE[name].build(tmp_path)
    fast, xml = _both(path, monkeypatch)
    assert fast == xml


def test_the_fast_engine_is_the_default_and_reads_with_calamine(tmp_path, monkeypatch):
    monkeypatch.delenv("XLFUNDING_ENGINE", raising=False)
    calls = []
    real = python_calamine.CalamineWorkbook.from_path
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path",
                        lambda path: calls.append(path) or real(path))
    assert validate_file(EXAMPLES[0]).valid
    assert calls == [str(EXAMPLES[0])]


@pytest.mark.parametrize("far_cell", [xfd1048576, quoted_far_cell])
def test_a_far_cell_never_reaches_calamine(tmp_path, far_cell):
    """calamine aborts the process on a cell at XFD1048576 (calamine#693): the scan sends
    the sheet to the sparse reader. Run in a child, so an abort fails the test cleanly."""
    path = far_cell(tmp_path)
    code = (
        "import sys; from xlfunding.validate import validate_file; "
        f"r = validate_file({str(path)!r}); print(len(r.actions))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "XLFUNDING_ENGINE": "auto"})
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "3"
    with FastXlsxFile(path) as book:
        assert not book._scan(book.sheets[0]).fast


@pytest.mark.parametrize("code", ["excel-error", "formula-without-value",
                                  "funders-do-not-add-up", "row-below-table"])
def test_tiny_chunks_find_the_same_cells(tmp_path, code, monkeypatch):
    """The scan reads the sheet by chunks: with chunks of a few hundred bytes, every cut
    falls inside rows and cells, and the report must not change."""
    import xlfunding.read.fast as fast

    path = build(tmp_path, CASES[code][0])
    monkeypatch.setenv("XLFUNDING_ENGINE", "auto")
    normal = _summary(validate_file(path))
    monkeypatch.setattr(fast, "CHUNK", 300)
    monkeypatch.setattr(fast, "OVERLAP", 120)
    assert _summary(validate_file(path)) == normal


@pytest.mark.parametrize(("xml", "doubtful"), [
    (b'<worksheet xmlns:r="http://x"><sheetData><row r="5"><c r="A5" s="1" t="s"><v>3</v>'
     b'</c><c r="BL5"><v>1</v></c></row></sheetData></worksheet>', False),
    (b'<dataValidation type="decimal" operator="greaterThanOrEqual" sqref="E5"/>', False),
    (b'<c s="1" r="AZ9"><v>1</v></c>', False),  # the reference need not come first
    (b'<c r="XFD1048576"><v>1</v></c>', True),  # calamine would allocate the whole grid
    (b'<c r="BM5"><v>1</v></c>', True),
    (b'<c\tr="BM5"><v>1</v></c>', True),  # any space before the attribute
    (b'<c\nr="A5"/><c r="a5"><v>1</v></c>', True),  # lower case: malformed
    (b'<c x:r="ZZ9"><v>1</v></c>', True),  # a prefix other than the namespace declaration
    (b'<row r="12345678">', True),  # more rows than Excel has
    (b"<c r='XFD1048576'><v>1</v></c>", True),  # single quotes
    (b'<c r ="XFD1"><v>1</v></c>', True),  # spaces around "="
    (b'<c r= "A1"><v>1</v></c>', True),  # (an ordinary one: the safe reader is only slower)
    # An "=" in a text (openpyxl writes inline strings) is not an attribute...
    (b'<?xml version="1.0"?>\n<row r="2"><c r="A2" t="inlineStr"><is><t>co\xc3\xbbt = somme '
     b"d'x ='y'</t></is></c><c r=\"B2\"/></row>", False),
    # ... but then every tag must be plain.
    (b'<c r="A2"><is><t>a = b</t></is></c><c foo="<t>" r=\'XFD1\'><v>1</v></c>', True),
    (b'<c r="A2"><is><t>a = b</t></is></c><!-- x --><c r="A3"/>', True),
    (b'<c r="A2"><is><t>a = b</t></is></c>\n<c\nr="A3"/>', True),
    (b'<c r="A2"><is><t>a = b</t></is></c><c r="A3', True),  # cut at the end
])
def test_references_calamine_must_not_see_are_found(xml: bytes, doubtful: bool) -> None:
    from xlfunding.read.fast import _doubtful_refs

    assert _doubtful_refs(xml, whole=True) is doubtful
    if doubtful:  # a window is never excused more than a whole part
        assert _doubtful_refs(xml) is True


def test_a_text_with_an_equals_sign_is_excused_only_in_a_whole_part() -> None:
    """A window of a large part can start inside a tag (``r='XFD1048576'>`` with its "<" in
    the previous window, or behind a "<row>" written inside an attribute): not excused."""
    from xlfunding.read.fast import _doubtful_refs

    tail = b"""0" r='XFD1048576'><v>1</v></c></row><row r="3"><c r="A3"/></row>"""
    assert _doubtful_refs(tail, whole=True) is False  # no "<" of that tag: it looks like text
    assert _doubtful_refs(tail) is True


def test_amounts_too_large_read_the_same_with_both_engines(tmp_path, monkeypatch):
    path = edit(workbook(tmp_path), {"E5": 1e20, "G5": 2.5e12, "I5": 12.5})
    fast, xml = _both(path, monkeypatch)
    assert fast == xml
    assert "« 1E+20 »" in str(fast)


def test_formulas_read_the_same_with_both_engines(tmp_path, monkeypatch):
    """A formula's text is XML: entities and character references are decoded by both
    engines, for a formula without a value (its text is in the message) and an error cell."""
    from builders import patch_cell

    from xlfunding.read.xlsx import XlsxFile

    path = edit(workbook(tmp_path), {"E5": 100, "F5": 100})
    patch_cell(path, "E5", '<c r="E5"><f>IF(F5&lt;0,&#x41;1,"&amp;")</f></c>')
    patch_cell(path, "F5", '<c r="F5" t="e"><f>1/0&amp;"&#233;"</f><v>#DIV/0!</v></c>')
    with FastXlsxFile(path) as fast, XlsxFile(path) as xml:
        cells = [dict(book.rows(book.sheet("Actions")))[5] for book in (fast, xml)]
    assert cells[0]["E"] == cells[1]["E"] and cells[0]["F"] == cells[1]["F"]
    assert cells[0]["F"].formula == '1/0&"é"'
    fast_report, xml_report = _both(path, monkeypatch)
    assert fast_report == xml_report
    assert '=IF(F5<0,A1,"&")' in str(fast_report)


# -- crafted but Excel-openable cells (#17) ------------------------------------------------
CRAFTED = ["duplicate-cell-reference", "cells-out-of-order", "pretty-printed-formula",
           "shared-formula-followers"]


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_cells_are_read_the_same_by_both_engines(tmp_path, name, monkeypatch):
    """A cell written twice (the last counts), cells out of column order (placed by their
    reference), formulas pretty-printed or shared: the same report, calamine reading."""
    path = HOSTILE[name].build(tmp_path)
    fast, xml = _both(path, monkeypatch)
    assert fast == xml
    assert _table_read_by_calamine(path)
    report = validate_file(path)
    assert report.valid and report.problems == []
    assert [(a.total, dict(a.funding)) for a in report.actions] == [
        (b.total, dict(b.funding)) for b in BASE]


@pytest.mark.parametrize("name", sorted(FLAGGED))
def test_crafted_cells_flagged_the_same_by_both_engines(tmp_path, name, monkeypatch):
    """A number saved with a comma, formulas without a saved value pretty-printed or shared:
    each reported at its cell, the same way by both engines, calamine reading the table."""
    path = FLAGGED[name].build(tmp_path)
    fast, xml = _both(path, monkeypatch)
    assert fast == xml
    assert _table_read_by_calamine(path)
    report = validate_file(path)
    assert [(p.cell, p.code) for p in report.problems] == list(FLAGGED[name].problems)


def test_formulas_without_value_show_their_text_without_spaces(tmp_path, monkeypatch):
    pretty = validate_file(FLAGGED["pretty-formula-without-value"].build(tmp_path))
    assert pretty.problems[0].value == "=SUM(F6:P6)"
    (tmp_path / "b").mkdir()
    shared = validate_file(FLAGGED["shared-formula-without-value"].build(tmp_path / "b"))
    assert "formule partagée" in shared.problems[0].message


def _libreoffice_row(path: Path, tmp_path: Path, row: int) -> list[str]:
    """Row ``row`` of « Actions » as LibreOffice shows it (CSV of the first sheet)."""
    import csv

    from xlfunding.write.libreoffice import convert

    exported = convert(path, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "csv")
    return list(csv.reader(exported.read_text(encoding="utf-8").splitlines()))[row - 1]


@pytest.mark.libreoffice
@pytest.mark.parametrize(("name", "shown"), [
    ("duplicate-cell-reference", "4,000.00 €"),  # the last of the two G5, not 1
    ("cells-out-of-order", "4,000.00 €"),  # G5 where its reference says
])
def test_libreoffice_shows_what_both_engines_read(tmp_path, name, shown, monkeypatch):
    path = HOSTILE[name].build(tmp_path)
    assert _libreoffice_row(path, tmp_path, 5)[6] == shown  # G5
    for engine in ("auto", "xml"):
        monkeypatch.setenv("XLFUNDING_ENGINE", engine)
        assert validate_file(path).actions[0].funding["CCAS"] == Decimal(4000)


@pytest.mark.libreoffice
def test_a_number_saved_with_a_comma_is_refused_not_truncated(tmp_path, monkeypatch):
    """LibreOffice shows « 4000,5 » as 4 000 and calamine reads the text 4000,5: neither is
    surely what the sender typed, so both engines refuse the cell."""
    path = FLAGGED["value-with-a-comma"].build(tmp_path)
    assert _libreoffice_row(path, tmp_path, 5)[6] == "4,000.00 €"
    fast, xml = _both(path, monkeypatch)
    assert fast == xml and "excel-error" in str(fast)
