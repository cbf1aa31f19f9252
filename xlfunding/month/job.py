"""``xlfunding consolidate`` as a job: check the paths, consolidate, write the annex and the
report, print the JSON or the summary, and return the exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from xlfunding.errors import OutputError, UnreadableFile, XlfundingError
from xlfunding.month import report as out
from xlfunding.month.archive import write_archive
from xlfunding.month.cache import default_folder
from xlfunding.month.consolidate import Consolidation, consolidate
from xlfunding.month.parallel import without_cycle_collector
from xlfunding.settings import Settings, load_settings
from xlfunding.write.output import check_output


def run_consolidate(
    inbox: Path | str,
    output: Path | str,
    *,
    report: Path | str | None = None,
    json_out: bool = False,
    strict: bool = False,
    previous: Path | str | None = None,
    show_sources: bool = False,
    force: bool = False,
    settings: Settings | Path | str | None = None,
    stdout: TextIO | None = None,
    cache: Path | str | bool | None = True,
    archive: Path | str | None = None,
) -> int:
    """What ``xlfunding consolidate`` does: the annex (unless ``strict`` and errors), the report
    workbook, the JSON or text summary on ``stdout``. Returns the exit code: 0 complete, 1
    something was left out (or nothing accepted), 2 misuse (inbox missing, output not
    writable or inside the inbox, ``previous`` not an annex), said in one line on stderr.
    ``cache``: True for the inbox's ``.xlfunding-cache``, a folder, or False / None for none;
    ``archive``: a .zip of the inputs and the JSON (``xlfunding.month.archive``)."""
    stdout = stdout or sys.stdout
    inbox, output = Path(inbox), Path(output)
    report = Path(report) if report is not None else None
    archive = Path(archive) if archive is not None else None
    folder = default_folder(inbox) if cache is True else Path(cache) if cache else None
    try:
        chosen = settings if isinstance(settings, Settings) else load_settings(settings)
        if not inbox.is_dir():
            raise UnreadableFile(inbox, "dossier des retours introuvable")
        inputs = [Path(previous) if previous is not None else None, chosen.path]
        outputs = [p for p in (output, report, archive) if p is not None]
        for path in outputs:
            check_outputs(path, inbox, force, inputs)
        if len({p.resolve() for p in outputs}) < len(outputs):
            raise OutputError(
                outputs[-1], "l'annexe, le rapport et l'archive doivent être des fichiers distincts"
            )
        with without_cycle_collector():  # the actions stay in memory until the report is out
            result = consolidate(
                inbox, chosen, strict=strict, previous=previous, progress=True, cache=folder
            )
            annex = write_outputs(result, output, report, archive, show_sources, force, inputs)
    except XlfundingError as exc:
        print(f"✗ {exc.message}", file=sys.stderr)
        return 2
    if json_out:
        out.write_json(result, annex, stdout)
    else:
        stdout.write(out.summary_text(result, annex, report) + "\n")
    return 0 if result.complete else 1


def write_outputs(
    result: Consolidation,
    annex: Path | None,
    report: Path | None = None,
    archive: Path | None = None,
    show_sources: bool = False,
    force: bool = False,
    inputs: Sequence[Path | None] = (),
) -> Path | None:
    """The consolidation's files, checked beforehand (``check_outputs``): the annex (unless
    ``annex`` is None or the result writes none), then the report and the archive, which name
    it. Returns the annex written."""
    written = (
        out.write_annex_of(result, annex, show_sources, force, inputs)
        if annex is not None and result.writes_annex
        else None
    )
    if report is not None:
        out.write_report(result, report, force=force, annex=written, inputs=inputs)
    if archive is not None:
        write_archive(result, archive, annex=written, force=force, inputs=inputs)
    return written


def check_outputs(
    path: Path, inbox: Path, force: bool, inputs: Sequence[Path | None] = ()
) -> None:
    """Refuse an output we cannot write or that is one of the ``inputs`` (the previous annex,
    the settings), and one inside the inbox (it would be read back)."""
    check_output(path, force=force, inputs=inputs)
    if path.resolve().is_relative_to(inbox.resolve()):
        raise OutputError(
            path,
            "il est dans le dossier des retours, où il serait relu à la "
            "prochaine consolidation : écrivez-le dans un autre dossier",
        )
