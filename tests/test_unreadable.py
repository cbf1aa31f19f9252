"""Files that are not a readable template of this programme: validate_file raises an
UnreadableFile naming the file; the CLI says one French sentence and exits with code 2."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from builders import edit, patch_cell, workbook
from typer.testing import CliRunner

from xlfunding.cli import app
from xlfunding.errors import HostileFile, NotAnXlsx, NotATemplate, UnreadableFile, WrongProgramme
from xlfunding.settings import Settings, load_settings
from xlfunding.validate import validate_file, validate_files

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "programmation-2025.xlsx"
OLE = bytes.fromhex("D0CF11E0A1B11AE1")
XLFUNDING = Path(sys.executable).parent / "xlfunding"


def xls(path: Path) -> None:
    path.write_bytes(OLE + bytes(4088))


def encrypted(path: Path) -> None:
    path.write_bytes(OLE + bytes(1000) + "EncryptedPackage".encode("utf-16-le") + bytes(1000))


def csv_file(path: Path) -> None:
    path.write_text("Axe;Intitulé;Coût total\nEmancipation;Atelier;10 000\n", encoding="utf-8")


def html(path: Path) -> None:
    path.write_text("<html><body><table><tr><td>10 000</td></tr></table></body></html>",
                    encoding="utf-8")


def pdf(path: Path) -> None:
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n")


def empty(path: Path) -> None:
    path.write_bytes(b"")


def truncated(path: Path) -> None:
    data = EXAMPLE.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def ods(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>")


def xlsm(path: Path) -> None:
    workbook(path.parent, name=path.name)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\x00" * 64)


def plain_workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    book.active["A1"] = "Axe du contrat de ville"
    book.save(path)


def other_year(path: Path) -> None:
    workbook(path.parent, name=path.name,
             settings=dataclasses.replace(load_settings(), year=2026))


def other_sponsors(path: Path) -> None:
    settings = load_settings()
    workbook(path.parent, (), name=path.name, settings=dataclasses.replace(
        settings, sponsors=(*settings.sponsors, "Centre social")))


def headers_gone(path: Path) -> None:
    def forget(book: openpyxl.Workbook) -> None:
        del book.defined_names["xlfunding_entete"]
        for cell in book["Actions"][4]:
            cell.value = None

    edit(workbook(path.parent, name=path.name), change=forget)


def folder(path: Path) -> None:
    path.mkdir()


def zip_bomb(path: Path) -> None:
    workbook(path.parent, name=path.name)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", bytes(4 * 2**20))


def dtd(path: Path) -> None:
    workbook(path.parent, name=path.name)
    doctype = '<!DOCTYPE x [<!ENTITY a "aaaa">]>'
    with zipfile.ZipFile(path) as source:
        items = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in items:
            if name == "xl/workbook.xml":
                data = data.replace(b"?>", b"?>" + doctype.encode(), 1)
            target.writestr(name, data)


# name -> (how to make it, file name, exception class, what the sentence says)
CASES: dict[str, tuple[Callable[[Path], None], str, type[UnreadableFile], str]] = {
    "xls": (xls, "retour.xlsx", NotAnXlsx,
            "ancien format Excel .xls : enregistrez-le au format .xlsx"),
    "password": (encrypted, "retour.xlsx", NotAnXlsx, "classeur protégé par mot de passe"),
    "csv": (csv_file, "retour.xlsx", NotAnXlsx, "fichier texte (CSV ?) renommé"),
    "html": (html, "retour.xlsx", NotAnXlsx, "page HTML renommée"),
    "pdf": (pdf, "retour.xlsx", NotAnXlsx, "document PDF, pas un classeur"),
    "empty": (empty, "retour.xlsx", NotAnXlsx, "le fichier est vide"),
    "truncated": (truncated, "retour.xlsx", NotAnXlsx, "archive zip illisible ou tronquée"),
    "ods": (ods, "retour.xlsx", NotAnXlsx, "tableur OpenDocument (.ods)"),
    "xlsm": (xlsm, "retour.xlsx", NotAnXlsx, "classeur avec macros (.xlsm) renommé"),
    "folder": (folder, "x.xlsx", NotAnXlsx, "c'est un dossier, pas un fichier"),
    "not-our-template": (plain_workbook, "retour.xlsx", NotATemplate,
                         "il ne vient pas de « xlfunding template »"),
    "table-not-found": (headers_gone, "retour.xlsx", NotATemplate,
                        "l'onglet des actions est introuvable"),
    "other-year": (other_year, "modele-2026.xlsx", WrongProgramme,
                   "modèle de l'année 2026, la programmation en cours est celle de 2025"),
    "other-settings": (other_sponsors, "retour.xlsx", WrongProgramme,
                       "modèle fait avec d'autres paramètres"),
    "zip-bomb": (zip_bomb, "retour.xlsx", HostileFile, "bombe de décompression"),
    "dtd": (dtd, "retour.xlsx", HostileFile, "déclare une DTD ou des entités XML"),
}


def make(tmp_path: Path, name: str) -> Path:
    build, filename, *_ = CASES[name]
    path = tmp_path / filename
    build(path)
    return path


@pytest.mark.parametrize("name", CASES)
def test_validate_file_raises_an_error_naming_the_file(tmp_path: Path, name: str) -> None:
    _, _, error, detail = CASES[name]
    path = make(tmp_path, name)
    with pytest.raises(UnreadableFile) as caught:
        validate_file(path)
    assert type(caught.value) is error
    assert str(caught.value).startswith(f"{path} : ")
    assert detail in str(caught.value)


@pytest.mark.parametrize("name", CASES)
def test_cli_says_one_french_sentence_and_exits_2(tmp_path: Path, name: str) -> None:
    _, _, error, detail = CASES[name]
    path = make(tmp_path, name)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"✗ {path} : {error.__doc__.rstrip('.')} : ")
    assert detail in lines[0]
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_installed_command_exits_2_without_traceback(tmp_path: Path) -> None:
    path = make(tmp_path, "csv")
    done = subprocess.run([str(XLFUNDING), "validate", str(path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (f"✗ {path} : Ce fichier n'est pas un classeur Excel .xlsx : fichier "
                           "texte (CSV ?) renommé : ouvrez-le dans Excel et enregistrez-le au "
                           "format .xlsx\n")


def test_several_files_one_unreadable_is_a_problem_of_the_report(tmp_path: Path) -> None:
    good = workbook(tmp_path, name="bon.xlsx")
    bad = make(tmp_path, "csv")
    report = validate_files([good, bad])
    assert sorted(report.files) == [good, bad]
    assert report.unreadable == [bad]
    assert not report.valid
    assert len(report.actions) == 3
    assert [(p.code, p.file, p.sheet, p.cell) for p in report.problems] == [
        ("not-an-xlsx", bad, None, None)]


def test_json_report_lists_the_unreadable_file(tmp_path: Path) -> None:
    good = workbook(tmp_path, name="bon.xlsx")
    bad = make(tmp_path, "empty")
    result = CliRunner().invoke(app, ["validate", "--json", str(good), str(bad)])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert (data["valid"], sorted(data["files"]), data["unreadable"]) == (
        False, [str(good), str(bad)], [str(bad)])
    assert data["counts"] == {"actions": 3, "rejected_rows": 0, "errors": 1, "warnings": 0,
                              "by_code": {"not-an-xlsx": 1}}
    assert data["problems"] == [{
        "code": "not-an-xlsx", "severity": "error", "file": str(bad), "sheet": None,
        "cell": None, "value": None,
        "message": "Ce fichier n'est pas un classeur Excel .xlsx : le fichier est vide"}]


def test_files_are_reported_in_the_order_given(tmp_path: Path) -> None:
    good = workbook(tmp_path, name="bon.xlsx")
    bad = make(tmp_path, "csv")
    assert validate_files([good, bad]).files == [good, bad]


def test_a_template_of_another_year_reads_with_its_own_settings(tmp_path: Path,
                                                                settings: Settings) -> None:
    other = dataclasses.replace(settings, year=2026)
    path = make(tmp_path, "other-year")
    report = validate_file(path, other)
    assert report.valid and report.problems == []
    assert len(report.actions) == 3


def test_patching_a_cell_keeps_the_file_readable(tmp_path: Path) -> None:
    # guard for the builders used above: a patched file is still our template
    path = patch_cell(workbook(tmp_path), "I5", '<c r="I5"><v>6000</v></c>')
    assert validate_file(path).valid
