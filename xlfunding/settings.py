"""Programme settings: the TOML file that says the year, the axes, the sponsors and the funders.

Another city writes its own file; nothing about Libercourt is in the code. ``load_settings``
checks the whole file and reports every mistake at once, naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from xlfunding.errors import SettingsError, UnknownGroup
from xlfunding.files import MiB, read_small
from xlfunding.identity import Decision, Identity, find_identity, parse_decision, parse_identities
from xlfunding.layout import FIXED_HEADERS, GAP_HEADER, OPTIONAL_HEADERS
from xlfunding.serving import parse_server
from xlfunding.text import name_key

DEFAULT_SETTINGS_NAME = "libercourt-2025.toml"
MAX_SETTINGS_BYTES = MiB  # a city's settings file is a few KiB
SETTINGS_WEIGHT = "un fichier de paramètres fait quelques Ko"
# The template's own column headers, which a funder's label must not repeat.
RESERVED_HEADERS = (*FIXED_HEADERS.values(), *OPTIONAL_HEADERS.values(), GAP_HEADER)


@dataclass(frozen=True)
class Funder:
    code: str  # the name printed in the annex ("ANCT") and the template's column key
    label: str  # the template's column header
    group: str  # the summary group it counts under ("TFPB")
    max_share: Decimal | None = None  # percent of an action's cost above which we warn


@dataclass(frozen=True)
class Deliberation:
    acte: str
    teletransmission: dt.date | None
    reception: dt.date | None


@dataclass(frozen=True)
class Settings:
    year: int
    commune: str
    qpv: str
    title: str
    annex_label: str
    contact: str
    deadline: str
    axes: tuple[str, ...]
    sponsors: tuple[str, ...]
    funders: tuple[Funder, ...]
    groups: tuple[str, ...]
    deliberations: tuple[Deliberation, ...] = ()
    path: Path | None = None
    server: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # [serveur] (serving)
    identities: tuple[tuple[str, Identity], ...] = ()
    decision: Decision = Decision()  # noqa: RUF009 (frozen: one shared value is safe)

    def identity(self, name: str) -> Identity:
        """A sponsor's or a funder's identity (empty when the settings give none)."""
        return find_identity(self.identities, name)

    @property
    def funder_codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.funders)

    def funder(self, code: str) -> Funder:
        for funder in self.funders:
            if funder.code == code:
                return funder
        raise KeyError(code)

    def group_members(self, group: str) -> tuple[str, ...]:
        return tuple(f.code for f in self.funders if f.group == group)

    def group_named(self, name: str) -> str:
        """The group ``name`` designates (case and accents forgiven); ``UnknownGroup`` if none."""
        for group in self.groups:
            if name_key(group) == name_key(name):
                return group
        raise UnknownGroup(None, f"groupe inconnu « {name} » (groupes : {', '.join(self.groups)})")

    @property
    def fingerprint(self) -> str:
        """What a returned template must match: everything that shapes the template."""
        canonical = {
            "year": self.year,
            "commune": self.commune,
            "qpv": self.qpv,
            "axes": self.axes,
            "sponsors": self.sponsors,
            "funders": [(f.code, f.group) for f in self.funders],
            "groups": self.groups,
        }
        blob = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def programme_id(self) -> str:
        return f"{self.commune} / {self.qpv}"

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready data (dates as ISO text): what the annex stores to rebuild its
        settings, read back by ``settings_from_json``."""
        funders = []
        for funder in self.funders:
            item: dict[str, Any] = {
                "code": funder.code,
                "label": funder.label,
                "group": funder.group,
            }
            if funder.max_share is not None:
                share = funder.max_share
                item["max_share"] = (
                    int(share) if share == share.to_integral_value() else float(share)
                )
            funders.append(item)
        deliberations = []
        for deliberation in self.deliberations:
            entry: dict[str, Any] = {"acte": deliberation.acte}
            for key in ("teletransmission", "reception"):
                date = getattr(deliberation, key)
                if date is not None:
                    entry[key] = date.isoformat()
            deliberations.append(entry)
        opendata = {
            "identity": {name: i.to_dict() for name, i in self.identities},
            "decision": self.decision.to_dict(),
        }
        return {
            "programme": {
                "year": self.year,
                "commune": self.commune,
                "qpv": self.qpv,
                "title": self.title,
                "annex_label": self.annex_label,
                "contact": self.contact,
                "deadline": self.deadline,
            },
            "axes": list(self.axes),
            "sponsors": list(self.sponsors),
            "groups": list(self.groups),
            "funders": funders,
            "deliberations": deliberations,
            **{key: value for key, value in opendata.items() if value},  # #14, when given
        }


def default_settings_path() -> Path:
    return Path(str(resources.files("xlfunding") / "data" / DEFAULT_SETTINGS_NAME))


def load_settings(path: Path | str | None = None) -> Settings:
    """Load and check a settings file (the bundled Libercourt 2025 one by default)."""
    path = Path(path) if path is not None else default_settings_path()
    raw = read_small(path, MAX_SETTINGS_BYTES, SettingsError, SETTINGS_WEIGHT)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(path, f"ce n'est pas du TOML valide ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(path, "le fichier doit être en UTF-8") from exc
    return settings_from_dict(data, path)


class _Checker:
    """Collects every mistake of a settings file, each as "key : message"."""

    def __init__(self) -> None:
        self.mistakes: list[str] = []

    def fail(self, key: str, message: str) -> None:
        self.mistakes.append(f"« {key} » : {message}")

    def text(self, table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if value is None:
            self.fail(f"{where}{key}", "valeur obligatoire manquante")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}{key}", f"doit être un texte non vide (trouvé : {value!r})")
            return ""
        return value.strip()

    def texts(self, table: dict[str, Any], key: str) -> tuple[str, ...]:
        value = table.get(key)
        if not isinstance(value, list) or not value:
            self.fail(key, "doit être une liste non vide de textes")
            return ()
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{key}[{index + 1}]", f"doit être un texte non vide (trouvé : {item!r})")
            else:
                items.append(item.strip())
        seen: set[str] = set()
        for item in items:
            if item.casefold() in seen:
                self.fail(key, f"« {item} » est en double")
            seen.add(item.casefold())
        return tuple(items)

    def tables(self, value: list[Any], name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each table of the array of tables ``name``, with the prefix of its keys
        ("funders[2]."); an item that is not a table is a mistake."""
        for index, table in enumerate(value, start=1):
            if isinstance(table, dict):
                yield f"{name}[{index}].", table
            else:
                self.fail(f"{name}[{index}]", f"doit être une table [[{name}]]")


def settings_from_dict(data: dict[str, Any], path: Path | None = None) -> Settings:
    check = _Checker()
    programme = data.get("programme")
    if not isinstance(programme, dict):
        check.fail("programme", "table [programme] manquante")
        programme = {}
    year = programme.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        check.fail("programme.year", f"doit être une année, par exemple 2025 (trouvé : {year!r})")
        year = 0
    where = "programme."
    commune = check.text(programme, "commune", where)
    qpv = check.text(programme, "qpv", where)
    title = check.text(programme, "title", where)
    annex_label = check.text(programme, "annex_label", where, default="Annexe")
    contact = check.text(programme, "contact", where, default="le service politique de la ville")
    deadline = check.text(programme, "deadline", where, default="la date indiquée par la ville")
    axes = check.texts(data, "axes")
    sponsors = check.texts(data, "sponsors")
    groups = check.texts(data, "groups")
    funders = _funders(data.get("funders"), groups, check)
    used = {f.group for f in funders}
    for group in groups:
        if group not in used:
            check.fail("groups", f"le groupe « {group} » n'a aucun financeur")
    deliberations = _deliberations(data.get("deliberations", []), check)
    identities, mistakes = parse_identities(
        data.get("identity", {}), (*sponsors, *(f.code for f in funders))
    )
    decision, more = parse_decision(data.get("decision", {}))
    server, unknown = parse_server(data.get("serveur", {}))
    for key, message in [*mistakes, *more, *unknown]:
        check.fail(key, message)
    known = {"programme", "axes", "sponsors", "groups", "funders", "deliberations"}
    known |= {"identity", "decision", "serveur"}
    for key in sorted(set(data) - known):
        check.fail(key, "clé inconnue (attendu : " + ", ".join(sorted(known)) + ")")
    if check.mistakes:
        raise SettingsError(path, "\n  - " + "\n  - ".join(check.mistakes))
    return Settings(
        year=year,
        commune=commune,
        qpv=qpv,
        title=title,
        annex_label=annex_label,
        contact=contact,
        deadline=deadline,
        axes=axes,
        sponsors=sponsors,
        funders=funders,
        groups=groups,
        deliberations=deliberations,
        path=path,
        server=tuple(server.items()),
        identities=tuple(identities.items()),
        decision=decision,
    )


def _funders(value: object, groups: tuple[str, ...], check: _Checker) -> tuple[Funder, ...]:
    if not isinstance(value, list) or not value:
        check.fail("funders", "doit contenir au moins un [[funders]]")
        return ()
    funders: list[Funder] = []
    codes: set[str] = set()
    labels: set[str] = {h.casefold() for h in RESERVED_HEADERS}
    for where, table in check.tables(value, "funders"):
        code = check.text(table, "code", where)
        label = check.text(table, "label", where, default=code or "?")
        group = check.text(table, "group", where)
        if group and group not in groups:
            check.fail(f"{where}group", f"le groupe « {group} » n'est pas dans « groups »")
        if code and code.casefold() in codes:
            check.fail(f"{where}code", f"le financeur « {code} » est en double")
        codes.add(code.casefold())
        if label.casefold() in labels:
            check.fail(
                f"{where}label", f"l'en-tête « {label} » est déjà pris par une autre colonne"
            )
        labels.add(label.casefold())
        cap = table.get("max_share")
        max_share = None
        if cap is not None:
            if isinstance(cap, bool) or not isinstance(cap, int | float) or not 0 < cap <= 100:
                check.fail(
                    f"{where}max_share", f"doit être un pourcentage de 1 à 100 (trouvé : {cap!r})"
                )
            else:
                max_share = Decimal(str(cap))
        for key in sorted(set(table) - {"code", "label", "group", "max_share"}):
            check.fail(f"{where}{key}", "clé inconnue (attendu : code, label, group, max_share)")
        funders.append(Funder(code=code, label=label, group=group, max_share=max_share))
    return tuple(funders)


def _deliberations(value: object, check: _Checker) -> tuple[Deliberation, ...]:
    if not isinstance(value, list):
        check.fail("deliberations", "doit être une liste de [[deliberations]]")
        return ()
    result = []
    for where, table in check.tables(value, "deliberations"):
        acte = check.text(table, "acte", where)
        dates = []
        for key in ("teletransmission", "reception"):
            date = table.get(key)
            if date is not None and not isinstance(date, dt.date):
                check.fail(f"{where}{key}", f"doit être une date AAAA-MM-JJ (trouvé : {date!r})")
                date = None
            dates.append(date)
        result.append(Deliberation(acte, dates[0], dates[1]))
    return tuple(result)


def settings_from_json(data: dict[str, Any], path: Path | None = None) -> Settings:
    """The inverse of ``Settings.to_dict``: the dates of its deliberations are ISO text."""
    data = json.loads(json.dumps(data))  # a copy: the caller's data stays as it was
    for entry in data.get("deliberations", []):
        for key in ("teletransmission", "reception"):
            if isinstance(entry.get(key), str):
                entry[key] = dt.date.fromisoformat(entry[key])
    return settings_from_dict(data, path)


def extended_settings(settings: Settings, names: Sequence[str], group: str) -> Settings:
    """The settings plus a funder for each name, in ``group`` (checked like a settings file)."""
    data = settings.to_dict()
    for name in names:
        data["funders"].append({"code": name, "label": name, "group": group})
    return replace(settings_from_json(data, settings.path), path=None)
