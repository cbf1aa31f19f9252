"""Problems in the data are records, collected into a Report; never exceptions.

Each code has a severity and a short French title; each problem carries the file, sheet and
cell where it is, the value found and a French message that says how to fix it.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlfunding.errors import XlfundingError
from xlfunding.model import Action


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


E, W = Severity.ERROR, Severity.WARNING

# code -> (severity, French title). The catalogue is documented in the README.
CODES: dict[str, tuple[Severity, str]] = {
    # file-level: the file cannot be read as a template of this programme
    "not-an-xlsx": (E, "Pas un classeur .xlsx"),
    "unreadable-file": (E, "Fichier illisible"),
    "hostile-file": (E, "Fichier refusé par prudence"),
    "not-a-template": (E, "Pas un modèle xlfunding"),
    "wrong-programme": (E, "Modèle d'une autre programmation"),
    "open-in-excel": (W, "Fichier de verrouillage Excel ignoré"),
    "hidden-file": (W, "Fichier caché ignoré"),
    # cell-level
    "missing-value": (E, "Valeur obligatoire manquante"),
    "missing-column": (E, "Colonne du modèle manquante"),
    "unknown-axis": (E, "Axe inconnu"),
    "unknown-sponsor": (E, "Porteur inconnu"),
    "sponsor-not-allowed": (E, "Porteur différent de celui du modèle"),
    "value-normalised": (W, "Valeur corrigée automatiquement"),
    "invalid-amount": (E, "Montant illisible"),
    "negative-amount": (E, "Montant négatif"),
    "too-many-decimals": (E, "Plus de deux décimales"),
    "total-not-positive": (E, "Coût total nul"),
    "no-funder": (E, "Aucun financeur"),
    "funders-do-not-add-up": (E, "Financements différents du coût total"),
    "duplicate-title": (E, "Intitulé en double"),
    "text-too-long": (E, "Texte trop long"),
    "formula-without-value": (E, "Formule sans valeur enregistrée"),
    "excel-error": (E, "Erreur Excel dans une cellule"),
    "not-text": (E, "Texte attendu"),
    "share-above-cap": (W, "Part d'un financeur au-dessus du plafond"),
    "missing-description": (W, "Description manquante"),
    "duplicate-description": (W, "Description identique à une autre action"),
    "row-below-table": (W, "Ligne saisie sous le tableau"),
    "no-actions": (W, "Aucune action"),
    # consolidation
    "duplicate-action": (E, "Action envoyée deux fois"),
    "duplicate-file": (W, "Même fichier envoyé deux fois"),
    "superseded-file": (W, "Retour remplacé par un plus récent"),
    # import of last year's annex (text or annex workbook)
    "unknown-funder": (E, "Financeur inconnu"),
    "line-not-understood": (E, "Ligne non importée"),
    "annex-total-mismatch": (E, "Total de l'annexe différent des actions importées"),
    "budget-text-mismatch": (E, "Texte du budget différent des montants"),
    # hostile files (#6): read, but what the sender sees differs from what is read
    "hidden-row": (W, "Ligne masquée lue quand même"),
}


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    file: Path | None = None
    sheet: str | None = None
    cell: str | None = None
    value: object = None
    severity: Severity = field(default=E)

    @classmethod
    def make(
        cls,
        code: str,
        message: str,
        *,
        file: Path | None = None,
        sheet: str | None = None,
        cell: str | None = None,
        value: object = None,
    ) -> Problem:
        return cls(code, message, file, sheet, cell, value, CODES[code][0])

    @classmethod
    def from_error(cls, error: XlfundingError) -> Problem:
        severity = CODES.get(error.code, (E, ""))[0]
        return cls(error.code, error.text, error.path, None, None, None, severity)

    @property
    def title(self) -> str:
        return CODES.get(self.code, (self.severity, self.code))[1]

    @property
    def row(self) -> int | None:
        """The row number of ``cell`` ("E7" -> 7, "ligne 9" -> 9), or None."""
        digits = "".join(ch for ch in self.cell or "" if ch.isdigit())
        return int(digits) if digits else None

    @property
    def where(self) -> str:
        """``'Actions'!F7`` (sheet quoted as Excel does), or the sheet, or the place alone
        ("ligne 9" of a text file), or ""."""
        if self.sheet and self.cell:
            return f"{quote_sheet(self.sheet)}!{self.cell}"
        return self.sheet or self.cell or ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "file": str(self.file) if self.file else None,
            "sheet": self.sheet,
            "cell": self.cell,
            "value": json_value(self.value),
            "message": self.message,
        }


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def json_value(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


@dataclass
class Report:
    """What reading and checking one or more files found: the actions and the problems."""

    files: list[Path] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unreadable: list[Path] = field(default_factory=list)
    rejected: list[tuple[Path, int]] = field(default_factory=list)  # (file, row) not accepted

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def valid(self) -> bool:
        return not self.errors and not self.unreadable

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(p.code for p in self.problems).items()))

    def extend(self, other: Report) -> None:
        self.files.extend(other.files)
        self.actions.extend(other.actions)
        self.problems.extend(other.problems)
        self.unreadable.extend(other.unreadable)
        self.rejected.extend(other.rejected)

    def add(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape (documented in the README, ``"format": 1``)."""
        return {
            "format": 1,
            "valid": self.valid,
            "files": [str(f) for f in self.files],
            "unreadable": [str(f) for f in self.unreadable],
            "counts": {
                "actions": len(self.actions),
                "rejected_rows": len(self.rejected),
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "by_code": self.counts(),
            },
            "problems": [p.to_dict() for p in self.problems],
        }
