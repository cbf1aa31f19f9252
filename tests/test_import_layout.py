"""Import of the annex's text as people get it out of last year's PDF (#17): ``pdftotext
-layout`` (columns aligned with spaces, each cell wrapped over lines) and copies where a cell
runs over several lines. Both give the seed's actions and figures exactly, without a problem."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from seeddata import ANNEX_TEXT, seed_programme

from xlfunding.model import Action
from xlfunding.write.annex import export_pdf, write_annex
from xlfunding.year.importer import import_annex


def _fields(actions: tuple[Action, ...]) -> list[tuple[object, ...]]:
    return [(a.axis, a.title, a.description, a.sponsor, a.total, a.funding) for a in actions]


@pytest.mark.libreoffice
def test_pdftotext_layout_of_the_seed_annex_imports_the_seed_figures_exactly(
    tmp_path: Path,
) -> None:
    """The seed annex printed to PDF (three pages: the table over two, long descriptions and
    titles wrapped, the header repeated, the summary page), then ``pdftotext -layout``."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext absent (paquet poppler-utils)")
    seed = seed_programme()
    pdf = export_pdf(write_annex(seed, tmp_path / "annexe-2025.xlsx"), tmp_path / "annexe.pdf")
    text = tmp_path / "annexe-2025.txt"
    subprocess.run(["pdftotext", "-layout", str(pdf), str(text)], check=True, timeout=60)
    assert "\t" not in text.read_text(encoding="utf-8")
    result = import_annex(text, seed.settings)
    assert result.problems == [] and result.leftovers == ()
    assert _fields(result.actions) == _fields(seed.actions)
    assert {line.label for line in result.checked_totals} >= {"TOTAL", *seed.settings.groups}


# A page of ``pdftotext -layout`` output (from the printed seed annex), shortened: a title and
# a description wrapped, a budget one funder a line, a centred sponsor, a page number.
LAYOUT = """\
PROPOSITION PROGRAMMATION POLITIQUE DE LA VILLE 2025
Annexe n°2
                                                    Coût total de la programmation   60 636 €
Intitulé du projet     Description                      Porteur  Budget prévisionnel  Coût total
Emancipation des habitants du QPV
Fonctionnement du PRE  Poste du coordonnateur PRE        CCAS  Coût total = 50 950 €    50 950 €
(INGENIERIE)           (charges salariales, frais de           CCAS = 14 985 €
                       déplacements et de formations).         ANCT = 31 465 €
                                                               CAF = 4 500 €
Accompagnement à la  Accompagnement scolaire dans    VILLE  Coût total = 9 686 €      9 686 €
scolarité           les écoles. Mercredis éco-              Ville = 5 457 €
                    citoyens.                               ANCT = 4 229 €

                                                                          Sous-total   60 636 €
                                              1/2
Intitulé du projet     Description                      Porteur  Budget prévisionnel  Coût total
                                                                               TOTAL   60 636 €
                                                                                Ville    5 457 €
                                                                                CCAS    14 985 €
"""


def test_text_aligned_with_spaces_is_read_by_its_columns(tmp_path: Path, settings) -> None:
    path = tmp_path / "annexe.txt"
    path.write_text(LAYOUT, encoding="utf-8")
    result = import_annex(path, settings)
    assert result.problems == [] and result.leftovers == ()
    assert [(a.title, a.description, a.sponsor, a.total) for a in result.actions] == [
        ("Fonctionnement du PRE (INGENIERIE)",
         "Poste du coordonnateur PRE (charges salariales, frais de déplacements et de "
         "formations).", "CCAS", 50950),
        ("Accompagnement à la scolarité",
         "Accompagnement scolaire dans les écoles. Mercredis éco-citoyens.", "VILLE", 9686),
    ]
    assert {a.axis for a in result.actions} == {"Emancipation des habitants du QPV"}
    assert result.actions[0].funding == {"CCAS": 14985, "ANCT": 31465, "CAF": 4500}
    assert [(b.label, b.amount) for b in result.checked_totals] == [
        ("TOTAL", 60636), ("Ville", 5457), ("CCAS", 14985)]


def _split_cells(text: str) -> str:
    """The seed text with two actions' cells over several lines, as a copy from Word gives
    them: a description with a line break (and a blank line), a budget one funder a line."""
    out = []
    for line in text.splitlines():
        cells = line.split("\t")
        if len(cells) == 4 and cells[0].startswith("Fonctionnement du PRE"):
            cut = cells[1].index(" (charges")
            budget = cells[3].replace(" CCAS", "\nCCAS").replace(" ANCT", "\nANCT")
            out += [f"{cells[0]}\t{cells[1][:cut]}",
                    f"{cells[1][cut + 1:]}\t{cells[2]}\t{budget.replace(' CAF', chr(10) + 'CAF')}"]
        elif len(cells) == 4 and cells[0].startswith("Bouges ta"):
            cut = cells[1].index(" ", len(cells[1]) // 2)
            out += [f"{cells[0]}\t{cells[1][:cut]}", "",
                    f"{cells[1][cut + 1:]}\t{cells[2]}\t{cells[3]}"]
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def test_cells_over_several_lines_are_joined_back_into_their_row(tmp_path: Path, settings) -> None:
    path = tmp_path / "annexe.txt"
    path.write_text(_split_cells(ANNEX_TEXT), encoding="utf-8")
    result = import_annex(path, settings)
    assert result.problems == [] and result.leftovers == ()
    seed = seed_programme(settings)
    got = [(*f[:2], f[2].replace("\n", " "), *f[3:]) for f in _fields(result.actions)]
    assert got == _fields(seed.actions)
    assert "\n" in result.actions[0].description  # the line break typed is kept
