"""How commands speak without typer: the rendering of a Report, its exit code, and the one
command run without typer, ``validate`` in its plain form (files, ``--json``, ``--settings``):
any other argument (an option, ``--help``, ``--``) leaves it to the typer application, which
gives the same result for the plain form."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xlfunding.problems import Report
    from xlfunding.settings import Settings


def say(text: str) -> None:
    from xlfunding.text import shown

    print(shown(text), file=sys.stderr, flush=True)


def show(report: Report, json_out: bool) -> None:
    from xlfunding.render import report_text, write_json

    if json_out:
        write_json(report.to_dict(), sys.stdout)
    elif len(report.files) == 1 and report.unreadable:
        say(f"✗ {report.files[0]} : {report.problems[0].message}")
    else:
        print(report_text(report), flush=True)


def checked(files: list[Path], settings: Settings) -> Report:
    """What ``validate`` reports: one file checked alone, several as consolidate does (a copy
    read once, each sponsor's newest return)."""
    if len(files) == 1:
        from xlfunding.validate import validate_files

        return validate_files(files, settings)
    from xlfunding.month.consolidate import check_files

    return check_files(files, settings)


def exit_code(report: Report) -> int:
    return 2 if report.unreadable else 0 if report.valid else 1


def run(argv: list[str]) -> int | None:
    """``xlfunding validate`` in its plain form, run here; its exit code. None: not the
    plain form, for typer."""
    if not argv or argv[0] != "validate":
        return None
    files: list[Path] = []
    settings: Path | None = None
    json_out = False
    words = iter(argv[1:])
    for word in words:
        if word == "--json" and not json_out:
            json_out = True
        elif word in ("--settings", "-s") and settings is None:
            value = next(words, None)
            if value is None or value.startswith("-") or not value or Path(value).is_dir():
                return None
            settings = Path(value)
        elif word.startswith("-") or not word:
            return None
        else:
            files.append(Path(word))
    if not files:
        return None
    from xlfunding.errors import XlfundingError
    from xlfunding.settings import load_settings

    try:
        report = checked(files, load_settings(settings))
    except XlfundingError as exc:
        say(f"✗ {exc.message}")
        return 2
    show(report, json_out)
    return exit_code(report)
