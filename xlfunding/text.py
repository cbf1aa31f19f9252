"""People's text: cleaning what they type and paste, and the keys that compare names.

Each key forgives more than the one before it:

* ``label_key``: case, spacing and invisible characters (a drop-down value, a column header;
  accents are kept: « Région » is not « Region »);
* ``name_key``: also accents and every space (a funder's name in last year's annex, « Maisons
  et Cités » or « MAISONS ET CITES »); ``words_key`` keeps single spaces between the words,
  for sentence patterns.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS), None)
# What clean_text changes: invisible characters, any space but a single plain one, outer spaces.
_UNCLEAN = re.compile(rf"[{_INVISIBLE_CHARS}]|[^\S ]|  |^ | $")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009]+")


def clean_text(text: str) -> str:
    """NFC, no zero-width characters, no-break spaces as spaces, no outer spaces."""
    if not _UNCLEAN.search(text) and unicodedata.is_normalized("NFC", text):
        return text  # the common case, at the cost of one scan
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", text).strip()


def label_key(text: str) -> str:
    """Comparison key for labels typed by people: case, spacing and zero-width characters
    forgiven, accents kept."""
    return " ".join(clean_text(text).split()).casefold()


@functools.lru_cache(maxsize=1024)
def spacing_key(text: str) -> str:
    """Case and runs of spaces forgiven (a sponsor's name, a hundred thousand times: cached)."""
    return " ".join(text.split()).casefold()


def name_key(text: str) -> str:
    """Comparison key of a name: case, accents, spacing and invisible characters forgiven."""
    return "".join(_bare(text).split())


def words_key(text: str) -> str:
    """Like ``name_key`` but keeping single spaces between words, for sentence patterns."""
    return " ".join(_bare(text).split())


def _bare(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_INVISIBLE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def quote_sheet(name: str) -> str:
    """A sheet's name as Excel quotes it in a reference: « 'Actions' », « 'L''annexe' »."""
    return "'" + name.replace("'", "''") + "'"


def json_value(value: object) -> object:
    """A problem's value for JSON: None, a boolean, a number or a text as they are; a Decimal
    and anything else as text."""
    return value if value is None or isinstance(value, bool | int | str) else str(value)


_SURROGATE = re.compile("[\ud800-\udfff]")


def shown(text: str) -> str:
    """``text`` as it can be printed and saved: a file name that is not valid UTF-8 reaches
    Python with its bad bytes as lone surrogates (``b"\\xff"`` as ``"\\udcff"``), which no
    terminal, JSON file or workbook can hold; each becomes its backslash escape (``\\xff``)."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
