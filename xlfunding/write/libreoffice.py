"""LibreOffice headless: recompute a workbook's formulas, or export it as PDF.

The private profile sets ``OOXMLRecalcMode`` to 0 ("always recalculate"), so LibreOffice
computes every formula again instead of trusting the values saved in the file.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from xlfunding.errors import ConversionFailed, LibreOfficeMissing

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path, target_format: str, outdir: Path, *, timeout: float = 180) -> Path:
    """Convert ``source`` with a recalculating profile; return the converted file's path.

    ``target_format`` is LibreOffice's filter spec: "xlsx", "csv", "pdf"...
    """
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeMissing(source)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlfunding-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            target_format,
            "--outdir",
            str(outdir),
            str(source),
        ]
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ConversionFailed(source, f"délai de {timeout:.0f} s dépassé") from exc
    extension = target_format.split(":", 1)[0]
    target = outdir / f"{source.stem}.{extension}"
    if completed.returncode != 0 or not target.exists():
        detail = (completed.stderr or completed.stdout).strip().splitlines()
        raise ConversionFailed(source, detail[-1] if detail else f"code {completed.returncode}")
    return target


def recalculated_copy(source: Path, outdir: Path) -> Path:
    """An .xlsx copy of ``source`` whose formula values LibreOffice computed itself."""
    return convert(source, "xlsx:Calc MS Excel 2007 XML", outdir)
