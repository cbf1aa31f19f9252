"""Publishing an export: the programme read from an annex or a folder of returns, the CSV
written beside its target, validated against the vendored schema with frictionless (the
library the national validator rests on), and only then renamed into place."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from xlfunding.errors import UnreadableFile
from xlfunding.identity import merged
from xlfunding.model import Programme
from xlfunding.opendata.scdl import FIELDS, SCHEMA_VERSION, Export, schema_path
from xlfunding.problems import Problem, Report
from xlfunding.settings import Settings
from xlfunding.write.output import atomic_path, check_output


def read_programme(source: Path, settings: Settings | None) -> tuple[Programme, Report | None]:
    """The programme of an annex written by xlfunding (its own settings unless ``settings``;
    the decision it was written with unless ``settings`` has one), or of a folder of returns,
    consolidated (then also its report of what was left out)."""
    if source.is_dir():
        from xlfunding.month.consolidate import consolidate
        from xlfunding.settings import load_settings

        result = consolidate(source, settings or load_settings())
        report = Report(problems=result.problems)
        return result.programme, report
    if not source.is_file():
        raise UnreadableFile(source, "fichier ou dossier introuvable")
    from xlfunding.read.annex import read_annex

    stored = read_annex(source)
    if settings is None:
        return stored, None
    if settings.fingerprint != stored.settings.fingerprint:
        return read_annex(source, settings), None  # raises WrongProgramme, naming the annex
    if not (settings.decision.reference or settings.decision.date):  # the annex's, then
        settings = replace(settings, decision=stored.settings.decision)
    settings = replace(settings, identities=merged(settings.identities, stored.settings.identities))
    return Programme(settings, stored.actions), None


class _Refused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems


def write_scdl(
    export: Export, path: Path | str, *, force: bool = False, inputs: Iterable[Path] = ()
) -> list[Problem]:
    """Write the export as UTF-8, comma-separated CSV; the schema's problems if it does not
    pass (then nothing is written and an existing file keeps its bytes)."""
    path = Path(path)
    check_output(path, force=force, inputs=inputs)
    try:
        with atomic_path(path) as temporary:
            with temporary.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, FIELDS, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(export.rows)
            problems = schema_problems(temporary, where=path)
            if problems:
                raise _Refused(problems)
    except _Refused as refused:
        return refused.problems
    return []


def schema_problems(
    path: Path, schema: Path | None = None, *, where: Path | None = None
) -> list[Problem]:
    """Every error frictionless finds in the CSV ``path`` against the SCDL schema (each
    problem names ``where``, the file it is to become, or ``path``)."""
    from frictionless import Resource, Schema  # slow to import: only when an export is written

    descriptor = json.loads((schema or schema_path()).read_text(encoding="utf-8"))
    resource = Resource(
        path=path.name,
        basepath=str(path.parent),
        schema=Schema.from_descriptor(descriptor),
        format="csv",
        encoding="utf-8",
    )
    report = resource.validate()
    problems = []
    for number, name, note in report.flatten(["rowNumber", "fieldName", "note"]):
        detail = f"ligne {number}, colonne « {name} » : {note}" if name else str(note)
        problems.append(
            Problem.make("scdl-invalid", file=where or path, version=SCHEMA_VERSION, detail=detail)
        )
    return problems
