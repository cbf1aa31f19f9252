"""The SCDL « Subventions » rows of a programme: one per action a publishing funder pays.

The schema is OpenDataFrance's version 2.1.1 (décret n° 2017-779), vendored as
``xlfunding/data/scdl-subventions-2.1.1.json`` (its source and checksum are in the ``.SOURCE.txt``
beside it). A row: the funder (``nomAttribuant``, ``idAttribuant`` its SIRET), the council's
decision (``dateConvention``, ``referenceDecision``), the sponsor (``nomBeneficiaire``,
``idBeneficiaire``, ``rnaBeneficiaire``), the action's title (``objet``), the funder's own share
(``montant``) and that share of the action's cost (``pourcentageSubvention``), then the fixed
values: « aide en numéraire », versement « unique » over the decision's date to the end of the
programme's year, notificationUE « non » unless set, dispositifAide « Politique de la ville ».

A convention is required, and publication due, when one funder's grants to one beneficiary
reach 23 000 € in the year, over all its actions (``THRESHOLD``): by default only those pairs
are exported. What is missing to publish (a SIRET, the decision's date) is a Problem, and then
no row is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path

from xlfunding import layout as L
from xlfunding.errors import UnknownFunder
from xlfunding.identity import Decision
from xlfunding.model import Action, Programme
from xlfunding.money import ZERO
from xlfunding.problems import Problem
from xlfunding.render import neutralise
from xlfunding.settings import Settings
from xlfunding.text import name_key
from xlfunding.threshold import Pair, pairs

SCHEMA_FILE = "scdl-subventions-2.1.1.json"
SCHEMA_VERSION = "2.1.1"
FIELDS = (
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
)
NATURE = "aide en numéraire"
CONDITIONS = "unique"
DISPOSITIF = "Politique de la ville"
SHARE_PLACES = Decimal("0.0001")
MIN_SHARE = Decimal("0.01")
# The column of the template that would carry a sponsor's SIRET, named in the problem.
SIRET_HEADER = L.OPTIONAL_HEADERS["siret"]


def schema_path() -> Path:
    return Path(str(resources.files("xlfunding") / "data" / SCHEMA_FILE))


def publishing_funders(settings: Settings) -> tuple[str, ...]:
    """The funders whose identity the settings give with a SIRET: those that publish."""
    return tuple(f.code for f in settings.funders if settings.identity(f.code).siret)


def funder_code(settings: Settings, name: str) -> str:
    """The funder ``name`` designates (case and accents forgiven); ``UnknownFunder`` if none."""
    for code in settings.funder_codes:
        if name_key(code) == name_key(name):
            return code
    known = ", ".join(settings.funder_codes)
    raise UnknownFunder(None, f"financeur inconnu « {name} » (financeurs : {known})")


@dataclass
class Export:
    """The rows of an export, what stands in the way of publishing them, and the pairs."""

    funders: tuple[str, ...]
    everything: bool
    rows: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)  # of these funders, due or not

    @property
    def due(self) -> list[Pair]:
        return [p for p in self.pairs if p.due]

    def total(self, funder: str | None = None) -> Decimal:
        """The sum of the exported montants (of one funder's rows), exact."""
        return sum(
            (Decimal(r["montant"]) for r in self.rows if funder is None or r["_funder"] == funder),
            ZERO,
        )


def scdl_export(
    programme: Programme,
    funders: Sequence[str],
    *,
    decision: Decision | None = None,
    everything: bool = False,
    notification_ue: bool = False,
) -> Export:
    """The SCDL rows of ``funders`` (codes): every grant with ``everything``, otherwise those of
    the pairs that reach the threshold. ``decision`` defaults to the settings' decision."""
    settings = programme.settings
    decision = decision or settings.decision
    export = Export(tuple(funders), everything, pairs=pairs(programme, funders))
    chosen = {(p.funder, p.beneficiary) for p in export.pairs if everything or p.due}
    where = settings.path
    if decision.date is None:
        export.problems.append(Problem.make("missing-decision", file=where))
    for code in funders:
        if not settings.identity(code).siret:
            export.problems.append(
                Problem.make("missing-identity", file=where, variant="funder", name=code)
            )
    for sponsor in dict.fromkeys(p.beneficiary for p in export.pairs if p.funder in funders):
        mine = [a for a in programme.actions if a.sponsor == sponsor]
        exported = [a for a in mine if _exported(a, funders, chosen)]
        if exported and not settings.identity(sponsor).siret and not all(a.siret for a in exported):
            export.problems.append(
                Problem.make("missing-identity", file=where, name=sponsor, header=SIRET_HEADER)
            )
    for action in programme.actions:
        for code in funders:
            amount = action.amount(code)
            if not _exported(action, [code], chosen):
                continue
            share = (amount / action.total).quantize(SHARE_PLACES, ROUND_HALF_UP)
            if share < MIN_SHARE:
                export.problems.append(_at_action(action, code, share * 100))
            row = _row(settings, decision, action, code, amount, share, notification_ue)
            export.rows.append(row)
    if export.problems:
        export.rows.clear()
    return export


def _exported(action: Action, funders: Sequence[str], chosen: set[tuple[str, str]]) -> bool:
    """One of ``funders`` pays ``action`` and its pair with the sponsor is exported: a row."""
    return any(action.amount(f) and (f, action.sponsor) in chosen for f in funders)


def _at_action(action: Action, code: str, percent: Decimal) -> Problem:
    source = action.source
    return Problem.make(
        "share-too-small",
        file=source.file if source else None,
        sheet=source.sheet if source else None,
        cell=source.cell("total") if source else None,
        value=action.title,
        funder=code,
        share=f"{percent.normalize():f}".replace(".", ","),
    )


def _row(
    settings: Settings,
    decision: Decision,
    action: Action,
    code: str,
    amount: Decimal,
    share: Decimal,
    notification_ue: bool,
) -> dict[str, str]:
    funder, sponsor = settings.identity(code), settings.identity(action.sponsor)
    date = decision.date or dt.date(settings.year, 1, 1)
    end = dt.date(settings.year, 12, 31)
    row = {
        "_funder": code,
        "nomAttribuant": funder.legal_name or code,
        "idAttribuant": funder.siret or "",
        "dateConvention": date.isoformat(),
        "referenceDecision": decision.reference or "",
        "nomBeneficiaire": sponsor.legal_name or action.sponsor,
        "idBeneficiaire": sponsor.siret or action.siret,  # the settings', or its template's
        "rnaBeneficiaire": sponsor.rna or action.rna,
        "objet": action.title,
        "montant": f"{amount:.2f}",
        "nature": NATURE,
        "conditionsVersement": CONDITIONS,
        "datesPeriodeVersement": f"{date}/{end}" if date < end else date.isoformat(),
        "idRAE": "",
        "notificationUE": "oui" if notification_ue else "non",
        "pourcentageSubvention": f"{share:f}",
        "dispositifAide": DISPOSITIF,
    }
    # a text that a spreadsheet would run (« =… », « +… », « @… ») stays text (OWASP rule)
    return {key: neutralise(value) for key, value in row.items()}
