"""The typer application: every command registered, misuse rendered in one French line."""

from __future__ import annotations

import typer

from xlfunding.cli import excel, month, opendata, web, year
from xlfunding.cli.french import FrenchCommand, FrenchGroup
from xlfunding.errors import XlfundingError


class _Group(FrenchGroup):
    """Misuse and unreadable files end in one French sentence and exit code 2, no traceback."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except XlfundingError as exc:
            typer.echo(f"✗ {exc.message}", err=True)
            raise typer.Exit(2) from exc


app = typer.Typer(
    cls=_Group,
    help="xlfunding : programmation politique de la ville — modèle Excel des porteurs, "
    "contrôle des retours, annexe du conseil municipal et consolidation mensuelle.",
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Each command is a function of its wing's module (``excel``, ``year``, ``month``, ``web``), in the
# order ``xlfunding --help`` lists them.
COMMANDS = (
    ("template", excel.template),
    ("import", year.import_),
    ("validate", excel.validate),
    ("annex", excel.annex),
    ("consolidate", month.consolidate),
    ("serve", web.serve),
    ("scdl", opendata.scdl),
    ("etat-financeur", opendata.etat_financeur),
)
for name, command in COMMANDS:
    app.command(name, cls=FrenchCommand)(command)
