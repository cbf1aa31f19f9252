"""No output over an input, no output over what is not a regular file (#17).

Every path a command reads (the returns, the ``--previous`` annex, the ``--settings`` file, the
import source, ``template --from``) is an input: an output given as the same file — by the same
name, a hard link or a symbolic link — is refused in French with exit code 2, and the input
keeps its bytes. An output that exists and is not a regular file (a device, a named pipe) is
refused too, even with ``--force``.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from builders import digest
from typer.testing import CliRunner

from xlfunding.cli import app
from xlfunding.errors import OutputError
from xlfunding.settings import default_settings_path
from xlfunding.write.output import check_output

ROOT = Path(__file__).resolve().parent.parent
RETURN = ROOT / "examples" / "retours" / "ccas-2025.xlsx"
PROGRAMME = ROOT / "examples" / "programmation-2025.xlsx"
SEED_TEXT = ROOT / "tests" / "seed" / "programmation-pdv-2025-annexe2.txt"


def _inputs(folder: Path) -> dict[str, Path]:
    """A settings file, an inbox with one return, a return, a previous annex, an annex text."""
    inbox = folder / "retours"
    inbox.mkdir()
    shutil.copy(RETURN, inbox / RETURN.name)
    paths = {
        "settings": folder / "parametres.toml",
        "return": folder / "retour.xlsx",
        "previous": folder / "precedente.xlsx",
        "text": folder / "annexe.txt",
        "inbox": inbox,
    }
    shutil.copy(default_settings_path(), paths["settings"])
    shutil.copy(RETURN, paths["return"])
    shutil.copy(SEED_TEXT, paths["text"])
    done = CliRunner().invoke(app, ["annex", str(PROGRAMME), "-o", str(paths["previous"])])
    assert done.exit_code == 0, done.output
    return paths


# (command line with OUT for the output, the input that OUT is made the same file as)
CASES: dict[str, tuple[list[str], str]] = {
    "consolidate -o = --previous": (
        ["consolidate", "{inbox}", "-o", "OUT", "--previous", "{previous}"],
        "previous",
    ),
    "consolidate -o = --settings": (
        ["consolidate", "{inbox}", "-o", "OUT", "--settings", "{settings}"],
        "settings",
    ),
    "consolidate --report = --previous": (
        ["consolidate", "{inbox}", "-o", "{folder}/a.xlsx", "--report", "OUT",
         "--previous", "{previous}"],
        "previous",
    ),
    "consolidate --report = --settings": (
        ["consolidate", "{inbox}", "-o", "{folder}/a.xlsx", "--report", "OUT",
         "--settings", "{settings}"],
        "settings",
    ),
    "annex -o = --settings": (["annex", "{return}", "-o", "OUT", "-s", "{settings}"], "settings"),
    "annex -o = the return": (["annex", "{return}", "-o", "OUT"], "return"),
    "validate --corrections = --settings": (
        ["validate", "{return}", "--corrections", "OUT", "-s", "{settings}"],
        "settings",
    ),
    "import -o = its source": (["import", "{text}", "-o", "OUT"], "text"),
    "import -o = --settings": (["import", "{text}", "-o", "OUT", "-s", "{settings}"], "settings"),
    "template -o = --settings": (["template", "-o", "OUT", "-s", "{settings}"], "settings"),
    "template -o = --from": (["template", "--from", "{previous}", "-o", "OUT"], "previous"),
    "template --from -o = --settings": (
        ["template", "--from", "{text}", "-o", "OUT", "-s", "{settings}"],
        "settings",
    ),
}


def _same_name(target: Path, folder: Path) -> Path:
    return target


def _hard_link(target: Path, folder: Path) -> Path:
    link = folder / "ailleurs" / f"lien-dur{target.suffix}"
    link.parent.mkdir(exist_ok=True)
    os.link(target, link)
    return link


def _symbolic_link(target: Path, folder: Path) -> Path:
    link = folder / "ailleurs" / f"lien-symbolique{target.suffix}"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(target)
    return link


NAMES: dict[str, Callable[[Path, Path], Path]] = {
    "same name": _same_name,
    "hard link": _hard_link,
    "symbolic link": _symbolic_link,
}


@pytest.mark.parametrize("how", NAMES)
@pytest.mark.parametrize("case", CASES)
def test_no_command_writes_over_a_file_it_reads(tmp_path: Path, case: str, how: str) -> None:
    paths = _inputs(tmp_path)
    args, victim = CASES[case]
    out = NAMES[how](paths[victim], tmp_path)
    before = digest(paths[victim])
    fill = {**{k: str(v) for k, v in paths.items()}, "folder": str(tmp_path)}
    line = [str(out) if a == "OUT" else a.format(**fill) for a in args] + ["--force"]
    done = CliRunner().invoke(app, line)
    assert done.exit_code == 2, done.output
    assert "c'est un des fichiers lus" in done.output, done.output
    assert "Traceback" not in done.output
    assert digest(paths[victim]) == before
    assert not out.is_symlink() or out.resolve() == paths[victim].resolve()


def _fifo(folder: Path) -> Path:
    path = folder / "tube.xlsx"
    os.mkfifo(path)
    return path


def _device(folder: Path) -> Path:
    """A null device of our own (never the system's /dev/null: a failing test would replace
    it), or a symbolic link to /dev/null when we may not make devices (a failing test then
    replaces only the link)."""
    path = folder / "peripherique.xlsx"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        path.symlink_to("/dev/null")
    return path


MAKERS = {"fifo": _fifo, "device": _device}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="pas de tubes nommés")
@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize(
    "args",
    [
        ["template", "-o", "OUT"],
        ["annex", str(RETURN), "-o", "OUT"],
        ["validate", str(RETURN), "--corrections", "OUT"],
        ["import", str(SEED_TEXT), "-o", "OUT"],
    ],
    ids=["template", "annex", "validate --corrections", "import"],
)
def test_an_output_that_is_not_a_regular_file_is_refused(
    tmp_path: Path, kind: str, args: list[str]
) -> None:
    out = MAKERS[kind](tmp_path)
    done = CliRunner().invoke(app, [str(out) if a == "OUT" else a for a in args] + ["--force"])
    assert done.exit_code == 2, done.output
    assert "ce n'est pas un fichier ordinaire" in done.output, done.output
    assert out.is_fifo() if kind == "fifo" else out.is_char_device()


def test_consolidate_refuses_a_device_as_report(tmp_path: Path) -> None:
    inbox = tmp_path / "retours"
    inbox.mkdir()
    shutil.copy(RETURN, inbox)
    device = _device(tmp_path)
    line = ["consolidate", str(inbox), "-o", str(tmp_path / "a.xlsx"), "--report", str(device)]
    done = CliRunner().invoke(app, [*line, "--force"])
    assert done.exit_code == 2 and "ce n'est pas un fichier ordinaire" in done.output
    assert device.is_char_device() and not (tmp_path / "a.xlsx").exists()


def test_check_output_compares_inodes_not_names(tmp_path: Path) -> None:
    source = tmp_path / "lu.toml"
    source.write_text("x")
    elsewhere = tmp_path / "b" / "autre-nom.toml"
    elsewhere.parent.mkdir()
    os.link(source, elsewhere)
    with pytest.raises(OutputError, match="c'est un des fichiers lus"):
        check_output(elsewhere, force=True, inputs=[None, source])
    check_output(tmp_path / "neuf.toml", inputs=[source])  # another file: fine


def test_template_all_sponsors_creates_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "envois" / "2026"
    done = CliRunner().invoke(app, ["template", "--all-sponsors", str(folder)])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in folder.iterdir()) == [
        "modele-2025-ccas.xlsx",
        "modele-2025-ville.xlsx",
    ]
