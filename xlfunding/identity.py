"""Who is who: each body's SIRET and RNA number, checked, and the council's decision.

A SIRET is 14 digits: the SIREN (9 digits, Luhn-checked) then the NIC (5 digits); the whole
14 pass the Luhn check too, except La Poste's establishments (SIREN 356 000 000), whose digits
add up to a multiple of 5 (python-stdnum knows both rules). An RNA number is « W » and 9 digits,
without a checksum. Each check returns None or a French reason that names the wrong character
or, where a checksum says so, the digit it expects.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xlfunding.text import name_key

if TYPE_CHECKING:
    from xlfunding.model import Action

LA_POSTE = "356000000"
_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]")
_RNA = re.compile(r"^W\d{9}$")


def compact(value: object) -> str:
    """The number without spaces, dots or dashes; an integer cell as its digits."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return _SEPARATORS.sub("", str(value)).upper()


def siret_mistake(value: object) -> str | None:
    """Why ``value`` is not a SIRET (French), or None when it is one."""
    from stdnum import luhn
    from stdnum.fr import siret

    number = compact(value)
    for position, char in enumerate(number, start=1):
        if not char.isdigit():
            return f"le {_nth(position)} caractère, « {char} », n'est pas un chiffre"
    if len(number) != 14:
        hint = (
            " (un zéro au début a peut-être été perdu : tapez le numéro comme un texte)"
            if len(number) == 13 and isinstance(value, int)
            else ""
        )
        return f"un SIRET a 14 chiffres, celui-ci en a {len(number)}{hint}"
    if siret.is_valid(number):
        return None
    siren = number[:9]
    if siren != LA_POSTE and not luhn.is_valid(siren):
        expected = luhn.calc_check_digit(siren[:8])
        return (
            f"le SIREN (les 9 premiers chiffres, {siren}) ne passe pas la clé de contrôle : "
            f"avec les 8 premiers, le 9e chiffre devrait être {expected} ; un chiffre a sans "
            "doute été mal recopié"
        )
    if siren == LA_POSTE:
        last = (-sum(map(int, number[:13]))) % 5
        return (
            "les chiffres d'un SIRET de La Poste doivent totaliser un multiple de 5 : avec les "
            f"13 premiers, le 14e chiffre devrait être {last} ou {last + 5}"
        )
    expected = luhn.calc_check_digit(number[:13])
    return (
        "la clé de contrôle ne correspond pas : avec les 13 premiers chiffres, le 14e devrait "
        f"être {expected} ; un chiffre du NIC (les 5 derniers) a sans doute été mal recopié"
    )


def rna_mistake(value: object) -> str | None:
    """Why ``value`` is not an RNA number (« W » then 9 digits), or None."""
    number = compact(value)
    if _RNA.match(number):
        return None
    if not number.startswith("W"):
        return "un numéro RNA commence par la lettre W"
    for position, char in enumerate(number[1:], start=2):
        if not char.isdigit():
            return f"le {_nth(position)} caractère, « {char} », n'est pas un chiffre"
    return f"un numéro RNA a 9 chiffres après le W, celui-ci en a {len(number) - 1}"


def number_mistakes(
    key: str, cells: Sequence[object], texts: list[str | None]
) -> list[tuple[int, str, str]]:
    """A template column's SIRET (``key`` "siret") or RNA numbers ("rna"; any other key has
    none): each valid one compacted in ``texts``, each wrong one as (position, problem code,
    French reason). A number typed in Excel is checked by its digits, to tell a lost 0."""
    check, code = {
        "siret": (siret_mistake, "invalid-siret"),
        "rna": (rna_mistake, "invalid-rna"),
    }.get(key, (None, ""))
    if check is None:
        return []
    found = []
    for position, text in enumerate(texts):
        if text is None:
            continue
        raw = cells[position]
        if isinstance(raw, int | float) and not isinstance(raw, bool) and raw % 1 == 0:
            raw = int(raw)
        reason = check(raw if isinstance(raw, int) else text)
        if reason is None:
            texts[position] = compact(text)
        else:
            found.append((position, code, reason))
    return found


def _nth(position: int) -> str:
    return "1er" if position == 1 else f"{position}e"


@dataclass(frozen=True)
class Identity:
    """A sponsor's or a funder's official name and numbers (each may be missing)."""

    legal_name: str | None = None
    siret: str | None = None
    rna: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Decision:
    """The council's decision: its reference (« DELIB-2024-1179 ») and its date."""

    reference: str | None = None
    date: dt.date | None = None

    def to_dict(self) -> dict[str, str]:
        found = {"reference": self.reference, "date": self.date and self.date.isoformat()}
        return {k: v for k, v in found.items() if v}

    @property
    def line(self) -> str:
        """« Délibération DELIB-2024-1179 du 18/12/2024 », as the annex prints it."""
        text = "Délibération" + (f" {self.reference}" if self.reference else "")
        return text + (f" du {self.date:%d/%m/%Y}" if self.date else "")


def find_identity(identities: Iterable[tuple[str, Identity]], name: str) -> Identity:
    """The identity of ``name`` (case and accents forgiven), or an empty one."""
    key = name_key(name)
    for known, identity in identities:
        if name_key(known) == key:
            return identity
    return Identity()


def merged(
    first: Iterable[tuple[str, Identity]], then: Iterable[tuple[str, Identity]]
) -> tuple[tuple[str, Identity], ...]:
    """``first``'s identities, each completed by ``then``'s for the same name (case and
    accents forgiven); the names only ``then`` has, after."""
    result = dict(first)
    keys = {name_key(name): name for name in result}
    for name, identity in then:
        known = keys.get(name_key(name))
        if known is None:
            keys[name_key(name)], result[name] = name, identity
        else:
            mine = result[known]
            result[known] = Identity(
                mine.legal_name or identity.legal_name,
                mine.siret or identity.siret,
                mine.rna or identity.rna,
            )
    return tuple(result.items())


def from_actions(actions: Iterable[Action]) -> tuple[tuple[str, Identity], ...]:
    """Each sponsor's SIRET and RNA as its template's rows give them (the first row that
    gives each)."""
    found: dict[str, Identity] = {}
    for action in actions:
        if action.siret or action.rna:
            found[action.sponsor] = merged(
                [(action.sponsor, found.get(action.sponsor, Identity()))],
                [(action.sponsor, Identity(None, action.siret or None, action.rna or None))],
            )[0][1]
    return tuple(found.items())


def parse_identities(
    value: object, names: tuple[str, ...]
) -> tuple[dict[str, Identity], list[tuple[str, str]]]:
    """``[identity."NAME"]`` tables of a settings file: each NAME a sponsor or a funder.
    Returns the identities and the mistakes as (key, French message)."""
    mistakes: list[tuple[str, str]] = []
    if not isinstance(value, dict):
        return {}, [("identity", "doit être une table [identity.NOM]")]
    known = {name_key(n) for n in names}
    found = {}
    for name, table in value.items():
        where = f"identity.{name}"
        if name_key(name) not in known:
            mistakes.append((where, "ni un porteur ni un financeur des paramètres"))
        if not isinstance(table, dict):
            mistakes.append((where, "doit être une table (legal_name, siret, rna)"))
            continue
        fields: dict[str, Any] = {}
        for key in sorted(table):
            text = table[key]
            if key not in ("legal_name", "siret", "rna"):
                expected = "clé inconnue (attendu : legal_name, siret, rna)"
                mistakes.append((f"{where}.{key}", expected))
            elif not isinstance(text, str) or not text.strip():
                mistakes.append((f"{where}.{key}", f"doit être un texte (trouvé : {text!r})"))
            else:
                check = {"siret": siret_mistake, "rna": rna_mistake}.get(key)
                why = check(text) if check else None
                if why:
                    mistakes.append((f"{where}.{key}", why))
                fields[key] = compact(text) if check else text.strip()
        found[name] = Identity(**fields)
    return found, mistakes


def parse_decision(value: object) -> tuple[Decision, list[tuple[str, str]]]:
    """The ``[decision]`` table: ``reference`` (text) and ``date`` (AAAA-MM-JJ)."""
    if not isinstance(value, dict):
        return Decision(), [("decision", "doit être une table [decision] (reference, date)")]
    mistakes = []
    reference, date = value.get("reference"), value.get("date")
    if reference is not None and (not isinstance(reference, str) or not reference.strip()):
        mistakes.append(("decision.reference", f"doit être un texte (trouvé : {reference!r})"))
        reference = None
    if isinstance(date, str):  # the annex stores its settings as JSON: dates as ISO text
        with contextlib.suppress(ValueError):
            date = dt.date.fromisoformat(date)
    if date is not None and (not isinstance(date, dt.date) or isinstance(date, dt.datetime)):
        mistakes.append(("decision.date", f"doit être une date AAAA-MM-JJ (trouvé : {date!r})"))
        date = None
    for key in sorted(set(value) - {"reference", "date"}):
        mistakes.append((f"decision.{key}", "clé inconnue (attendu : reference, date)"))
    return Decision(reference.strip() if reference else None, date), mistakes


# « 062-216209072-20241218-DELIB-2024-1179 »: department, SIREN, date, the act's reference.
_STAMP = re.compile(r"^\d{2,3}-(?P<siren>\d{9})-(?P<date>\d{8})-(?P<reference>[0-9A-Z-]+)$", re.I)


def decision_from_stamp(acte: str) -> Decision | None:
    """The decision a prefecture's acknowledgement number names, or None."""
    match = _STAMP.match(acte.strip())
    if match is None:
        return None
    try:
        date = dt.datetime.strptime(match["date"], "%Y%m%d").date()
    except ValueError:
        return None
    return Decision(match["reference"], date)
