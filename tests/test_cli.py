"""Every command has French help and is documented in the README (as sqlite-utils'
``test_commands_have_help``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.core import TyperOption
from typer.main import get_command
from typer.testing import CliRunner

from xlfunding.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = get_command(app).commands  # type: ignore[attr-defined]
NAMES = sorted(COMMANDS)
# What typer or click would print if one of its texts were left in English ("Options" and
# "Arguments" are French too).
ENGLISH = re.compile(r"\b(Usage|Show this message|Commands|Error|required|default|Try)\b")


def help_text(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def test_there_are_commands() -> None:
    assert {"template", "import", "validate", "annex", "consolidate"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_command_has_french_help(name: str) -> None:
    command = COMMANDS[name]
    assert command.help and command.help.strip(), name
    for param in command.params:
        if isinstance(param, TyperOption):
            assert param.help, f"{name} {param.opts}"
    text = help_text(name)
    assert "Utilisation" in text and "Affiche cette aide" in text
    assert ENGLISH.search(text) is None, ENGLISH.search(text)


@pytest.mark.parametrize("name", NAMES)
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"`xlfunding {name}" in README, name


def test_the_main_help_is_french() -> None:
    text = help_text()
    assert "Utilisation" in text and "Commandes" in text
    assert ENGLISH.search(text) is None, ENGLISH.search(text)
