"""One Report, rendered for a person (grouped text) or a script (JSON)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any, TextIO

from xlfunding.model import Programme
from xlfunding.money import format_euros, percent
from xlfunding.problems import Problem, Report, Severity
from xlfunding.text import shown

ICONS = {Severity.ERROR: "✗", Severity.WARNING: "!"}


def report_text(report: Report) -> str:
    """Problems grouped by code (errors first), each with its count and cells, then a verdict."""
    lines: list[str] = []
    several_files = len(report.files) > 1 or len({p.file for p in report.problems}) > 1
    for code, items in problem_groups(report):
        first = items[0]
        kind = "erreur" if first.severity is Severity.ERROR else "avertissement"
        plural = "s" if len(items) > 1 else ""
        lines.append(
            f"{ICONS[first.severity]} {first.title} — {len(items)} {kind}{plural} [{code}]"
        )
        for problem in items:
            where = problem.where
            if several_files or not where:
                where = f"{problem.file.name if problem.file else ''} {where}".strip()
            lines.append(f"    {where or '—'} : {problem.message}")
    lines.append(verdict(report))
    return shown("\n".join(lines))


def problem_groups(report: Report) -> list[tuple[str, list[Problem]]]:
    """The problems by code, errors first, then by code: what every report shows."""
    groups: dict[str, list[Problem]] = defaultdict(list)
    for problem in report.problems:
        groups[problem.code].append(problem)
    order = sorted(groups, key=lambda c: (groups[c][0].severity is not Severity.ERROR, c))
    return [(code, groups[code]) for code in order]


def verdict(report: Report) -> str:
    files = len(report.files)
    head = (
        f"{files} fichier{'s' if files > 1 else ''}, {len(report.actions)} action"
        + ("s" if len(report.actions) > 1 else "")
        + " acceptée"
        + ("s" if len(report.actions) > 1 else "")
    )
    errors, warnings = len(report.errors), len(report.warnings)
    if report.valid:
        tail = "valide" + (
            f", {warnings} avertissement{'s' if warnings > 1 else ''}" if warnings else ""
        )
        return f"✓ {head} : {tail}."
    return (
        f"✗ {head} : {errors} erreur{'s' if errors > 1 else ''}, {warnings} "
        f"avertissement{'s' if warnings > 1 else ''} — à corriger."
    )


_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def neutralise(value: Any) -> Any:
    """OWASP CSV-injection rule for exported text: a leading = + - @ tab or CR gets a quote.

    A plain decimal number ("-5", "4500.50") is left as it is: no spreadsheet runs it, and
    scripts read amounts from it. A file name that is not valid UTF-8 is escaped
    (``text.shown``)."""
    if isinstance(value, str):
        value = shown(value)
    if (
        isinstance(value, str)
        and value[:1] in ("=", "+", "-", "@", "\t", "\r")
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    if isinstance(value, dict):
        return {shown(k) if isinstance(k, str) else k: neutralise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [neutralise(v) for v in value]
    return value


def write_json(data: dict[str, Any], stream: TextIO) -> None:
    json.dump(neutralise(data), stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def totals_line(programme: Programme) -> str:
    """« TOTAL 248 656 € · Ville 48 207 € (19 %) · … »: the annex's totals in one line."""
    total = programme.total
    parts = [f"TOTAL {format_euros(total)}"]
    for group, amount in programme.group_totals().items():
        share = f" ({percent(amount, total)} %)" if total else ""
        parts.append(f"{group} {format_euros(amount)}{share}")
    return " · ".join(parts)
