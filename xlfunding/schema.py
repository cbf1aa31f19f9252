"""The pandera schema of an actions table: every rule declared once, for some settings.

The frame has one row per action of one or many files, with the columns "axis", "title",
"description", "sponsor", "total" and "funder:<code>" (amounts as ``Decimal`` or None), plus
"_file" and "_row" (which file, which Excel row), "_locked" (the sponsor a template is locked
to, or None) and "_amounts_ok" (False when the reader could not use one of the row's amounts,
so the sum rule does not report a gap it cannot know). Validating many files in one frame is
what keeps a thousand returns fast. Check names are the problem codes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pandas as pd
import pandera.pandas as pa

from xlfunding import layout as L
from xlfunding.money import ZERO
from xlfunding.settings import Settings

TITLE_MAX = 255


def funder_columns(settings: Settings) -> list[str]:
    return [L.funder_key(f.code) for f in settings.funders]


# The amount checks compare whole object columns of Decimal at once (numpy's object loops),
# not a Python function per cell: exact all the same.
def _non_negative(series: pd.Series) -> pd.Series:
    return series >= ZERO


def _cents(series: pd.Series) -> pd.Series:
    return (series < ZERO) | ((series * 100) % 1 == ZERO)


def _not_zero(series: pd.Series) -> pd.Series:
    return series != ZERO


def _amounts(frame: pd.DataFrame) -> pd.DataFrame:
    """Amount columns with blanks as exact zeros (still Decimal objects, summed exactly)."""
    return frame.where(frame.notna(), ZERO)


def _one_of(values: Iterable[str], name: str) -> pa.Check:
    allowed = frozenset(values)
    return pa.Check(lambda series: series.isin(allowed), name=name)


def _max_length(limit: int) -> pa.Check:
    return pa.Check(lambda series: series.astype(str).str.len() <= limit, name="text-too-long")


def _amount_checks() -> list[pa.Check]:
    return [
        pa.Check(_non_negative, name="negative-amount"),
        pa.Check(_cents, name="too-many-decimals"),
    ]


@functools.cache
def build_schema(settings: Settings) -> pa.DataFrameSchema:
    """The schema of the actions of one or many files (column "_file" tells them apart)."""
    funders = funder_columns(settings)

    def some_funder(frame: pd.DataFrame) -> pd.Series:
        return (_amounts(frame[funders]) > ZERO).any(axis=1)

    def adds_up(frame: pd.DataFrame) -> pd.Series:
        """Only rows whose amounts are all usable and in whole cents can have a gap: the
        others already have a problem at the amount's own cell."""
        amounts = _amounts(frame[["total", *funders]])
        whole_cents = ((amounts * 100) % 1 == ZERO).all(axis=1)
        known = frame["_amounts_ok"] & frame["total"].notna() & whole_cents
        gap = amounts["total"] - amounts[funders].sum(axis=1)
        return ~known | (gap == ZERO) | ~some_funder(frame)

    def locked_sponsor(frame: pd.DataFrame) -> pd.Series:
        """In a template locked to a sponsor, every action is that sponsor's."""
        locked = frame["_locked"]
        known = frame["sponsor"].isin(frozenset(settings.sponsors))
        return locked.isna() | ~known | (frame["sponsor"] == locked)

    def unique_titles(frame: pd.DataFrame) -> pd.Series:
        keys = (
            frame["_file"].astype(str)
            + "\x00"
            + frame["sponsor"].fillna("").astype(str)
            + "\x00"
            + frame["title"].fillna("").astype(str).str.casefold()
        )
        return ~(keys.duplicated(keep=False) & frame["title"].notna())

    columns = {
        "axis": pa.Column(object, nullable=False, checks=[_one_of(settings.axes, "unknown-axis")]),
        "title": pa.Column(object, nullable=False, checks=[_max_length(TITLE_MAX)]),
        "description": pa.Column(object, nullable=True, checks=[_max_length(L.MAX_CELL_TEXT)]),
        "sponsor": pa.Column(
            object,
            nullable=False,
            checks=[_one_of(settings.sponsors, "unknown-sponsor")],
        ),
        "total": pa.Column(
            object,
            nullable=False,
            checks=[*_amount_checks(), pa.Check(_not_zero, name="total-not-positive")],
        ),
        **{code: pa.Column(object, nullable=True, checks=_amount_checks()) for code in funders},
        "_amounts_ok": pa.Column(bool),
        "_file": pa.Column(int),
        "_row": pa.Column(int),
        "_locked": pa.Column(object, nullable=True),
    }
    return pa.DataFrameSchema(
        columns,
        checks=[
            pa.Check(locked_sponsor, name="sponsor-not-allowed"),
            pa.Check(some_funder, name="no-funder"),
            pa.Check(adds_up, name="funders-do-not-add-up"),
            pa.Check(unique_titles, name="duplicate-title"),
        ],
        strict=True,
        ordered=False,
    )
