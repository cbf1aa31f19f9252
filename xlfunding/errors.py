"""Exceptions: for misuse and unreadable input only. Bad data is a Problem, never an exception.

Each class's docstring is its French message; the file it concerns is always named.
"""

from __future__ import annotations

from pathlib import Path


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
        """The French sentence, naming the file."""
        return f"{self.path} : {self.text}" if self.path is not None else self.text


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


class OutputError(XlfundingError, OSError):
    """Impossible d'écrire ce fichier."""

    code = "output-error"
