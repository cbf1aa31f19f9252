"""The pandera schema of an actions table: every rule declared once, for some settings.

The frame has one row per action of one or many files, with the text columns "axis", "title",
"description", "sponsor", and the amounts "total" and "funder:<code>" as integer cents
(nullable ``Int64``: exact, and checked by numpy rather than one Python call per cell). An
amount that is not a whole number of cents is rounded away from zero there (its sign, and
whether it is zero, are kept) and its "_whole:<key>" column is False. The other columns:
"_file" and "_row" (which file, which Excel row), "_locked" (the sponsor a template is locked
to, or None) and "_amounts_ok" (False when the reader could not use one of the row's amounts,
so the sum rule does not report a gap it cannot know). Validating many files in one frame is
what keeps a thousand returns fast. Check names are the problem codes.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
import pandera.pandas as pa

from xlfunding import layout as L
from xlfunding.settings import Settings


@contextlib.contextmanager
def _hypothesis_hidden() -> Iterator[None]:
    """While pandera loads its built-in checks, ``import hypothesis`` fails as if it were not
    installed. Those checks import pandera's data-synthesis strategies, which import
    hypothesis when it is there (a test dependency, not ours): 0.2 to 0.4 s of every process
    that validates, with hypothesis's plugins. We never synthesise data. A process that has
    already imported hypothesis keeps it."""
    if "hypothesis" in sys.modules:
        yield
        return
    sys.modules["hypothesis"] = None  # type: ignore[assignment]  # the import system's "absent"
    try:
        yield
    finally:
        del sys.modules["hypothesis"]


with _hypothesis_hidden():
    import pandera.backends.pandas.builtin_checks  # noqa: F401  (registered once, here)


def funder_columns(settings: Settings) -> list[str]:
    return [L.funder_key(f.code) for f in settings.funders]


def amount_columns(settings: Settings) -> list[str]:
    return ["total", *funder_columns(settings)]


def whole_key(key: str) -> str:
    """The column saying whether the amount ``key`` is a whole number of cents."""
    return f"_whole:{key}"


def _one_of(values: Iterable[str], name: str) -> pa.Check:
    allowed = frozenset(values)
    return pa.Check(lambda series: series.isin(allowed), name=name)


def _max_length(limit: int) -> pa.Check:
    return pa.Check(lambda series: series.str.len() <= limit, name="text-too-long")


def _amount_column(nullable: bool, *checks: pa.Check) -> pa.Column:
    return pa.Column(
        "Int64",
        nullable=nullable,
        checks=[pa.Check(lambda series: series >= 0, name="negative-amount"), *checks],
    )


def _cents(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The amounts of ``columns`` in cents, blanks as 0, as one int64 matrix."""
    return frame[columns].to_numpy(dtype="int64", na_value=0)


def _true(series: pd.Series) -> pd.Series:
    return series


@functools.cache
def build_schema(settings: Settings) -> pa.DataFrameSchema:
    """The schema of the actions of one or many files (column "_file" tells them apart)."""
    funders = funder_columns(settings)
    amounts = amount_columns(settings)

    def some_funder(frame: pd.DataFrame) -> pd.Series:
        return pd.Series((_cents(frame, funders) > 0).any(axis=1), index=frame.index)

    def adds_up(frame: pd.DataFrame) -> pd.Series:
        """Only rows whose amounts are all usable and in whole cents can have a gap: the
        others already have a problem at the amount's own cell. Sums of int64 cents: exact."""
        cents = _cents(frame, amounts)
        whole = frame[[whole_key(k) for k in amounts]].to_numpy().all(axis=1)
        known = frame["_amounts_ok"].to_numpy() & frame["total"].notna().to_numpy() & whole
        gap = cents[:, 0] - cents[:, 1:].sum(axis=1)
        funded = (cents[:, 1:] > 0).any(axis=1)
        return pd.Series(~known | (gap == 0) | ~funded, index=frame.index)

    def locked_sponsor(frame: pd.DataFrame) -> pd.Series:
        """In a template locked to a sponsor, every action is that sponsor's."""
        locked = frame["_locked"]
        known = frame["sponsor"].isin(frozenset(settings.sponsors))
        return locked.isna() | ~known | (frame["sponsor"] == locked)

    def unique_titles(frame: pd.DataFrame) -> pd.Series:
        keys = pd.DataFrame(
            {
                "file": frame["_file"],
                "sponsor": frame["sponsor"].fillna(""),
                "title": frame["title"].fillna("").str.casefold(),
            }
        )
        return ~(keys.duplicated(keep=False) & frame["title"].notna())

    columns = {
        "axis": pa.Column(object, nullable=False, checks=[_one_of(settings.axes, "unknown-axis")]),
        "title": pa.Column(object, nullable=False, checks=[_max_length(L.TITLE_MAX)]),
        "description": pa.Column(object, nullable=True, checks=[_max_length(L.MAX_CELL_TEXT)]),
        "sponsor": pa.Column(
            object,
            nullable=False,
            checks=[_one_of(settings.sponsors, "unknown-sponsor")],
        ),
        "total": _amount_column(False, pa.Check(lambda s: s != 0, name="total-not-positive")),
        **{key: _amount_column(True) for key in funders},
        **{
            whole_key(key): pa.Column(bool, checks=[pa.Check(_true, name="too-many-decimals")])
            for key in amounts
        },
        "_amounts_ok": pa.Column(bool),
        "_file": pa.Column(int),
        "_row": pa.Column(int),
        "_locked": pa.Column(object, nullable=True),
    }
    return pa.DataFrameSchema(
        columns,
        # Each row has its "_file" and "_row": never all blank, so pandera need not look for
        # blank rows to let through (ignore_na), which costs a pass over every column.
        checks=[
            pa.Check(locked_sponsor, name="sponsor-not-allowed", ignore_na=False),
            pa.Check(some_funder, name="no-funder", ignore_na=False),
            pa.Check(adds_up, name="funders-do-not-add-up", ignore_na=False),
            pa.Check(unique_titles, name="duplicate-title", ignore_na=False),
        ],
        strict=True,
        ordered=False,
    )
