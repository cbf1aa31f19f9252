"""What the reader found in one template file: its actions table by column, with the problems
the reader met on the way (the schema's checks come after, in ``xlfunding.validate``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlfunding.problems import Problem


@dataclass
class TemplateRead:
    """What the reader found in one file, by column: ``rows[i]`` is the Excel row of the i-th
    action read, ``values[key][i]`` its value (text as ``str``, amounts as ``Decimal``, blank as
    None) and, for amounts, ``cents[key][i]`` the amount in cents rounded away from zero (so
    sign and zero are kept), exact when ``i`` is not in ``fractional[key]``."""

    path: Path
    sheet: str
    columns: dict[str, str]  # field key -> column letter
    metadata: dict[str, str]
    rows: list[int]
    values: dict[str, list[Any]]
    cents: dict[str, list[int | None]]
    fractional: dict[str, list[int]]  # amount key -> positions not in whole cents
    unusable: dict[int, set[str]]  # position -> fields already reported by the reader
    problems: list[Problem]
    saved_at: dt.datetime | None = None  # the workbook's own last save, if it says

    @property
    def sponsor(self) -> str | None:
        return self.metadata.get("sponsor") or None

    def cell(self, key: str, row: int) -> str | None:
        letter = self.columns.get(key)
        return f"{letter}{row}" if letter else None

    def row_values(self, position: int) -> dict[str, Any]:
        """The values of the ``position``-th action read, by field key."""
        return {key: column[position] for key, column in self.values.items()}
