"""Every runnable example script runs, as a scheduled job would run it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl

from xlfunding.money import format_euros

ROOT = Path(__file__).parent.parent
MONTHLY = ROOT / "examples" / "consolidation_mensuelle.py"


def run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(MONTHLY), *map(str, args)], capture_output=True,
                          text=True, timeout=120, check=False)


def test_monthly_consolidation_script(tmp_path: Path) -> None:
    inbox, out = tmp_path / "retours", tmp_path / "annexes"
    shutil.copytree(ROOT / "examples" / "retours", inbox)
    out.mkdir()
    october = run(inbox, out, "--mois", "2025-10")
    assert october.returncode == 0, october.stderr
    assert format_euros(Decimal(248656)) in october.stdout and october.stderr == ""
    assert sorted(p.name for p in out.iterdir()) == ["annexe-2025-10.xlsx",
                                                     "rapport-2025-10.xlsx"]
    (inbox / "notes.txt").write_text("à relire\n", encoding="utf-8")
    november = run(inbox, out, "--mois", "2025-11")
    assert november.returncode == 1, november.stderr  # notes.txt is not a return
    annex = openpyxl.load_workbook(out / "annexe-2025-11.xlsx")
    assert "Évolutions" in annex.sheetnames  # compared with October's annex
    files = openpyxl.load_workbook(out / "rapport-2025-11.xlsx")["Fichiers"]
    assert [row[0] for row in files.iter_rows(min_row=2, values_only=True)] == [
        "ccas-2025.xlsx", "notes.txt", "ville-2025.xlsx"]
    again = run(inbox, out, "--mois", "2025-11")  # a second run replaces the month's files
    assert again.returncode == 1, again.stderr


def test_monthly_script_misuse(tmp_path: Path) -> None:
    assert run(tmp_path / "absent", tmp_path).returncode == 2
    assert run(tmp_path, tmp_path / "annexes", "--mois", "2025-13").returncode == 2
