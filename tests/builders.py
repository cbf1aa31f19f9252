"""Build small workbooks in code: a valid template written by the library, then one thing
broken with openpyxl (or, for what openpyxl cannot write, by patching the sheet's XML).

The base programme has three actions, on rows 5, 6 and 7 of the "Actions" sheet:

    row  axis  title            sponsor  total   funders
    5    1     Atelier théâtre  CCAS     10 000  CCAS 4 000 (G), ANCT 6 000 (I)
    6    2     Forum santé      CCAS      5 000  CCAS 2 500 (G), ANCT 2 500 (I)
    7    3     Bouge ta ville   VILLE     9 000  Ville 4 500 (F), ANCT 4 500 (I)

Columns of the bundled settings: A axis, B title, C description, D sponsor, E total, then one
column per funder (F Ville, G CCAS, H Région, I ANCT, J CAF, K CAHC, L TFPB, M Maisons et
Cités, N PDC Habitat, O SIA HABITAT, P Autres), the optional Q Référence Dauphin, R SIRET du
porteur, S RNA du porteur, and T the computed gap.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from xlfunding.model import Action
from xlfunding.read.xlsx import XlsxFile
from xlfunding.settings import Settings, load_settings
from xlfunding.write.template import write_template

SHEET = "Actions"
CAPACITY = 10  # a small table keeps the files small and the tests fast
COLUMN = {"axis": "A", "title": "B", "description": "C", "sponsor": "D", "total": "E",
          "Ville": "F", "CCAS": "G", "Région": "H", "ANCT": "I", "CAF": "J", "CAHC": "K",
          "TFPB": "L", "Maisons et Cités": "M", "PDC Habitat": "N", "SIA HABITAT": "O",
          "Autres": "P"}


def _axes() -> tuple[str, ...]:
    return load_settings().axes


def action(axis: int, title: str, sponsor: str, total: str, description: str | None = None,
           **funding: str) -> Action:
    """An action of the bundled settings; ``axis`` counts from 1, amounts are decimal text."""
    return Action(
        axis=_axes()[axis - 1],
        title=title,
        description=f"Description de « {title} »." if description is None else description,
        sponsor=sponsor,
        total=Decimal(total),
        funding={code: Decimal(amount) for code, amount in funding.items()},
    )


BASE = (
    action(1, "Atelier théâtre", "CCAS", "10000", CCAS="4000", ANCT="6000"),
    action(2, "Forum santé", "CCAS", "5000", CCAS="2500", ANCT="2500"),
    action(3, "Bouge ta ville", "VILLE", "9000", Ville="4500", ANCT="4500"),
)
CCAS_ONLY = BASE[:2]


@dataclass(frozen=True)
class Formula:
    """A formula to write with openpyxl (which saves it without a cached value)."""

    text: str  # with the leading "="


def workbook(folder: Path, actions: Sequence[Action] = BASE, *, name: str = "cas.xlsx",
             sponsor: str | None = None, capacity: int = CAPACITY,
             settings: Settings | None = None) -> Path:
    """A valid template written by the library."""
    return write_template(settings or load_settings(), folder / name, sponsor=sponsor,
                          actions=actions, capacity=capacity)


def set_cell(sheet: Worksheet, ref: str, value: object) -> None:
    """Set one cell as a person would type it: a ``str`` is always text (even "=..."),
    a ``Formula`` is a formula, ``None`` clears the cell."""
    cell = sheet[ref]
    if isinstance(value, Formula):
        cell.value = value.text
    elif isinstance(value, Decimal):
        cell.value = float(value)
    else:
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl would make "=..." a formula and "#N/A" an error


def edit(path: Path, cells: Mapping[str, object] | None = None, *, sheet: str = SHEET,
         change: Callable[[openpyxl.Workbook], None] | None = None) -> Path:
    """Open ``path`` with openpyxl, set ``cells`` of ``sheet``, apply ``change``, save in place."""
    book = openpyxl.load_workbook(path)
    for ref, value in (cells or {}).items():
        set_cell(book[sheet], ref, value)
    if change is not None:
        change(book)
    book.save(path)
    return path


def sheet_part(path: Path, sheet: str = SHEET) -> str:
    with XlsxFile(path) as book:
        info = book.sheet(sheet)
        assert info is not None, sheet
        return info.part


def patch_cell(path: Path, ref: str, xml: str, *, sheet: str = SHEET) -> Path:
    """Replace the XML of cell ``ref`` (which must exist) by ``xml``, rewriting the zip."""
    part = sheet_part(path, sheet)
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info)) for info in source.infolist()]
    pattern = re.compile(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', re.S)
    temporary = path.with_suffix(".tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            if info.filename == part:
                text, count = pattern.subn(xml, data.decode("utf-8"), count=1)
                assert count == 1, f"no cell {ref} in {part}"
                data = text.encode("utf-8")
            target.writestr(info.filename, data)
    shutil.move(temporary, path)
    return path


def cached_error(path: Path, errors: Mapping[str, tuple[str, str]], *,
                 sheet: str = SHEET) -> Path:
    """Make each cell of ``errors`` ({ref: (formula without "=", error)}) a formula whose saved
    value is that Excel error, as Excel saves a formula that failed."""
    edit(path, {ref: Formula("=" + formula) for ref, (formula, _) in errors.items()}, sheet=sheet)
    for ref, (formula, error) in errors.items():  # openpyxl drops cached values: patch last
        patch_cell(path, ref, f'<c r="{ref}" t="e"><f>{escape(formula)}</f>'
                              f"<v>{escape(error)}</v></c>", sheet=sheet)
    return path


def problem_rows(report) -> list[tuple[str | None, str | None, str]]:  # type: ignore[no-untyped-def]
    """The report's problems as sorted (sheet, cell, code) rows."""
    return sorted(((p.sheet, p.cell, p.code) for p in report.problems),
                  key=lambda r: (r[0] or "", r[1] or "", r[2]))


def action_rows(report) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    """The accepted actions as comparable tuples, in row order."""
    return [action_tuple(a) for a in report.actions]


def action_tuple(a: Action) -> tuple[object, ...]:
    return (a.axis, a.title, a.description, a.sponsor, a.total, dict(a.funding))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
