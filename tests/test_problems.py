"""The catalogue of problem codes: each a record with its severity, title and templates."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from xlfunding.problems import CODES, Problem, Severity

PACKAGE = Path(__file__).resolve().parent.parent / "xlfunding"
SOURCE = "\n".join(
    path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py") if path.name != "problems.py"
)


def fields(template: str) -> set[str]:
    return {name.split(".")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", list(CODES))
def test_each_code_is_raised_somewhere(code: str) -> None:
    assert f'"{code}"' in SOURCE


@pytest.mark.parametrize(("code", "variant"), [(c, v) for c in CODES for v in CODES[c].templates])
def test_each_template_fills_and_reads_as_a_sentence(code: str, variant: str) -> None:
    kind = CODES[code]
    template = kind.templates[variant]
    values = {name: "X" for name in fields(template)}
    if "when" in values:  # a date with its format
        import datetime as dt

        values["when"] = dt.datetime(2025, 1, 2, 3, 4, 5)  # type: ignore[assignment]
    text = kind.text(variant, **values)
    assert text.strip() and "{" not in text
    assert kind.severity in (Severity.ERROR, Severity.WARNING) and kind.title


def test_make_fills_the_template_and_starts_with_a_capital() -> None:
    problem = Problem.make("duplicate-title", file=Path("r.xlsx"), sheet="Actions", cell="B7",
                           value="Atelier", sponsor="CCAS")
    assert problem.message.startswith("Le porteur CCAS a une autre action de même intitulé")
    assert (problem.severity, problem.where) == (Severity.ERROR, "'Actions'!B7")
    assert Problem.make("too-many-decimals", value="1,005").message.startswith("1,005 a plus")


def test_a_missing_field_is_a_bug_not_a_silent_blank() -> None:
    with pytest.raises(KeyError):
        Problem.make("duplicate-title", value="Atelier")  # no sponsor given
