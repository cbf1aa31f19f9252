"""Every workbook's contract: what the writers write and the readers look for.

The standard template: its sheets, the defined names that mark its header row and drop-down
lists, its rows, its column headers and its metadata. The annex: its sheets, its column
headers and its metadata. A returned file is recognised by its very hidden metadata sheet and,
for the template, by the defined name of its header row: both survive a sheet renamed or rows
inserted above the table in Excel. Readers (``xlfunding.read``) and writers
(``xlfunding.write``) both import this module, never each other.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlfunding.settings import Settings

# Excel's own limits: the text of a cell, the grid.
MAX_CELL_TEXT = 32_767
MAX_COLUMN = 16_384
MAX_ROW = 1_048_576

# Shared by the template and the annex: the very hidden sheet of metadata (key in A, value in B).
META_SHEET = "_xlfunding"

# -- the standard template -------------------------------------------------------------------
TEMPLATE_FORMAT = "xlfunding-modele"
TEMPLATE_VERSION = "1"
KNOWN_VERSIONS = ("1",)

ACTIONS_SHEET = "Actions"
HELP_SHEET = "Mode d'emploi"
LISTS_SHEET = "Listes"

HEADER_NAME = "xlfunding_entete"  # defined name: the header row of the actions table
AXES_NAME = "liste_axes"
SPONSORS_NAME = "liste_porteurs"
TABLE_NAME = "tblActions"

TITLE_ROW = 1
NOTE_ROW = 2
TOTALS_ROW = 3
HEADER_ROW = 4
FIRST_ROW = 5
DEFAULT_CAPACITY = 300

FIXED_HEADERS = {
    "axis": "Axe du contrat de ville",
    "title": "Intitulé de l'action",
    "description": "Description",
    "sponsor": "Porteur",
    "total": "Coût total (€)",
}
TEXT_FIELDS = ("axis", "title", "description", "sponsor")
# Optional columns (#14), before « Écart »: a template sent out without them is read as before.
OPTIONAL_HEADERS = {
    "reference": "Référence Dauphin",
    "siret": "SIRET du porteur",
    "rna": "RNA du porteur",
}
GAP_HEADER = "Écart (€)"
TITLE_MAX = 255  # characters of an action's title: the template's validation and the schema's


def funder_key(code: str) -> str:
    return f"funder:{code}"


@dataclass(frozen=True)
class Columns:
    """Each field's column in the standard template, for some settings."""

    keys: tuple[str, ...]  # "axis", ..., "total", "funder:Ville", ..., "gap"
    headers: tuple[str, ...]

    @classmethod
    def for_settings(cls, settings: Settings) -> Columns:
        keys = [*FIXED_HEADERS, *(funder_key(f.code) for f in settings.funders)]
        headers = [*FIXED_HEADERS.values(), *(f.label for f in settings.funders)]
        keys += [*OPTIONAL_HEADERS, "gap"]
        headers += [*OPTIONAL_HEADERS.values(), GAP_HEADER]
        return cls(tuple(keys), tuple(headers))

    def index(self, key: str) -> int:
        return self.keys.index(key)

    def letter(self, key: str) -> str:
        return column_letter(self.keys.index(key))

    @property
    def funders(self) -> tuple[int, ...]:
        """The 0-based index of each funder's column, in the settings' order."""
        return tuple(i for i, key in enumerate(self.keys) if key.startswith("funder:"))

    @property
    def last_letter(self) -> str:
        return column_letter(len(self.keys) - 1)


def template_metadata(
    settings: Settings, sponsor: str | None, capacity: int
) -> list[tuple[str, str]]:
    """The rows of the template's metadata sheet: everything the reader checks."""
    return [
        ("format", TEMPLATE_FORMAT),
        ("template_version", TEMPLATE_VERSION),
        ("year", str(settings.year)),
        ("commune", settings.commune),
        ("qpv", settings.qpv),
        ("settings_fingerprint", settings.fingerprint),
        ("sponsor", sponsor or ""),
        ("capacity", str(capacity)),
    ]


# -- the annex ---------------------------------------------------------------------------------
ANNEX_FORMAT = "xlfunding-annexe"
ANNEX_VERSION = "1"
KNOWN_ANNEX_VERSIONS = ("1",)
ANNEX_SHEET = "Annexe"
SUMMARY_SHEET = "Synthèse"

# The annex's columns: these, then one numeric column per funder.
ANNEX_KEYS = ("title", "description", "sponsor", "budget", "total", "source")
ANNEX_HEADERS = (
    "Intitulé du projet",
    "Description",
    "Porteur",
    "Budget prévisionnel",
    "Coût total",
    "Source",
)


DAUPHIN_MARK = " — Dauphin "  # in an action's « Source » cell, before its Dauphin number


def annex_metadata(settings: Settings, layout: dict[str, Any]) -> list[tuple[str, str]]:
    """The rows of the annex's metadata sheet: everything the annex reader relies on, the
    settings it was written with and where each column and axis section is."""
    return [
        ("format", ANNEX_FORMAT),
        ("version", ANNEX_VERSION),
        ("year", str(settings.year)),
        ("commune", settings.commune),
        ("qpv", settings.qpv),
        ("settings_fingerprint", settings.fingerprint),
        ("settings", json.dumps(settings.to_dict(), ensure_ascii=False)),
        ("layout", json.dumps(layout, ensure_ascii=False)),
    ]


# -- cell addresses ----------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA". (XlsxWriter's ``xl_col_to_name`` does the same, but
    importing it costs the readers all of XlsxWriter: 50 ms.)"""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """ "A" -> 0, "AA" -> 26."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1
