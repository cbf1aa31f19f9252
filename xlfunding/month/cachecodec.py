"""One file's reading result as bytes and back, exactly: what a reading worker sends, and what
the cache (``cache``) stores.

A FileResult becomes a tuple of plain values (text, numbers, None, lists, tuples, dicts) and of
a few inert types, the amounts' Decimals and the dates, written with pickle's binary format.
Rows are flat tuples; a sheet name or a map of column letters is written once, the path not at
all (below).
The bytes are read back by an unpickler that finds those inert types only (``_Plain``): every
other class or function is refused, so an entry can only build values, never run code, and a
cache file we did not write is as harmless to read as JSON. The encoder refuses, the same way,
anything else (``NotCodable``): a result that holds another type is simply sent as itself, and
is not cached.

Why this and not the objects' own pickle (``benchmarks/bench_codec.py``, 200 returns of 100
rows): an entry is made in 0.35 ms a return and read back in 0.37 ms, where pickling the
objects takes 0.71 ms and 0.59 ms, and the packing the workers used before (rows as tuples)
0.31 ms and 0.49 ms. The main process reads back what every worker makes: the quicker side
is the one that counts. JSON cannot carry a Decimal, and was slower still.

The path is not stored: every place that named the file read names the file now found with
those bytes (a problem about another file makes the result not codable).
"""

from __future__ import annotations

import datetime as dt
import io
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlfunding.model import Action, Location
from xlfunding.month.inbox import FileResult, RowResult, Status
from xlfunding.problems import Problem, Severity

FORMAT = 3  # 3: flat rows, amounts and dates as themselves (2: amounts as text)
# The only classes an entry may hold, beside the plain values: their constructors store values.
INERT = {
    ("decimal", "Decimal"): Decimal,
    ("datetime", "datetime"): dt.datetime,
    ("datetime", "date"): dt.date,
    ("datetime", "time"): dt.time,
    ("datetime", "timedelta"): dt.timedelta,
    ("datetime", "timezone"): dt.timezone,
}
_INERT_TYPES = frozenset(INERT.values())
ACTION_ROW = 16  # the length of a row tuple that carries its action (a bare row has 6)


class NotCodable(ValueError):
    """This result holds a value the encoding cannot carry exactly."""


def encode(result: FileResult) -> bytes:
    """``result`` (fresh from the reader) as bytes; raises NotCodable."""
    path = result.path
    sheets: dict[str, int] = {}
    columns: dict[int, int] = {}
    column_maps: list[Any] = []

    def where(location: Location | None) -> tuple[int, int, int, int] | None:
        if location is None:
            return None
        index = columns.get(id(location.columns))
        if index is None:
            index = columns[id(location.columns)] = len(column_maps)
            column_maps.append(location.columns)
        sheet = sheets.setdefault(location.sheet, len(sheets))
        return _file(location.file, path), sheet, location.row, index

    rows: list[tuple[Any, ...]] = []
    for row in result.rows:
        if row.file is not path and row.file != path:
            raise NotCodable(row.file)
        head = (sheets.setdefault(row.sheet, len(sheets)), row.row, row.sponsor, row.title,
                row.total, row.reason)
        a = row.action
        if a is None:
            rows.append(head)
        else:
            rows.append((*head, a.axis, a.title, a.description, a.sponsor, a.total, a.funding,
                         where(a.source), a.reference, a.siret, a.rna))
    problems = [
        (p.code, p.message, _file(p.file, path), p.sheet, p.cell, p.value, str(p.severity))
        for p in result.problems
    ]
    header = (str(result.status), result.sponsor, result.template_version, result.modified,
              result.mtime is not None, result.note)  # only the files read have a mtime
    data = (FORMAT, header, list(sheets), column_maps, rows, problems)
    out = io.BytesIO()
    try:
        _Encoder(out, protocol=5).dump(data)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise NotCodable(exc) from exc
    return out.getvalue()


def decode(text: bytes, path: Path, mtime: float | None) -> FileResult:
    """The FileResult that ``encode`` stored, for the file now at ``path`` (and its ``mtime``);
    raises ValueError, TypeError, IndexError or pickle.UnpicklingError when the bytes are not
    what ``encode`` writes."""
    fmt, header, sheets, column_maps, packed, problems = _Plain(io.BytesIO(text)).load()
    if fmt != FORMAT:
        raise ValueError(fmt)
    status, sponsor, template_version, modified, has_mtime, note = header
    files = (None, path)
    rows: list[RowResult] = []
    append = rows.append
    for fields in packed:
        action = None
        if len(fields) == ACTION_ROW:
            (sheet, number, row_sponsor, row_title, total, reason, axis, title, description,
             action_sponsor, cost, funding, loc, reference, siret, rna) = fields
            source = (
                None
                if loc is None
                else Location(files[loc[0]], sheets[loc[1]], loc[2], column_maps[loc[3]])
            )
            action = Action(axis, title, description, action_sponsor, cost, funding, source,
                            reference, siret, rna)
        else:
            sheet, number, row_sponsor, row_title, total, reason = fields
        append(RowResult(path, sheets[sheet], number, row_sponsor, row_title, total, action,
                         reason))
    return FileResult(
        path,
        Status(status),
        sponsor=sponsor,
        template_version=template_version,
        modified=modified,
        mtime=mtime if has_mtime else None,
        rows=rows,
        problems=[
            Problem(code, message, files[file], sheet, cell, value, Severity(severity))
            for code, message, file, sheet, cell, value, severity in problems
        ],
        note=note,
    )


class _Encoder(pickle.Pickler):
    """A pickler that writes the plain values and the inert types only."""

    def reducer_override(self, obj: Any) -> Any:  # called for every object of another type
        if type(obj) in _INERT_TYPES or (type(obj) is type and obj in _INERT_TYPES):
            return NotImplemented  # pickled as usual (an inert type: as its name)
        raise NotCodable(type(obj))


class _Plain(pickle.Unpickler):
    """An unpickler that builds plain values and the inert types only: no other class, no
    function is ever found (the opcodes that make objects all ask ``find_class``;
    ``persistent_load`` is not defined)."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return INERT[module, name]
        except KeyError:
            raise pickle.UnpicklingError(
                f"{module}.{name} refusé dans une entrée du cache"
            ) from None


def _file(file: Path | None, path: Path) -> int:
    """0 for no file, 1 for the file read; any other file cannot be re-pointed."""
    if file is None:
        return 0
    if file is path or file == path:
        return 1
    raise NotCodable(file)
