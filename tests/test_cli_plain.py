"""``xlfunding validate`` in its plain form runs without typer (#15): the same output, stream
by stream, and the same exit code as the typer application; anything else goes to typer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from builders import action, workbook
from typer.testing import CliRunner

from xlfunding.cli import app, plain

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "programmation-2025.xlsx"
SETTINGS = ROOT / "xlfunding" / "data" / "libercourt-2025.toml"


@pytest.fixture(scope="module")
def wrong(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plain")
    return workbook(folder, [action(1, "Atelier", "CCAS", "1000", CCAS="900")])


def cases(wrong: Path, tmp: Path) -> list[list[str]]:
    text = tmp / "export.xlsx"
    text.write_text("pas un classeur", encoding="utf-8")
    return [
        ["validate", str(EXAMPLE)],
        ["validate", str(EXAMPLE), "--json"],
        ["validate", "--settings", str(SETTINGS), str(EXAMPLE)],
        ["validate", "-s", str(SETTINGS), str(wrong), "--json"],
        ["validate", str(wrong)],
        ["validate", str(EXAMPLE), str(wrong)],
        ["validate", str(text)],
        ["validate", str(tmp / "absent.xlsx")],
        ["validate", "-s", str(tmp / "absent.toml"), str(EXAMPLE)],
    ]


def test_the_plain_form_says_what_typer_says(
    wrong: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in cases(wrong, tmp_path):
        code = plain.run(argv)
        ours = capsys.readouterr()
        theirs = CliRunner().invoke(app, argv)
        assert code is not None, argv
        assert (code, ours.out, ours.err) == (
            theirs.exit_code, theirs.stdout, theirs.stderr), argv


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["validate"],
        ["validate", "--help"],
        ["validate", "x.xlsx", "--corrections", "y.xlsx"],
        ["validate", "x.xlsx", "--json", "--json"],
        ["validate", "x.xlsx", "--settings"],
        ["validate", "x.xlsx", "-s", str(ROOT)],
        ["validate", "--", "x.xlsx"],
        ["annex", "x.xlsx", "-o", "y.xlsx"],
    ],
)
def test_anything_else_is_left_to_typer(argv: list[str]) -> None:
    assert plain.run(argv) is None


def test_the_plain_form_imports_neither_typer_nor_rich() -> None:
    code = (
        "import sys; sys.argv = ['xlfunding', 'validate', sys.argv[1]]\n"
        "from xlfunding.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exit:\n"
        "    print(exit.code, sorted({m.split('.')[0] for m in sys.modules} & "
        "{'typer', 'rich', 'click'}))\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(EXAMPLE)], capture_output=True,
                         text=True, timeout=120, check=True)
    assert run.stdout.splitlines()[-1] == "0 []"
