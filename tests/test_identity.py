"""SIRET and RNA checks (valid numbers pass, every single-digit error is caught) and the
identity and decision of the settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from xlfunding.errors import SettingsError
from xlfunding.identity import (
    LA_POSTE,
    Decision,
    decision_from_stamp,
    rna_mistake,
    siret_mistake,
)
from xlfunding.settings import Settings, settings_from_dict, settings_from_json

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def make_siret(siren8: str, nic4: str) -> str:
    siren = siren8 + luhn.calc_check_digit(siren8)
    return siren + nic4 + luhn.calc_check_digit(siren + nic4)


sirets = st.builds(
    make_siret,
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
).filter(lambda s: not s.startswith(LA_POSTE))
rnas = st.text(alphabet="0123456789", min_size=9, max_size=9).map(lambda d: "W" + d)


@given(sirets)
def test_a_valid_siret_passes_written_any_way(number: str) -> None:
    assert siret_mistake(number) is None
    spaced = f"{number[:3]} {number[3:6]} {number[6:9]} {number[9:]}"
    assert siret_mistake(spaced) is None


@given(sirets, st.integers(0, 13), st.integers(1, 9))
def test_every_single_digit_error_is_caught_and_located(number: str, at: int, step: int) -> None:
    wrong = number[:at] + str((int(number[at]) + step) % 10) + number[at + 1 :]
    if wrong.startswith(LA_POSTE):  # another rule applies to La Poste's numbers
        return
    reason = siret_mistake(wrong)
    assert reason is not None
    if at < 9:  # the SIREN's own key names the 9th digit it expects
        assert "le SIREN" in reason and f"devrait être {luhn.calc_check_digit(wrong[:8])}" in reason
    else:
        assert "NIC" in reason and f"devrait être {luhn.calc_check_digit(wrong[:13])}" in reason


@given(sirets, st.integers(0, 12))
def test_two_neighbours_swapped_are_caught_unless_equal_or_0_9(number: str, at: int) -> None:
    a, b = number[at], number[at + 1]
    wrong = number[:at] + b + a + number[at + 2 :]
    if a == b or {a, b} == {"0", "9"} or wrong.startswith(LA_POSTE):
        return  # Luhn's one known blind spot
    assert siret_mistake(wrong) is not None


def test_la_poste_establishments_use_the_sum_of_digits() -> None:
    assert siret_mistake("35600000000048") is None  # the head office: Luhn
    assert siret_mistake("35600000049837") is None  # an office: its digits add up to 45
    reason = siret_mistake("35600000049838")
    assert reason is not None and "multiple de 5" in reason and "devrait être 2 ou 7" in reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7328293200007", "celui-ci en a 13"),
        ("732829320000745", "celui-ci en a 15"),
        ("73282932O00074", "le 9e caractère, « O », n'est pas un chiffre"),
        (3282932000074, "un zéro au début a peut-être été perdu"),
    ],
)
def test_a_malformed_siret_says_what_is_wrong(value: object, expected: str) -> None:
    reason = siret_mistake(value)
    assert reason is not None and expected in reason


@given(rnas)
def test_a_valid_rna_passes(number: str) -> None:
    assert rna_mistake(number) is None
    assert rna_mistake(number.lower()) is None


@given(rnas, st.integers(1, 9), st.sampled_from("OIl/ A"))
def test_an_rna_with_a_character_not_a_digit_is_caught_at_its_place(
    number: str, at: int, char: str
) -> None:
    wrong = number[:at] + char + number[at + 1 :]
    reason = rna_mistake(wrong)
    if char == " ":  # a space is a separator, forgiven: a digit is then missing
        assert reason == "un numéro RNA a 9 chiffres après le W, celui-ci en a 8"
    else:
        assert reason == f"le {at + 1}e caractère, « {char.upper()} », n'est pas un chiffre"


@given(rnas, st.integers(1, 9))
def test_an_rna_with_a_digit_missing_or_added_is_caught(number: str, at: int) -> None:
    assert rna_mistake(number[:at] + number[at + 1 :]) is not None
    assert rna_mistake(number[:at] + "7" + number[at:]) is not None
    assert rna_mistake("X" + number[1:]) == "un numéro RNA commence par la lettre W"


def with_identity(settings: Settings, identity: dict, decision: dict | None = None) -> Settings:
    data = settings.to_dict()
    data["identity"] = identity
    if decision is not None:
        data["decision"] = decision
    return settings_from_json(data)


def test_the_settings_carry_identities_and_the_decision(settings: Settings) -> None:
    ville, ccas = make_siret("21620907", "0001"), make_siret("26620000", "0001")
    chosen = with_identity(
        settings,
        {
            "Ville": {"siret": ville, "legal_name": "Commune de Libercourt"},
            "CCAS": {"siret": ccas, "rna": "w621000123"},
        },
        {"reference": "DELIB-2024-1179", "date": "2024-12-18"},
    )
    assert chosen.identity("VILLE").siret == ville  # the sponsor VILLE is the funder Ville
    assert chosen.identity("ccas").rna == "W621000123"
    assert chosen.identity("CAF").siret is None
    assert chosen.decision == Decision("DELIB-2024-1179", dt.date(2024, 12, 18))
    assert chosen.fingerprint == settings.fingerprint  # identity does not change the template
    again = settings_from_json(chosen.to_dict())  # what the annex stores
    assert (again.identities, again.decision) == (chosen.identities, chosen.decision)


def test_bad_numbers_in_the_settings_are_refused_naming_the_key(settings: Settings) -> None:
    data = settings.to_dict()
    data["identity"] = {
        "CCAS": {"siret": "73282932000075", "rna": "W12"},
        "Mairie": {"siret": 5},
    }
    data["decision"] = {"date": "18/12/2024", "ref": "x"}
    with pytest.raises(SettingsError) as caught:
        settings_from_dict(data)
    text = str(caught.value)
    assert "« identity.CCAS.siret » : la clé de contrôle ne correspond pas" in text
    assert "le 14e devrait être 4" in text
    assert "« identity.CCAS.rna » : un numéro RNA a 9 chiffres après le W, celui-ci en a 2" in text
    assert "« identity.Mairie » : ni un porteur ni un financeur des paramètres" in text
    assert "« identity.Mairie.siret » : doit être un texte (trouvé : 5)" in text
    assert "« decision.date » : doit être une date AAAA-MM-JJ" in text
    assert "« decision.ref » : clé inconnue" in text


def test_the_prefecture_stamp_names_the_decision() -> None:
    found = decision_from_stamp("062-216209072-20241218-DELIB-2024-1179")
    assert found == Decision("DELIB-2024-1179", dt.date(2024, 12, 18))
    assert decision_from_stamp("062-216209072-20241318-DELIB-1") is None  # month 13
    assert decision_from_stamp("Accusé de réception") is None
    assert found.line == "Délibération DELIB-2024-1179 du 18/12/2024"


def test_identities_and_decision_survive_the_settings_file(
    settings: Settings, tmp_path: Path
) -> None:
    from xlfunding.settings import load_settings
    from xlfunding.write.settings_toml import write_settings

    chosen = with_identity(
        settings,
        {"CCAS": {"siret": make_siret("26620001", "0002"), "legal_name": "CCAS « Libercourt »"}},
        {"reference": "DELIB-2024-1179", "date": "2024-12-18"},
    )
    path = write_settings(chosen, tmp_path / "parametres.toml")  # checks it reads back equal
    again = load_settings(path)
    assert (again.identities, again.decision) == (chosen.identities, chosen.decision)
