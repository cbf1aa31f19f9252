"""Inputs that used to end in a traceback (#17): a file name that is not valid UTF-8, a settings
file that is a device, a pipe or huge, a damaged annex, an annex with a cell at XFD1048576.

Each ends in a French sentence (or, for the file name, in the name shown escaped), run as a
user runs it: the installed command in a subprocess, with a strict UTF-8 terminal.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hostile import ANNEX_CASES, BASE, XLFUNDING, Run, measure

from xlfunding.errors import UnreadableFile
from xlfunding.read.annex import read_annex

ROOT = Path(__file__).resolve().parent.parent
RETURNS = ROOT / "examples" / "retours"
STRICT_UTF8 = {"PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8", "COLUMNS": "200"}


def _measured(*args: str | Path, timeout: float = 60) -> Run:
    """The installed command, in a subprocess whose terminal is strict UTF-8 (a text that is
    not valid UTF-8 fails there as it does for a user), with its time and peak memory."""
    saved = dict(os.environ)
    os.environ.update(STRICT_UTF8)
    try:
        return measure([str(XLFUNDING), *map(str, args)], timeout)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run(*args: str | Path, timeout: float = 60) -> tuple[int | str, str, str]:
    run = _measured(*args, timeout=timeout)
    return run.code, run.stdout, run.stderr


# -- a file name that is not valid UTF-8 ------------------------------------------------------

@pytest.fixture
def undecodable_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "retours"
    inbox.mkdir()
    shutil.copy(RETURNS / "ccas-2025.xlsx", inbox)
    try:
        shutil.copy(RETURNS / "ville-2025.xlsx", os.fsencode(inbox) + b"/\xff-ville.xlsx")
        (Path(os.fsdecode(os.fsencode(inbox) + b"/abim\xe9.xlsx"))).write_bytes(b"pas un zip")
    except (OSError, UnicodeError):
        pytest.skip("ce système de fichiers n'accepte que des noms en UTF-8")
    return inbox


def test_consolidate_shows_undecodable_names_escaped_in_text(undecodable_inbox: Path) -> None:
    out = undecodable_inbox.parent
    code, stdout, stderr = _run("consolidate", undecodable_inbox, "-o", out / "a.xlsx",
                                "--report", out / "r.xlsx", "--sources")
    assert code == 1, stderr
    assert "Traceback" not in stderr and "UnicodeEncodeError" not in stderr
    assert "valide     \\xff-ville.xlsx — VILLE" in stdout
    assert "abim\\xe9.xlsx" in stdout
    fichiers = openpyxl.load_workbook(out / "r.xlsx")["Fichiers"]
    names = {row[0] for row in fichiers.iter_rows(min_row=2, values_only=True)}
    assert names == {"ccas-2025.xlsx", "\\xff-ville.xlsx", "abim\\xe9.xlsx"}
    problems = openpyxl.load_workbook(out / "r.xlsx")["Problèmes"]
    assert {row[0] for row in problems.iter_rows(min_row=2, values_only=True)} == {
        "abim\\xe9.xlsx"}
    annex = openpyxl.load_workbook(out / "a.xlsx")["Annexe"]
    sources = {str(c.value) for row in annex.iter_rows() for c in row if c.value}
    assert any(s.startswith("\\xff-ville.xlsx — ") for s in sources), sources
    # again, from the cache this time, with the month's archive
    code, stdout, stderr = _run("consolidate", undecodable_inbox, "-o", out / "b.xlsx",
                                "--archive", out / "archive.zip")
    assert code == 1 and "Traceback" not in stderr, stderr
    assert "valide     \\xff-ville.xlsx — VILLE" in stdout
    with zipfile.ZipFile(out / "archive.zip") as archive:
        assert "retours/\\xff-ville.xlsx" in archive.namelist()


def test_consolidate_json_escapes_undecodable_names(undecodable_inbox: Path) -> None:
    out = undecodable_inbox.parent
    code, stdout, stderr = _run("consolidate", undecodable_inbox, "-o", out / "a.xlsx", "--json")
    assert code == 1 and "Traceback" not in stderr, stderr
    data = json.loads(stdout)
    assert sorted(f["file"] for f in data["files"]) == [
        "\\xff-ville.xlsx", "abim\\xe9.xlsx", "ccas-2025.xlsx"]
    assert [p["file"].rsplit("/", 1)[1] for p in data["problems"]] == ["abim\\xe9.xlsx"]


def test_validate_names_an_undecodable_file_escaped(undecodable_inbox: Path) -> None:
    bad = os.fsdecode(os.fsencode(undecodable_inbox) + b"/abim\xe9.xlsx")
    code, stdout, stderr = _run("validate", bad, "--json")
    assert code == 2 and "Traceback" not in stderr, stderr
    assert json.loads(stdout)["problems"][0]["file"].endswith("abim\\xe9.xlsx")
    code, stdout, stderr = _run("validate", bad)
    assert code == 2 and "abim\\xe9.xlsx : Ce fichier n'est pas un classeur" in stderr


# -- a settings file that is a device, a pipe, or huge -----------------------------------------

def _settings_fifo(folder: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("pas de tubes nommés")
    path = folder / "parametres.toml"
    os.mkfifo(path)  # nobody writes: opening it to read would wait for ever
    return path


def _settings_huge(folder: Path) -> Path:
    path = folder / "parametres.toml"
    with path.open("wb") as handle:
        handle.truncate(3 * 2**30)  # 3 GB of zeros, sparse: costs no disk
    return path


def _settings_growing(folder: Path) -> Path:
    """Says 0 bytes to ``stat`` but reads without end (a device standing in for a file
    that grows while read): only the bounded read stops it."""
    return Path("/dev/zero")


SETTINGS = {"/dev/zero": _settings_growing, "fifo": _settings_fifo, "3 GB": _settings_huge}


@pytest.mark.parametrize("kind", SETTINGS)
@pytest.mark.parametrize("command", ["template", "consolidate"])
def test_a_settings_file_that_cannot_be_one_is_refused_at_once(
    tmp_path: Path, kind: str, command: str
) -> None:
    if kind == "/dev/zero" and not Path("/dev/zero").is_char_device():
        pytest.skip("pas de /dev/zero")
    settings = SETTINGS[kind](tmp_path)
    line = (["template", "-o", tmp_path / "m.xlsx"] if command == "template"
            else ["consolidate", RETURNS, "-o", tmp_path / "a.xlsx"])
    run = _measured(*line, "--settings", settings, timeout=30)
    assert run.code == 2, run
    assert "Traceback" not in run.stderr
    reason = ("fichier trop gros (plus de 1 Mo)" if kind == "3 GB"
              else "ce n'est pas un fichier ordinaire")
    assert f"{settings} : Fichier de paramètres invalide : {reason}" in run.stderr, run.stderr
    assert run.wall < 10 and run.rss_mb < 500
    assert not list(tmp_path.glob("*.xlsx"))


# -- an annex given back: damaged, or with a cell at XFD1048576 -------------------------------

ANNEX_COMMANDS = {
    "import": ["import", "{annex}", "-o", "{out}/programme.xlsx"],
    "template --from": ["template", "--from", "{annex}", "-o", "{out}/modele.xlsx"],
    "consolidate --previous": ["consolidate", str(RETURNS), "-o", "{out}/annexe-2.xlsx",
                               "--previous", "{annex}"],
}


@pytest.mark.parametrize("command", ANNEX_COMMANDS)
@pytest.mark.parametrize("case", ANNEX_CASES)
def test_an_annex_given_back_is_read_by_the_bounded_engine(
    tmp_path: Path, case: str, command: str
) -> None:
    build, words = ANNEX_CASES[case]
    path = build(tmp_path)
    line = [a.format(annex=path, out=tmp_path) for a in ANNEX_COMMANDS[command]]
    run = _measured(*line, timeout=60)
    assert "Traceback" not in run.stderr, run.stderr
    # the bound of the return reader; consolidate is a whole run (workers, annex, report)
    assert run.wall < (30 if command.startswith("consolidate") else 10), run
    assert run.rss_mb < 500, run
    if words is None:
        assert run.code == 0, run
    else:
        assert run.code == 2, run
        assert run.first_line.startswith(f"✗ {path} : "), run.first_line
        assert words in run.first_line, run.first_line


@pytest.mark.parametrize("case", [c for c, (_, words) in ANNEX_CASES.items() if words])
def test_a_damaged_annex_is_an_unreadable_file_naming_it(tmp_path: Path, case: str) -> None:
    build, words = ANNEX_CASES[case]
    path = build(tmp_path)
    with pytest.raises(UnreadableFile) as caught:
        read_annex(path)
    assert caught.value.path == path and words and words in caught.value.text


@pytest.mark.parametrize("case", ["annex-cell-XFD1048576", "annex-5000-rows-at-XFD"])
def test_the_far_cells_of_an_annex_cost_nothing(tmp_path: Path, case: str) -> None:
    """In the process: the annex reader allocates no grid, and no row as wide as its last
    cell (openpyxl's read-only mode took 2.8 GB and 11 s here); traced allocations stay
    under 50 MB."""
    path = ANNEX_CASES[case][0](tmp_path)
    tracemalloc.start()
    try:
        start = time.perf_counter()
        back = read_annex(path)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [a.title for a in back.actions] == [a.title for a in BASE]
    assert seconds < 10 and peak < 50 * 2**20, (seconds, peak)


# -- an import source that cannot be an annex's text --------------------------------------------

def test_an_import_text_that_cannot_be_one_is_refused_at_once(tmp_path: Path) -> None:
    huge = tmp_path / "annexe.txt"
    with huge.open("wb") as handle:
        handle.write(b"Intitul\xc3\xa9 du projet\t")
        handle.truncate(3 * 2**30)  # 3 GB, sparse
    run = _measured("import", huge, "-o", tmp_path / "programme.xlsx", timeout=30)
    assert run.code == 2 and "Traceback" not in run.stderr, run
    assert f"{huge} : Ce fichier ne peut pas être lu : fichier trop gros (plus de 16 Mo)" in (
        run.stderr), run.stderr
    assert run.wall < 10 and run.rss_mb < 500, run
