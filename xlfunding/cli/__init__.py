"""Command line: each command parses, calls one library function, renders, and exits.

Exit codes: 0 done (warnings allowed), 1 the data has errors (or the run is incomplete),
2 misuse or a file that cannot be read or written.

The application is built in ``application`` (typer); ``xlfunding validate FICHIER…`` with no option
but ``--json`` and ``--settings`` is run by ``plain`` without importing typer or rich (a third
of a second saved on the check a sponsor runs most), with the same output and exit code.
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    from xlfunding.cli import plain

    code = plain.run(sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    from xlfunding.cli.application import app

    app()


def __getattr__(name: str) -> Any:
    """``app`` and ``COMMANDS`` (from ``application``), built on first use."""
    if name in ("app", "COMMANDS"):
        from xlfunding.cli import application

        return getattr(application, name)
    raise AttributeError(name)
