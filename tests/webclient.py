"""Helpers of the drop zone's tests: a server on a copy of the example returns, the forms'
CSRF tokens, the returns a sponsor sends (built by the library, one broken by openpyxl)."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from builders import CCAS_ONLY, edit, workbook

from xlfunding.settings import load_settings
from xlfunding.web.app import ServeConfig

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "retours"
PASSWORD = "mot de passe du suivi"


def inbox_copy(folder: Path) -> Path:
    inbox = folder / "retours"
    shutil.copytree(EXAMPLES, inbox)
    return inbox


def config(inbox: Path, **changes: object) -> ServeConfig:
    values: dict[str, object] = {"password": PASSWORD, "per_minute": 1000, "processes": 2}
    values.update(changes)
    return ServeConfig(inbox, load_settings(), **values)  # type: ignore[arg-type]


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def good_return(folder: Path, name: str = "ccas.xlsx") -> Path:
    return workbook(folder, CCAS_ONLY, name=name, sponsor="CCAS")


def bad_return(folder: Path, name: str = "ccas-faux.xlsx") -> Path:
    """Row 5's funders no longer add up to its total (10 000 → 12 000)."""
    return edit(workbook(folder, CCAS_ONLY, name=name, sponsor="CCAS"), {"E5": 12000})


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def saved(inbox: Path, sponsor: str = "CCAS") -> list[Path]:
    return sorted((inbox / sponsor).glob("*.xlsx"))


def refused(inbox: Path, sponsor: str = "CCAS") -> list[Path]:
    return sorted((inbox / ".refus" / sponsor).glob("*.xlsx"))
