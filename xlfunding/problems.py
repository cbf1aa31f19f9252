"""Problems in the data are records, collected into a Report; never exceptions.

Each code is one record (``Kind``), as frictionless' error classes are: its code, severity,
short French title and French message template, which says what is wrong and how to fix it.
The code that finds a problem fills the template's fields (``Problem.make(code, value=...,
header=...)``): every sentence a sender reads is written here, once. A code found in more than
one situation (a template's cell, a line of last year's annex) has one template per situation,
by name. Each problem carries the file, sheet and cell where it is and the value found.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlfunding.errors import XlfundingError
from xlfunding.model import Action
from xlfunding.text import json_value, quote_sheet


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


E, W = Severity.ERROR, Severity.WARNING
_IMPORTED = "Corrigez-le dans le modèle importé (la colonne « Écart » doit revenir à 0)."
_BUDGET_TEXT = (
    " Les montants des colonnes ont été importés : vérifiez lequel est juste et corrigez le "
    "modèle importé si besoin."
)
_RESAVE = "enregistrez-le de nouveau au format .xlsx dans Excel et renvoyez-le."


@dataclass(frozen=True)
class Kind:
    """One problem code. ``templates[""]`` is the message; other names are the same code met
    in another situation, or a part of a message (``text("difference", ...)``)."""

    code: str
    severity: Severity
    title: str
    templates: Mapping[str, str]

    def text(self, variant: str = "", **fields: object) -> str:
        return self.templates[variant].format(**fields)


def _kind(code: str, severity: Severity, title: str, template: str, **variants: str) -> Kind:
    names = {name.replace("_", "-"): text for name, text in variants.items()}
    return Kind(code, severity, title, {"": template, **names})


# A table: a record in a few lines reads better than a field a line.
# fmt: off
_CATALOGUE = (
    # file-level: the file cannot be read as a template of this programme
    _kind("not-an-xlsx", E, "Pas un classeur .xlsx", "{reason}"),
    _kind("unreadable-file", E, "Fichier illisible",
        "{reason}",
        died="Illisible : {why}. Ouvrez-le dans Excel, " + _RESAVE,
        crashed="La lecture a échoué ({error} : {detail}) : " + _RESAVE),
    _kind("hostile-file", E, "Fichier refusé par prudence", "{reason}"),
    _kind("not-a-template", E, "Pas un modèle xlfunding", "{reason}"),
    _kind("wrong-programme", E, "Modèle d'une autre programmation", "{reason}"),
    _kind("open-in-excel", W, "Fichier de verrouillage Excel ignoré",
        "Fichier de verrouillage d'Excel : un classeur (sans doute « {workbook} ») était ouvert "
        "pendant la consolidation. Il a été lu tel qu'enregistré ; relancez quand il sera fermé."),
    _kind("hidden-file", W, "Fichier caché ignoré",
        "Fichier caché (système ou temporaire) : il n'a pas été lu. Si c'est un retour, "
        "renommez-le sans point au début."),
    # cell-level
    _kind("missing-value", E, "Valeur obligatoire manquante",
        "« {header} » est obligatoire : remplissez cette cellule.",
        import_axis="Cette action n'est sous aucun axe : choisissez son axe dans le modèle "
        "importé.",
        import_sponsor="Le porteur de cette action manque : choisissez-le dans le modèle "
        "importé."),
    _kind("missing-column", E, "Colonne du modèle manquante",
        "La colonne « {header} » a disparu de la ligne d'en-tête {row} : reprenez le modèle "
        "officiel, sans supprimer ni renommer de colonne."),
    _kind("unknown-axis", E, "Axe inconnu",
        "« {value} » n'est pas un axe de la programmation : choisissez-en un dans la liste "
        "déroulante.",
        imported="« {value} » n'est pas un axe des paramètres ({axes}). Les actions qui suivent "
        "sont importées avec cet axe : choisissez le bon dans le modèle importé, ou corrigez les "
        "paramètres."),
    _kind("unknown-sponsor", E, "Porteur inconnu",
        "« {value} » n'est pas un porteur connu ({sponsors}) : choisissez-le dans la liste "
        "déroulante.",
        imported="« {value} » n'est pas un porteur des paramètres ({sponsors}) : l'action est "
        "importée avec ce porteur ; choisissez le bon dans le modèle importé, ou corrigez les "
        "paramètres."),
    _kind("sponsor-not-allowed", E, "Porteur différent de celui du modèle",
        "Ce modèle est celui du porteur {locked} : une action de « {value} » doit être envoyée "
        "dans le modèle de ce porteur.",
        link="Ce modèle est celui du porteur {locked} : il ne peut pas être déposé avec le lien "
        "de « {value} ». Déposez le modèle de votre structure, ou demandez-le à {contact}."),
    _kind("value-normalised", W, "Valeur corrigée automatiquement",
        "« {text} » a été lu comme « {canonical} » (espaces, majuscules ou caractères invisibles "
        "corrigés) ; choisissez la valeur dans la liste déroulante.", amount="« {text} » est "
        "un texte, lu comme {euros} : vérifiez ce montant et tapez-le comme un nombre."),
    _kind("invalid-amount", E, "Montant illisible",
        "« {value} » n'est pas un montant lisible : {reason}. Tapez un nombre, par exemple 4500 "
        "ou 4500,50.", date="« {value} » est une date (enregistrée comme {number}) : tapez un "
        "montant.", percent="« {value} » est un pourcentage (soit {number}) : tapez un montant."),
    _kind("negative-amount", E, "Montant négatif",
        "Un montant ne peut pas être négatif ({value}) : tapez un montant positif."),
    _kind("too-many-decimals", E, "Plus de deux décimales",
        "{value} a plus de deux décimales : arrondissez au centime."),
    _kind("total-not-positive", E, "Coût total nul",
        "Le coût total est nul : indiquez le coût de l'action."),
    _kind("no-funder", E, "Aucun financeur",
        "Aucun financeur n'est indiqué : répartissez le coût total entre les colonnes des "
        "financeurs."),
    _kind("funders-do-not-add-up", E, "Financements différents du coût total",
        "Il manque {gap} de financements : le coût total est {total}, les financeurs totalisent "
        "{funded}. Complétez un financement ou corrigez le coût.",
        excess="Les financements dépassent le coût total de {gap} : le coût total est {total}, "
        "les financeurs totalisent {funded}. Corrigez un financement ou le coût.",
        imported="Les financeurs totalisent {funded} pour un coût total de {total} (écart "
        "{gap}). " + _IMPORTED,
        imported_cost_wrong="Les financeurs totalisent {funded} pour un coût total de {total} "
        "(écart {gap}). Le TOTAL de l'annexe ({place}) s'accorde avec les financements : c'est "
        "sans doute le coût total qui est faux. " + _IMPORTED,
        imported_funder_wrong="Les financeurs totalisent {funded} pour un coût total de {total} "
        "(écart {gap}). Le total « {group} » de l'annexe ({place}) s'accorde avec le coût total "
        ": c'est sans doute un montant du groupe {group} qui est faux. " + _IMPORTED),
    _kind("duplicate-title", E, "Intitulé en double",
        "Le porteur {sponsor} a une autre action de même intitulé : donnez à chaque action un "
        "intitulé distinct, ou fusionnez les lignes."),
    _kind("text-too-long", E, "Texte trop long",
        "Le texte fait {length} caractères ; {limit} au plus : raccourcissez-le."),
    _kind("formula-without-value", E, "Formule sans valeur enregistrée",
        "La formule {formula} n'a pas de valeur enregistrée : ouvrez le fichier dans Excel, "
        "recalculez (F9) et enregistrez, ou tapez la valeur.", shared="La cellule reprend une "
        "formule partagée, sans valeur enregistrée : recalculez-la dans Excel (F9) et enregistrez.",
        annex_total="Le total « {label} » n'a pas de valeur enregistrée : ouvrez l'annexe dans "
        "Excel, recalculez (F9) et enregistrez-la, puis relancez l'import."),
    _kind("excel-error", E, "Erreur Excel dans une cellule",
        "La cellule affiche l'erreur Excel {error} : corrigez la formule ou tapez la valeur."),
    _kind("not-text", E, "Texte attendu", "Un texte est attendu, pas VRAI/FAUX."),
    _kind("share-above-cap", W, "Part d'un financeur au-dessus du plafond",
        "{funder} financerait {share} % du coût, au-delà du plafond de {cap} % : vérifiez ce "
        "montant ou le plan de financement."),
    _kind("missing-description", W, "Description manquante",
        "L'action n'a pas de description : dites en une ou deux phrases ce qu'elle fait et pour "
        "qui."),
    _kind("duplicate-description", W, "Description identique à une autre action",
        "Même description que l'action de la ligne {row} : décrivez ce que cette action a de "
        "propre."),
    _kind("row-below-table", W, "Ligne saisie sous le tableau",
        "La ligne {row} est sous le tableau du modèle ; elle a été lue, mais saisissez les "
        "actions dans le tableau."),
    _kind("no-actions", W, "Aucune action",
        "Aucune action n'est saisie dans le tableau.",
        imported="Aucune action n'a été reconnue dans ce fichier : est-ce bien le tableau de "
        "l'annexe, une action par ligne, colonnes séparées par des tabulations ?"),
    # consolidation
    _kind("duplicate-action", E, "Action envoyée deux fois",
        "Action déjà envoyée dans « {kept} » (ligne {row}), à l'identique : elle n'est reprise "
        "qu'une fois, depuis le fichier le plus récent. Retirez-la de l'un des deux fichiers.",
        different="Action déjà envoyée dans « {kept} » (ligne {row}), avec des différences : "
        "elle n'est reprise qu'une fois, depuis le fichier le plus récent. Retirez-la de l'un "
        "des deux fichiers."),
    _kind("duplicate-file", W, "Même fichier envoyé deux fois",
        "Même contenu que « {original} » : lu une seule fois."),
    _kind("superseded-file", W, "Retour remplacé par un plus récent",
        "Retour remplacé par « {kept} », plus récent ({why}) : seul ce fichier compte pour le "
        "porteur {sponsor}.",
        saved="enregistré dans Excel le {when:%d/%m/%Y à %H:%M} UTC",
        modified="fichier modifié le {when:%d/%m/%Y à %H:%M:%S} UTC",
        same_dates="mêmes dates : le nom qui vient en dernier dans l'ordre alphabétique "
        "l'emporte"),
    _kind("action-dropped", W, "Action absente du retour le plus récent", "« {value} » (ligne "
        "{row}) n'est plus dans « {kept} », dernier retour de {sponsor} : elle n'est pas reprise."),
    _kind("cache-ignored", W, "Cache de la consolidation ignoré",
        "Le cache n'a pas servi ({reason}) : tous les fichiers ont été lus. Supprimez ce "
        "fichier (ou donnez --cache DOSSIER) pour qu'un nouveau cache soit créé."),
    # import of last year's annex (text or annex workbook)
    _kind("unknown-funder", E, "Financeur inconnu",
        "« {name} » n'est pas un financeur des paramètres : son montant ({amount}) n'a pas été "
        "importé. Corrigez le nom dans l'annexe et relancez l'import, ou ajoutez ce financeur "
        "avec --add-funders GROUPE.",
        nearest="« {name} » n'est pas un financeur des paramètres (vouliez-vous dire « {nearest} "
        "» ?) : son montant ({amount}) n'a pas été importé. Corrigez le nom dans l'annexe et "
        "relancez l'import, ou ajoutez ce financeur avec --add-funders GROUPE."),
    _kind("line-not-understood", E, "Ligne non importée",
        "{reason} ; la ligne est recopiée dans l'onglet « {tab} ».",
        with_budget="{reason} ; la ligne est recopiée dans l'onglet « {tab} ». Elle porte un "
        "budget de {total} : corrigez-la et relancez l'import, ou ajoutez l'action à la main "
        "dans le modèle importé."),
    _kind("annex-total-mismatch", E, "Total de l'annexe différent des actions importées",
        "{label} indique {amount}, les actions importées totalisent {imported} (écart {gap}). "
        "Un montant de l'annexe d'origine est faux, ou une action manque : vérifiez-la, puis "
        "corrigez le modèle importé.",
        explained="{label} indique {amount}, les actions importées totalisent {imported} (écart "
        "{gap}), dont {explained} viennent de montants non importés signalés par ailleurs : il "
        "reste {rest} inexpliqués. Un montant de l'annexe d'origine est faux, ou une action "
        "manque : vérifiez-la, puis corrigez le modèle importé."),
    _kind("budget-text-mismatch", E, "Texte du budget différent des montants",
        "Le texte « Budget prévisionnel » ne dit pas ce que disent les colonnes : {differences}."
        + _BUDGET_TEXT,
        unreadable="Le texte « Budget prévisionnel » est illisible : {reason}." + _BUDGET_TEXT,
        difference="{name} {text} dans le texte, {column} en colonne"),
    # hostile files (#6): read, but what the sender sees differs from what is read
    _kind("hidden-row", W, "Ligne masquée lue quand même",
        "La ligne {row} est masquée dans Excel : elle a été lue et compte dans l'annexe. "
        "Affichez-la pour la vérifier, ou supprimez-la si l'action est abandonnée."),
    # identity and open data (#14)
    _kind("invalid-siret", E, "SIRET faux",
        "« {value} » n'est pas un SIRET : {reason}. Recopiez-le de l'avis de situation SIRENE."),
    _kind("invalid-rna", E, "Numéro RNA faux",
        "« {value} » n'est pas un numéro RNA : {reason} (par exemple W621000123)."),
    _kind("missing-identity", E, "SIRET manquant pour l'export",
        "Le porteur « {name} » n'a pas de SIRET : ajoutez-le aux paramètres ([identity.\"{name}\"] "
        "siret = \"…\") ou dans la colonne « {header} » du modèle ; aucun fichier n'est écrit.",
        funder="Le financeur « {name} » n'a pas de SIRET : ajoutez-le aux paramètres "
        "([identity.\"{name}\"] siret = \"…\") ; aucun fichier n'est écrit."),
    _kind("missing-decision", E, "Date de la décision manquante", "La date de la décision "
        "manque : donnez --date-decision AAAA-MM-JJ ou [decision] date = … ; aucun fichier écrit."),
    _kind("share-too-small", E, "Part trop faible pour le format SCDL", "{funder} paie {share} % "
        "du coût : sous 1 %, le format SCDL ne permet pas de la publier ; aucun fichier écrit."),
    _kind("scdl-invalid", E, "Export refusé par le schéma SCDL",
        "Le fichier ne passe pas le schéma SCDL {version} : {detail} ; aucun fichier n'est écrit."),
)
# fmt: on


CODES: dict[str, Kind] = {kind.code: kind for kind in _CATALOGUE}


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
        *,
        file: Path | None = None,
        sheet: str | None = None,
        cell: str | None = None,
        value: object = None,
        variant: str = "",
        **fields: object,
    ) -> Problem:
        """The problem ``code`` at a place: its message is the code's template (``variant``)
        filled with ``fields`` (and ``value``, which templates may show)."""
        kind = CODES[code]
        message = kind.text(variant, value=value, **fields)
        message = message[:1].upper() + message[1:]  # a template may start with a field
        return cls(code, message, file, sheet, cell, value, kind.severity)

    @classmethod
    def from_error(cls, error: XlfundingError) -> Problem:
        kind = CODES.get(error.code)
        severity = kind.severity if kind is not None else E
        return cls(error.code, error.text, error.path, None, None, None, severity)

    @property
    def title(self) -> str:
        kind = CODES.get(self.code)
        return kind.title if kind is not None else self.code

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
