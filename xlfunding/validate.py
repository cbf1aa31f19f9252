"""Schema + cross-row rules -> Report. Nothing here raises because the data is bad."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.errors as pa_errors

from xlfunding import layout as L
from xlfunding.errors import UnreadableFile
from xlfunding.model import Action, Location
from xlfunding.money import ZERO, format_euros
from xlfunding.problems import CODES, Problem, Report, Severity
from xlfunding.read.template import TemplateRead, read_template
from xlfunding.schema import (
    amount_columns,
    build_schema,
    funder_columns,
    whole_key,
)
from xlfunding.settings import Settings, load_settings

HEADERS = dict(L.FIXED_HEADERS)
WHOLE_PREFIX = whole_key("")
_TEXTS = frozenset(L.TEXT_FIELDS)


def validate_file(path: Path | str, settings: Settings | None = None) -> Report:
    """Read and check one filled template. Raises ``UnreadableFile`` (naming the file) only
    when it is not a readable template of this programme."""
    settings = settings or load_settings()
    return check_reads([read_template(path, settings)], settings)[0]


def validate_files(paths: Iterable[Path | str], settings: Settings | None = None) -> Report:
    """Check several files into one Report; an unreadable file becomes a problem."""
    settings = settings or load_settings()
    outcomes: list[TemplateRead | Report] = []
    for path in paths:
        try:
            outcomes.append(read_template(path, settings))
        except UnreadableFile as exc:
            outcomes.append(
                Report(
                    files=[Path(path)], unreadable=[Path(path)], problems=[Problem.from_error(exc)]
                )
            )
    checked = iter(check_reads([o for o in outcomes if isinstance(o, TemplateRead)], settings))
    report = Report()
    for outcome in outcomes:  # in the order given
        report.extend(outcome if isinstance(outcome, Report) else next(checked))
    return report


def frame_of(reads: Sequence[TemplateRead], settings: Settings) -> pd.DataFrame:
    """One row per action row of every file, in file then row order (see ``schema``)."""
    sizes = [len(read.rows) for read in reads]
    count = sum(sizes)
    starts = _starts(reads)
    data: dict[str, Any] = {
        key: pd.Series(_joined(reads, key), dtype=object)
        for key in L.FIXED_HEADERS
        if key != "total"
    }
    amounts_ok = np.ones(count, dtype=bool)
    for index, read in enumerate(reads):
        for position, keys in read.unusable.items():
            if not keys <= _TEXTS:
                amounts_ok[starts[index] + position] = False
    for key in amount_columns(settings):
        cents = pd.array([c for read in reads for c in read.cents[key]], dtype="Int64")
        whole = np.ones(count, dtype=bool)
        for index, read in enumerate(reads):
            for position in read.fractional[key]:
                at = starts[index] + position
                if cents[at] > 0:
                    whole[at] = False  # too many decimals
                else:
                    amounts_ok[at] = False  # negative: reported as such, no gap in cents
        data[key] = cents
        data[whole_key(key)] = whole
    data["_amounts_ok"] = amounts_ok
    data["_file"] = np.repeat(np.arange(len(reads)), sizes)
    data["_row"] = np.array([row for read in reads for row in read.rows], dtype=int)
    data["_locked"] = pd.Series(
        np.repeat(np.array([read.sponsor for read in reads], dtype=object), sizes), dtype=object
    )
    return pd.DataFrame(data, index=pd.RangeIndex(count))


def _joined(reads: Sequence[TemplateRead], key: str) -> list[Any]:
    return [value for read in reads for value in read.values[key]]


def check_read(read: TemplateRead, settings: Settings) -> Report:
    return check_reads([read], settings)[0]


def check_reads(reads: Sequence[TemplateRead], settings: Settings) -> list[Report]:
    """Check the rows of many files in one pass of the schema; one Report per file."""
    frame = frame_of(reads, settings)
    problems: list[list[Problem]] = [list(read.problems) for read in reads]
    try:
        build_schema(settings).validate(frame, lazy=True)
    except pa_errors.SchemaErrors as errors:
        for index, problem in _from_failures(errors.failure_cases, frame, reads, settings):
            problems[index].append(problem)
    for index, problem in _warnings(frame, reads, settings):
        problems[index].append(problem)
    return [_report(read, found, settings) for read, found in zip(reads, problems, strict=True)]


def _report(read: TemplateRead, problems: list[Problem], settings: Settings) -> Report:
    if not read.rows:
        problems.append(Problem.make("no-actions", file=read.path, sheet=read.sheet))
    bad_rows = {p.row for p in problems if p.severity is Severity.ERROR}
    if any(p.code == "missing-column" for p in problems):
        bad_rows = set(read.rows)  # a mutilated table: no row is trusted
    problems.sort(key=lambda p: cell_order(p.cell))
    report = Report(files=[read.path], problems=problems)
    values = read.values
    axes, titles, sponsors = values["axis"], values["title"], values["sponsor"]
    descriptions, totals = values["description"], values["total"]
    funders = [(f.code, values[L.funder_key(f.code)]) for f in settings.funders]
    optional = {key: values[key] for key in L.OPTIONAL_HEADERS if key in values}
    for position, row in enumerate(read.rows):
        if row in bad_rows:
            report.rejected.append((read.path, row))
            continue
        funding = {code: column[position] for code, column in funders if column[position]}
        report.actions.append(
            Action(
                axis=axes[position],
                title=titles[position],
                description=descriptions[position] or "",
                sponsor=sponsors[position],
                total=totals[position],
                funding=funding,
                source=Location(read.path, read.sheet, row, read.columns),
                **{key: column[position] or "" for key, column in optional.items()},
            )
        )
    return report


def french_number(number: Decimal | None) -> str:
    """90.5 -> "90,5"; 80 -> "80"."""
    return format(number, "f").replace(".", ",") if number is not None else ""


def cell_order(cell: str | None) -> tuple[int, int]:
    """Sort key of a cell reference: row, then column; problems without a cell come first."""
    if not cell:
        return (0, 0)
    letters = cell.rstrip("0123456789")
    return (int(cell[len(letters) :] or 0), L.column_index(letters) if letters else 0)


def _header(key: str, settings: Settings) -> str:
    if key.startswith("funder:"):
        return settings.funder(key.removeprefix("funder:")).label
    return HEADERS.get(key, key)


def _from_failures(
    cases: pd.DataFrame,
    frame: pd.DataFrame,
    reads: Sequence[TemplateRead],
    settings: Settings,
) -> Iterator[tuple[int, Problem]]:
    """Pandera's failure cases -> one Problem per cell (per row for the row-wide rules)."""
    seen: set[tuple[str, int, str | None]] = set()
    funders = funder_columns(settings)
    files = frame["_file"].to_numpy()
    starts = _starts(reads)
    for case in cases.itertuples(index=False):
        check = str(case.check)
        index = case.index
        if index is None or index != index:  # a schema-wide failure with no row: a bug
            raise RuntimeError(f"échec de schéma inattendu : {case}")
        index = int(index)
        file = int(files[index])
        read, position = reads[file], index - int(starts[file])
        row = read.rows[position]
        column = case.column if isinstance(case.column, str) and case.column in frame else None
        if check in _ROW_CHECKS and (
            column is None or column.startswith(WHOLE_PREFIX) or pd.isna(case.failure_case)
        ):
            # A row-wide rule fails on every column of its row: it is reported through one of
            # the row's fields that holds a value the reader could use, as the old frame of
            # Decimal and None did; a row whose only cells are already reported gets nothing.
            continue
        if column and column.startswith(WHOLE_PREFIX):
            column = column.removeprefix(WHOLE_PREFIX)
        if check == "not_nullable":
            check = "missing-value"
        key = (check, index, column if column and check not in _ROW_CHECKS else None)
        absent = column is not None and column not in read.columns
        reported = column is not None and column in read.unusable.get(position, ())
        if key in seen or absent or reported:
            continue  # already reported at its cell, or its whole column is missing
        seen.add(key)
        values = read.row_values(position)
        yield file, _problem(check, row, column, values, read, settings, funders)


_ROW_CHECKS = {"no-funder", "funders-do-not-add-up", "duplicate-title", "sponsor-not-allowed"}


def _problem(
    code: str,
    row: int,
    column: str | None,
    values: dict[str, Any],
    read: TemplateRead,
    settings: Settings,
    funders: list[str],
) -> Problem:
    """The problem ``code`` of one row at the cell of ``column`` (a row-wide rule picks its own
    cell), with the fields its message template shows."""
    if code not in CODES:  # a pandera check we did not name: our mistake, not the sender's
        raise RuntimeError(f"règle du schéma sans problème associé : {code}")
    value = values.get(column) if column else None
    fields: dict[str, Any] = {}
    if code == "no-funder":
        column, value = funders[0], None
    elif code == "sponsor-not-allowed":
        column, value, fields = "sponsor", values["sponsor"], {"locked": read.sponsor}
    elif code == "duplicate-title":
        column, value, fields = "title", values["title"], {"sponsor": values["sponsor"]}
    elif code == "funders-do-not-add-up":
        column, value = "total", values["total"]
        funded = sum((values[f] for f in funders if values[f] is not None), ZERO)
        gap = value - funded
        fields = {
            "variant": "" if gap > 0 else "excess",
            "gap": format_euros(abs(gap), cents=True),
            "total": format_euros(value),
            "funded": format_euros(funded),
        }
    else:
        fields = {
            "header": _header(column, settings) if column else "",
            "sponsors": ", ".join(settings.sponsors),
            "length": len(str(value)),
            "limit": L.TITLE_MAX if column == "title" else L.MAX_CELL_TEXT,
        }
    return Problem.make(
        code,
        file=read.path,
        sheet=read.sheet,
        cell=read.cell(column, row) if column else f"A{row}",
        value=value,
        **fields,
    )


def _warnings(
    frame: pd.DataFrame, reads: Sequence[TemplateRead], settings: Settings
) -> Iterator[tuple[int, Problem]]:
    """Advice, not errors: missing or repeated descriptions, a funder above its cap."""
    files = frame["_file"].tolist()  # by position: the frame's index is 0..n-1
    rows = frame["_row"].tolist()

    def warn(
        code: str, key: str, index: int, value: object = None, **fields: Any
    ) -> tuple[int, Problem]:
        read = reads[files[index]]
        return files[index], Problem.make(
            code,
            file=read.path,
            sheet=read.sheet,
            cell=read.cell(key, rows[index]),
            value=value,
            **fields,
        )

    described = ["description" in read.columns for read in reads]
    descriptions = frame["description"].tolist()
    for index, description in enumerate(descriptions):
        if description is None and described[files[index]]:
            yield warn("missing-description", "description", index)
    for index, first in _repeated_descriptions(descriptions, files):
        yield warn("duplicate-description", "description", index, row=rows[first])
    totals = frame["total"].to_numpy(dtype="int64", na_value=0)
    starts = _starts(reads)
    for funder in settings.funders:
        if funder.max_share is None:
            continue
        key = L.funder_key(funder.code)
        cents = frame[key].to_numpy(dtype="int64", na_value=0)
        # Only the rows this funder pays can be above its cap: the exact comparison in
        # Decimal decides for them.
        for index in np.flatnonzero((cents > 0) & (totals > 0)).tolist():
            read = reads[files[index]]
            position = index - int(starts[files[index]])
            amount, total = read.values[key][position], read.values["total"][position]
            if not isinstance(amount, Decimal) or not isinstance(total, Decimal) or total <= 0:
                continue
            if amount * 100 > total * funder.max_share:
                share = french_number((amount * 100 / total).quantize(Decimal("0.1")))
                yield warn(
                    "share-above-cap",
                    key,
                    index,
                    amount,
                    funder=funder.code,
                    share=share,
                    cap=french_number(funder.max_share),
                )


def _starts(reads: Sequence[TemplateRead]) -> np.ndarray:
    """The frame index of each file's first row (the frame is in file order)."""
    return np.cumsum([0, *(len(read.rows) for read in reads)])[:-1]


def _repeated_descriptions(
    descriptions: list[str | None], files: list[int]
) -> Iterator[tuple[int, int]]:
    """(index, index of the first same description in the same file), for each repeat. Two
    descriptions are the same when they differ only by spacing and case. Comparing every text
    whole costs microseconds each; first a key made of a few words at each end (a function of
    the words alone, so the same for two same texts) finds the few that can be equal."""
    groups: dict[tuple[int, str], list[int]] = {}
    for index, text in enumerate(descriptions):
        if text is not None:
            groups.setdefault((files[index], _ends(text)), []).append(index)
    for members in groups.values():
        if len(members) < 2:
            continue
        first: dict[str, int] = {}
        for index in members:
            key = " ".join(str(descriptions[index]).split()).casefold()
            seen = first.setdefault(key, index)
            if seen != index:
                yield index, seen


def _ends(text: str, words: int = 10) -> str:
    """The first and last ``words`` words of ``text``, case folded: splitting stops there."""
    head, tail = text.split(None, words)[:words], text.rsplit(None, words)[1:]
    return " ".join([*head, "\x00", *tail]).casefold()
