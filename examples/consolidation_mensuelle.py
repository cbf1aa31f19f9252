"""Consolidation mensuelle : le script que lance chaque mois une tâche planifiée.

    python examples/consolidation_mensuelle.py RETOURS SORTIE [--mois 2025-11]

Lit tous les retours du dossier RETOURS (sous-dossiers compris) et écrit dans SORTIE :

* ``annexe-2025-11.xlsx`` : l'annexe des actions retenues, avec l'onglet « Évolutions » quand
  l'annexe d'un mois précédent est dans le même dossier ;
* ``rapport-2025-11.xlsx`` : un fichier par ligne, chaque problème à sa cellule, les actions
  écartées et le bilan.

Relancé dans le même mois, il remplace les deux fichiers de ce mois. Le code de sortie est
celui de ``xlfunding consolidate`` : 0 tout est repris, 1 des fichiers ou des actions ont été
écartés (voir le rapport), 2 mauvais usage (dossier introuvable, sortie impossible à écrire).

Exemple de tâche planifiée (cron, le 1er de chaque mois à 7 h) :

    0 7 1 * * /opt/xlfunding/bin/python consolidation_mensuelle.py /partage/retours /partage/annexes
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from xlfunding.errors import XlfundingError
from xlfunding.month.job import run_consolidate
from xlfunding.read.annex import read_annex
from xlfunding.settings import Settings, load_settings

ANNEX_NAME = re.compile(r"annexe-(\d{4}-\d{2})\.xlsx")


def previous_annex(folder: Path, month: str, settings: Settings) -> Path | None:
    """The annex of the latest month before ``month`` in ``folder`` made with the same
    settings (a new programme year starts without comparison)."""
    earlier = sorted(((m.group(1), path) for path in folder.glob("annexe-*.xlsx")
                      if (m := ANNEX_NAME.fullmatch(path.name)) and m.group(1) < month),
                     reverse=True)
    for _, path in earlier:
        try:
            read_annex(path, settings)
        except XlfundingError as exc:
            print(f"! {exc.message} : pas de comparaison avec ce mois-là", file=sys.stderr)
            continue
        return path
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Consolidation mensuelle des retours des "
                                     "porteurs : une annexe et un rapport par mois.")
    parser.add_argument("retours", type=Path, help="dossier où arrivent les retours")
    parser.add_argument("sortie", type=Path, help="dossier où écrire l'annexe et le rapport")
    parser.add_argument("--mois", default=f"{dt.date.today():%Y-%m}",
                        help="mois de la consolidation, AAAA-MM (défaut : le mois en cours)")
    parser.add_argument("--settings", type=Path, help="fichier de paramètres TOML")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.mois):
        parser.error(f"--mois : « {args.mois} » n'est pas un mois AAAA-MM")
    try:
        settings = load_settings(args.settings)
        previous = previous_annex(args.sortie, args.mois, settings)
    except XlfundingError as exc:
        print(f"✗ {exc.message}", file=sys.stderr)
        return 2
    return run_consolidate(
        args.retours,
        args.sortie / f"annexe-{args.mois}.xlsx",
        report=args.sortie / f"rapport-{args.mois}.xlsx",
        previous=previous,
        settings=settings,
        force=True,  # a second run in the same month replaces that month's files
    )


if __name__ == "__main__":
    sys.exit(main())
