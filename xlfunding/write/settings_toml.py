"""The settings written as a TOML file that ``load_settings`` reads back to equal settings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from xlfunding.settings import Settings, load_settings
from xlfunding.write.output import atomic_path, check_output


def settings_toml(settings: Settings) -> str:
    """The settings as a file ``load_settings`` reads back to equal settings."""
    data = settings.to_dict()
    out = [
        f"# Paramètres de la programmation politique de la ville — {settings.commune} "
        f"{settings.year}.",
        "# Écrit par xlfunding ; passez-le aux commandes avec --settings FICHIER.",
        "",
        f"axes = {_array(data['axes'])}",
        f"sponsors = {_array(data['sponsors'])}",
        f"groups = {_array(data['groups'])}",
        "",
        "[programme]",
    ]
    out += [f"{key} = {_value(value)}" for key, value in data["programme"].items()]
    for funder in data["funders"]:
        out += ["", "[[funders]]"]
        out += [f"{key} = {_value(value)}" for key, value in funder.items()]
    for entry in data["deliberations"]:
        out += ["", "[[deliberations]]"]
        for key, value in entry.items():
            out.append(f"{key} = {value if key != 'acte' else _value(value)}")
    if data.get("decision"):
        out += ["", "[decision]"]
        out += [f"{k} = {v if k == 'date' else _value(v)}" for k, v in data["decision"].items()]
    for name, identity in data.get("identity", {}).items():
        out += ["", f"[identity.{_value(name)}]"]
        out += [f"{key} = {_value(value)}" for key, value in identity.items()]
    return "\n".join(out) + "\n"


def write_settings(
    settings: Settings,
    path: Path | str,
    *,
    force: bool = False,
    inputs: Sequence[Path | None] = (),
) -> Path:
    """Write ``settings_toml`` atomically, after checking it reads back to the same settings."""
    path = Path(path)
    check_output(path, force=force, inputs=[*inputs, settings.path])
    with atomic_path(path) as temporary:
        temporary.write_text(settings_toml(settings), encoding="utf-8")
        if replace(load_settings(temporary), path=None) != replace(settings, path=None):
            raise RuntimeError(f"{path} : les paramètres écrits ne se relisent pas à l'identique")
    return path


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def _array(values: Sequence[str]) -> str:
    """One item a line when the array would be long."""
    items = [_value(v) for v in values]
    if sum(len(i) + 2 for i in items) <= 80:
        return "[" + ", ".join(items) + "]"
    return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
