"""Programme settings: the bundled Libercourt 2025 file, another city's file, and bad files."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from seeddata import FIGURES
from typer.testing import CliRunner

from xlfunding.cli import app
from xlfunding.errors import SettingsError
from xlfunding.settings import default_settings_path, load_settings, settings_from_dict

ROOT = Path(__file__).parent.parent


def test_bundled_settings_are_libercourt_2025_as_in_the_seed(settings):
    assert (settings.year, settings.commune, settings.qpv) == (2025, "Libercourt", "La Haute Voie")
    assert settings.title == "Proposition programmation politique de la ville 2025"
    assert settings.annex_label == "Annexe n°2"
    assert list(settings.axes) == FIGURES["axes"]
    assert list(settings.groups) == FIGURES["summary_groups"]["order"]
    for group, members in FIGURES["summary_groups"]["members"].items():
        assert sorted(settings.group_members(group)) == sorted(members)
    for code in ("Ville", "CCAS", "ANCT", "Région", "CAF"):
        assert settings.group_members(code) == (code,)
    assert settings.funder("ANCT").max_share == Decimal(80)


def test_the_packaged_default_is_the_file_under_templates():
    assert (
        default_settings_path().read_bytes()
        == (ROOT / "templates" / "libercourt-2025.toml").read_bytes()
    )


def _libercourt() -> dict:
    return tomllib.loads((ROOT / "templates" / "libercourt-2025.toml").read_text("utf-8"))


def test_another_city_writes_its_own_settings_without_code():
    data = {
        "axes": ["Cohésion sociale", "Cadre de vie"],
        "sponsors": ["Centre social", "Mairie"],
        "groups": ["État", "Département", "Fonds propres"],
        "programme": {
            "year": 2026,
            "commune": "Autreville",
            "qpv": "Les Tilleuls",
            "title": "Programmation 2026",
            "annex_label": "Annexe 1",
        },
        "funders": [
            {"code": "ANCT", "group": "État"},
            {"code": "Département", "group": "Département"},
            {"code": "Fonds propres", "group": "Fonds propres"},
        ],
    }
    settings = settings_from_dict(data)
    assert settings.funder_codes == ("ANCT", "Département", "Fonds propres")
    assert settings.fingerprint != load_settings().fingerprint


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["funders"][0].update(group="Inconnu"),
            "« funders[1].group » : le groupe « Inconnu » n'est pas dans « groups »",
        ),
        (
            lambda d: d["funders"].append({"code": "ANCT", "group": "ANCT"}),
            "« funders[12].code » : le financeur « ANCT » est en double",
        ),
        (lambda d: d.update(axes=[]), "« axes » : doit être une liste non vide de textes"),
        (
            lambda d: d["programme"].update(year="2025"),
            "« programme.year » : doit être une année, par exemple 2025 (trouvé : '2025')",
        ),
        (
            lambda d: d["funders"][3].update(max_share="80 %"),
            "« funders[4].max_share » : doit être un pourcentage de 1 à 100",
        ),
        (lambda d: d["groups"].append("Vide"), "le groupe « Vide » n'a aucun financeur"),
        (lambda d: d.update(porteurs=["x"]), "« porteurs » : clé inconnue"),
    ],
)
def test_a_bad_settings_file_names_the_file_and_the_key(tmp_path, change, expected):
    data = _libercourt()
    change(data)
    path = tmp_path / "ville.toml"
    path.write_text(_dump_toml(data), encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert str(path) in caught.value.message
    assert expected in caught.value.message


def test_bad_settings_on_the_command_line_exit_2_in_french(tmp_path):
    path = tmp_path / "cassé.toml"
    path.write_text("[programme\nyear = 2025", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["template", "-o", str(tmp_path / "m.xlsx"), "--settings", str(path)]
    )
    assert result.exit_code == 2
    assert str(path) in result.stderr
    assert "ce n'est pas du TOML valide" in result.stderr
    assert "Traceback" not in result.output


def _dump_toml(data: dict) -> str:
    """A tiny TOML writer for the shapes the settings use (tests only)."""

    def value(v):
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    lines = [
        f"{k} = {value(v)}"
        for k, v in data.items()
        if not isinstance(v, dict | list)
        or (isinstance(v, list) and not (v and isinstance(v[0], dict)))
    ]
    for key, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {value(v)}" for k, v in table.items()]
    for key, tables in data.items():
        if isinstance(tables, list) and tables and isinstance(tables[0], dict):
            for table in tables:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def test_a_group_is_found_by_its_name_case_and_accents_forgiven(settings) -> None:  # type: ignore[no-untyped-def]
    from xlfunding.errors import UnknownGroup

    assert settings.group_named(" caf ") == "CAF"
    assert settings.group_named("region") == "Région"
    with pytest.raises(UnknownGroup, match=r"groupe inconnu « État » \(groupes : Ville, CCAS"):
        settings.group_named("État")
