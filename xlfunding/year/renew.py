"""Renewal: last year's actions carried into next year, and next year's settings.

The source of a renewal is a filled template (checked with the settings it was made for) or
last year's annex (imported). ``--year`` moves the settings to the new year: its year, and the
years written in its title and deadline; last year's prefecture acknowledgements are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from xlfunding.errors import NotATemplate
from xlfunding.identity import Decision
from xlfunding.model import Action
from xlfunding.money import ZERO
from xlfunding.problems import Report
from xlfunding.read.annex import NotAnAnnex
from xlfunding.settings import Settings

_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


@dataclass
class Renewal:
    """The new year's settings and actions, and what reading the source found."""

    settings: Settings
    actions: tuple[Action, ...]
    report: Report
    settings_changed: bool  # the settings differ from the given ones: write them beside
    amounts_cleared: bool


def settings_for_year(settings: Settings, year: int) -> Settings:
    """The same programme for ``year``: years in the title and deadline moved by as much."""
    delta = year - settings.year

    def shift(text: str) -> str:
        return _YEAR.sub(lambda m: str(int(m.group()) + delta), text)

    return replace(
        settings,
        year=year,
        title=shift(settings.title),
        deadline=shift(settings.deadline),
        deliberations=(),
        decision=Decision(),  # last year's council decision is not next year's
        path=None,
    )


def renew(
    source: Path | str | None,
    settings: Settings,
    *,
    year: int | None = None,
    clear_amounts: bool = False,
) -> Renewal:
    """Read ``source`` (a filled template of ``settings``, or an annex: text or workbook) and
    carry its actions into ``year``; ``clear_amounts`` leaves every amount to the sponsors.
    Actions are taken only from a source without errors: check ``report.valid`` first."""
    report = Report() if source is None else read_source(Path(source), settings)
    new = settings if year is None or year == settings.year else settings_for_year(settings, year)
    actions = tuple(_carried(a, clear_amounts) for a in report.actions) if report.valid else ()
    return Renewal(new, actions, report, new is not settings, clear_amounts)


def read_source(path: Path, settings: Settings) -> Report:
    """A filled template is validated; anything else is imported as an annex."""
    from xlfunding.validate import validate_file
    from xlfunding.year.importer import import_annex, source_kind

    if source_kind(path) == "xlsx":
        try:
            return validate_file(path, settings)
        except NotATemplate:
            pass
        try:
            return import_annex(path, settings).report
        except NotAnAnnex as exc:
            raise NotATemplate(
                path, "ni un modèle rempli, ni une annexe écrite par xlfunding"
            ) from exc
    return import_annex(path, settings).report


def _carried(action: Action, clear_amounts: bool) -> Action:
    if not clear_amounts:
        return replace(action, source=None)
    return replace(action, total=ZERO, funding={}, source=None)
