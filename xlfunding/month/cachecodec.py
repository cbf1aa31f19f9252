"""One file's reading result as plain data and back, exactly: what the cache (``cache``) stores.

A FileResult as it leaves the reader (before the consolidation marks it superseded or
duplicated) becomes plain data, the kind JSON holds: lists, dicts, text, numbers, None; amounts
as the text of their Decimal (``Decimal(str(d))`` keeps every digit and the exponent), dates as
ISO text, each problem's value tagged with its type. That data is written with pickle's binary
format, read back by an unpickler that refuses every class and function (``_Plain``): it can
only build those plain values, never run code, so a cache file we did not write is as harmless
to read as JSON. Why not JSON itself: the pickle of these values was made in half the time and
read in two thirds of it (measured on 200 returns), and a worker sends it to the main process
instead of the pickled result, so filling the cache adds no encoding pass to the reading.

The path is not stored: every place that named the file read names the file now found with
those bytes. A result this encoding cannot carry exactly (a value of another type, a problem
about another file) raises ``NotCacheable`` and is simply read again next time.
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

FORMAT = 2  # 2: an action's Dauphin number, SIRET and RNA (#14)
CACHED = (Status.VALID, Status.ERRORS, Status.OTHER_PROGRAMME, Status.UNREADABLE)


class NotCacheable(ValueError):
    """This result cannot be stored exactly: it is read again next time."""


def encode(result: FileResult) -> bytes:
    """``result`` (fresh from the reader) as bytes; raises NotCacheable."""
    if result.status not in CACHED or result.note:
        raise NotCacheable(result.status)
    if any(p.code == "unreadable-file" for p in result.problems):
        raise NotCacheable("a reader that died or crashed may not do so next time")
    path = result.path
    sheets: dict[str, int] = {}
    columns: dict[int, int] = {}
    column_maps: list[dict[str, str]] = []

    def sheet_index(name: str) -> int:
        if type(name) is not str:
            raise NotCacheable(name)
        return sheets.setdefault(name, len(sheets))

    def where(location: Location | None) -> list[Any] | None:
        if location is None:
            return None
        index = columns.get(id(location.columns))
        if index is None:
            if type(location.columns) is not dict:
                raise NotCacheable(type(location.columns))
            index = columns[id(location.columns)] = len(column_maps)
            column_maps.append(location.columns)
        return [_file(location.file, path), sheet_index(location.sheet), location.row, index]

    rows = []
    for row in result.rows:
        action = row.action
        fields = None
        title: str | int = row.title
        sponsor: str | int = row.sponsor
        total = _value(row.total)
        if action is not None:
            if type(action.funding) is not dict or type(action.total) is not Decimal:
                raise NotCacheable(action)
            fields = [
                action.axis,
                action.title,
                action.description,
                action.sponsor,
                str(action.total),
                {code: _decimal(amount) for code, amount in action.funding.items()},
                where(action.source),
                [action.reference, action.siret, action.rna],
            ]
            # What the row repeats of its action is written once: 0 for its title or sponsor
            # (always text), [] for its total (never a list otherwise).
            if type(title) is not str or type(sponsor) is not str:
                raise NotCacheable(row)
            title = 0 if title == action.title else title
            sponsor = 0 if sponsor == action.sponsor else sponsor
            total = [] if type(row.total) is Decimal and str(row.total) == fields[4] else total
        _file(row.file, path)
        rows.append([sheet_index(row.sheet), row.row, sponsor, title, total, row.reason, fields])
    problems = [
        [
            p.code,
            p.message,
            _file(p.file, path),
            p.sheet,
            p.cell,
            _value(p.value),
            str(p.severity),
        ]
        for p in result.problems
    ]
    data = {
        "format": FORMAT,
        "status": str(result.status),
        "sponsor": result.sponsor,
        "template_version": result.template_version,
        "modified": _value(result.modified),
        "mtime": result.mtime is not None,  # the reader stats only the files it could read
        "sheets": list(sheets),
        "columns": column_maps,
        "rows": rows,
        "problems": problems,
    }
    return pickle.dumps(data, protocol=5)


def decode(text: bytes, path: Path, mtime: float | None) -> FileResult:
    """The FileResult that ``encode`` stored, for the file now at ``path``; raises ValueError
    (or KeyError, TypeError, pickle.UnpicklingError) when it is not what ``encode`` writes."""
    data = _Plain(io.BytesIO(text)).load()
    if data["format"] != FORMAT:
        raise ValueError(data["format"])
    sheets: list[str] = data["sheets"]
    column_maps: list[dict[str, str]] = data["columns"]
    files = (None, path)
    rows = []
    for sheet, number, sponsor, title, total, reason, fields in data["rows"]:
        action = None
        if fields is not None:
            axis, title_, description, sponsor_, cost, funding, loc, ids = fields
            source = (
                None
                if loc is None
                else Location(files[loc[0]], sheets[loc[1]], loc[2], column_maps[loc[3]])
            )
            action = Action(
                axis,
                title_,
                description,
                sponsor_,
                Decimal(cost),
                {code: Decimal(value) for code, value in funding.items()},
                source,
                *ids,
            )
            if title == 0:
                title = title_
            if sponsor == 0:
                sponsor = sponsor_
            if total == []:
                total = Decimal(cost)
        if type(total) is dict:
            total = _of(total)
        rows.append(RowResult(path, sheets[sheet], number, sponsor, title, total, action, reason))
    problems = [
        Problem(code, message, files[file], sheet, cell, _of(value), Severity(severity))
        for code, message, file, sheet, cell, value, severity in data["problems"]
    ]
    return FileResult(
        path,
        Status(data["status"]),
        sponsor=data["sponsor"],
        template_version=data["template_version"],
        modified=_of(data["modified"]),
        mtime=mtime if data["mtime"] else None,
        rows=rows,
        problems=problems,
    )


class _Plain(pickle.Unpickler):
    """An unpickler that builds plain values only: no class, no function is ever found (the
    opcodes that make objects all ask ``find_class``; ``persistent_load`` is not defined)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} refusé dans une entrée du cache")


def _file(file: Path | None, path: Path) -> int:
    """0 for no file, 1 for the file read; any other file cannot be re-pointed."""
    if file is None:
        return 0
    if file == path:
        return 1
    raise NotCacheable(file)


def _decimal(amount: object) -> str:
    if type(amount) is not Decimal:
        raise NotCacheable(amount)
    return str(amount)


def _value(value: object) -> Any:
    """``value`` as plain data that says its type: None, bool, int and str as themselves,
    Decimal, float and datetime in a one-key dict."""
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is Decimal:
        return {"decimal": str(value)}
    if type(value) is float:
        return {"float": repr(value)}
    if type(value) is dt.datetime and value.tzinfo in (None, dt.UTC):
        return {"datetime-fold" if value.fold else "datetime": value.isoformat()}
    raise NotCacheable(type(value))


def _of(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((kind, text),) = value.items()
    if kind == "decimal":
        return Decimal(text)
    if kind == "float":
        return float(text)
    if kind == "datetime":
        return dt.datetime.fromisoformat(text)
    if kind == "datetime-fold":
        return dt.datetime.fromisoformat(text).replace(fold=1)
    raise ValueError(kind)
