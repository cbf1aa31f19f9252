"""French for typer's own words (usage line, help option, panel titles, error hints).

Typer vendors click with its English strings written in; the few a user sees are replaced
here, through command classes rather than by editing typer's modules.
"""

from __future__ import annotations

from typing import Any

import typer.core
import typer.rich_utils as rich_utils

rich_utils.ARGUMENTS_PANEL_TITLE = "Arguments"
rich_utils.OPTIONS_PANEL_TITLE = "Options"
rich_utils.COMMANDS_PANEL_TITLE = "Commandes"
rich_utils.ERRORS_PANEL_TITLE = "Erreur"
rich_utils.ABORTED_TEXT = "Interrompu."
rich_utils.RICH_HELP = "Voir [blue]'{command_path} {help_option}'[/] pour l'aide."
rich_utils.DEFAULT_STRING = "[défaut : {}]"
rich_utils.REQUIRED_LONG_STRING = "[obligatoire]"

USAGE = "Utilisation : "
HELP = "Affiche cette aide et quitte."


class _French:
    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP
        return option


class FrenchCommand(_French, typer.core.TyperCommand):
    pass


class FrenchGroup(_French, typer.core.TyperGroup):
    pass
