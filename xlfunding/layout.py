"""The standard template's format: the contract between the template writer and the reader.

A returned template is recognised by its metadata sheet and by the defined name that marks its
header row; both survive a sheet renamed or rows inserted above the table in Excel.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlfunding.settings import Settings

TEMPLATE_FORMAT = "xlfunding-modele"
TEMPLATE_VERSION = "1"
KNOWN_VERSIONS = ("1",)

ACTIONS_SHEET = "Actions"
HELP_SHEET = "Mode d'emploi"
LISTS_SHEET = "Listes"
META_SHEET = "_xlfunding"

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
GAP_HEADER = "Écart (€)"

# Excel's own limit on a cell's text.
MAX_CELL_TEXT = 32_767


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
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


def funder_key(code: str) -> str:
    return f"funder:{code}"


@dataclass(frozen=True)
class Columns:
    """Each field's column in the standard template, for some settings."""

    keys: tuple[str, ...]  # "axis", ..., "total", "funder:Ville", ..., "gap"
    headers: tuple[str, ...]

    @classmethod
    def for_settings(cls, settings: Settings) -> Columns:
        keys = [*FIXED_HEADERS, *(funder_key(f.code) for f in settings.funders), "gap"]
        headers = [*FIXED_HEADERS.values(), *(f.label for f in settings.funders), GAP_HEADER]
        return cls(tuple(keys), tuple(headers))

    def letter(self, key: str) -> str:
        return column_letter(self.keys.index(key))

    @property
    def last_letter(self) -> str:
        return column_letter(len(self.keys) - 1)
