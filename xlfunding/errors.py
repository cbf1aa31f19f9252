"""Exceptions: for misuse and unreadable input only. Bad data is a Problem, never an exception.

Each class's docstring is its French message; the file it concerns is always named.
"""

from __future__ import annotations

from pathlib import Path

from xlfunding.text import shown


class XlfundingError(Exception):
    """Erreur xlfunding."""

    code = "error"

    def __init__(self, path: Path | str | None = None, detail: str = "") -> None:
        self.path = Path(path) if path is not None else None
        self.detail = detail
        super().__init__(self.message)

    @property
    def text(self) -> str:
        """The French sentence without the file name."""
        text = (self.__doc__ or "").strip()
        return f"{text.rstrip('.')} : {self.detail}" if self.detail else text

    @property
    def message(self) -> str:
        """The French sentence, naming the file (escaped when its name is not valid UTF-8)."""
        return shown(f"{self.path} : {self.text}" if self.path is not None else self.text)


class SettingsError(XlfundingError, ValueError):
    """Fichier de paramètres invalide."""

    code = "bad-settings"


class UnreadableFile(XlfundingError, ValueError):
    """Ce fichier ne peut pas être lu."""

    code = "unreadable-file"


class NotAnXlsx(UnreadableFile):
    """Ce fichier n'est pas un classeur Excel .xlsx."""

    code = "not-an-xlsx"


class HostileFile(UnreadableFile):
    """Ce fichier a été refusé par prudence."""

    code = "hostile-file"


class NotATemplate(UnreadableFile):
    """Ce classeur n'est pas un modèle xlfunding."""

    code = "not-a-template"


class WrongProgramme(UnreadableFile):
    """Ce modèle n'a pas été fait pour cette programmation."""

    code = "wrong-programme"


class NotAnAnnex(NotATemplate):
    """Ce classeur n'est pas une annexe écrite par xlfunding."""

    code = "not-an-annex"


class OutputError(XlfundingError, OSError):
    """Impossible d'écrire ce fichier."""

    code = "output-error"


# -- misuse: what the caller asked cannot be done; the command line renders these --------------
class Misuse(XlfundingError, ValueError):
    """Demande impossible."""

    code = "misuse"

    @property
    def text(self) -> str:
        """The detail is the whole sentence (« porteur inconnu « CAF » (connus : …) »)."""
        return self.detail or super().text


class UnknownSponsor(Misuse):
    """Porteur inconnu."""

    code = "unknown-sponsor"


class UnknownGroup(Misuse):
    """Groupe de financeurs inconnu."""

    code = "unknown-group"


class UnknownFunder(Misuse):
    """Financeur inconnu."""

    code = "unknown-funder-name"


class ActionNotWritable(Misuse):
    """Cette action ne peut pas être écrite dans l'annexe."""

    code = "action-not-writable"


# -- the environment ---------------------------------------------------------------------------
class LibreOfficeMissing(XlfundingError, RuntimeError):
    """LibreOffice n'est pas installé (paquet Debian libreoffice-calc-nogui)."""

    code = "libreoffice-missing"


class ConversionFailed(XlfundingError, RuntimeError):
    """LibreOffice n'a pas pu convertir ce fichier."""

    code = "conversion-failed"


# -- our own mistakes: never the data's --------------------------------------------------------
class ConsolidationBug(RuntimeError):
    """Erreur interne de xlfunding : le bilan de la consolidation ne tombe pas juste. Aucune
    annexe n'a été écrite ; signalez ce message."""
