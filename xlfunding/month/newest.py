"""Which of several returns counts: the newest of a sponsor, and an action taken once.

* **A sponsor's return** is a file whose actions are all that sponsor's: a template locked to
  it, or a generic template whose every row names it. A generic file with the actions of
  several sponsors (a compilation, by the city) is no one's return: its actions add up with
  the others, under the next rule.
* **Newest return wins**, for every template kind: of a sponsor's returns, the one saved last
  counts, by the workbook's own save time (docProps/core.xml ``dcterms:modified``, which Excel
  sets; a workbook without one counts as older), then the file's modification time, then the
  name (the one that sorts last). It counts even if it has errors: an outdated return never
  stands in for a newer one. The older ones are ``remplacé`` and their rows rejected; each
  action they held that the newest no longer holds is reported at its cell
  (``action-dropped``): the sponsor removed it, or forgot it.
* **The same action twice** (same sponsor and title, case aside, in two files) is kept once,
  from the newest file by the same rule; each other copy is rejected (``duplicate-action``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from xlfunding.month.evolutions import action_key, folded
from xlfunding.month.inbox import OLDEST, FileResult, RowResult, Status
from xlfunding.problems import CODES, Problem


def supersede(files: list[FileResult]) -> None:
    """Of each sponsor's returns, the newest counts; the older ones are ``remplacé``."""
    by_sponsor: dict[str, list[FileResult]] = defaultdict(list)
    for f in files:
        sponsor = _sponsor(f) if f.status in (Status.VALID, Status.ERRORS) else None
        if sponsor is not None:
            by_sponsor[folded(sponsor)].append(f)
    for group in by_sponsor.values():
        group.sort(key=FileResult.recency, reverse=True)
        kept = group[0]
        titles = {_title(row) for row in kept.rows}
        for old in group[1:]:
            sponsor = _sponsor(old) or ""
            old.status, old.note = Status.SUPERSEDED, f"remplacé par « {kept.name} »"
            old.problems = [
                Problem.make(
                    "superseded-file",
                    file=old.path,
                    value=kept.name,
                    kept=kept.name,
                    why=_newer(kept, old),
                    sponsor=sponsor,
                )
            ]
            for row in old.rows:
                row.reason = f"retour remplacé par « {kept.name} »"
                if _title(row) and _title(row) not in titles:
                    old.problems.append(_dropped(row, kept, sponsor))
        if len(group) > 1:
            kept.note = "retenu ; remplace " + ", ".join(f"« {o.name} »" for o in group[1:])


def _sponsor(f: FileResult) -> str | None:
    """The sponsor whose return ``f`` is, or None for a compilation of several (or none)."""
    if f.sponsor:
        return f.sponsor
    named = {folded(row.sponsor): row.sponsor for row in f.rows if row.sponsor.strip()}
    return next(iter(named.values())) if len(named) == 1 else None


def _title(row: RowResult) -> str:
    return " ".join(row.title.split()).casefold()


def _dropped(row: RowResult, kept: FileResult, sponsor: str) -> Problem:
    source = row.action.source if row.action is not None else None
    return Problem.make(
        "action-dropped",
        file=row.file,
        sheet=row.sheet,
        cell=source.cell("title") if source is not None else None,
        value=row.title,
        row=row.row,
        kept=kept.name,
        sponsor=sponsor,
    )


def _newer(kept: FileResult, old: FileResult) -> str:
    """Why ``kept`` counts as the newer return, in French."""
    why = CODES["superseded-file"]
    if (kept.modified or OLDEST) != (old.modified or OLDEST):
        return why.text("saved", when=kept.modified)
    if kept.mtime != old.mtime:
        return why.text("modified", when=dt.datetime.fromtimestamp(kept.mtime or 0, dt.UTC))
    return why.text("same-dates")


def deduplicate(files: list[FileResult]) -> None:
    """Each action once, from the newest file holding it; each other copy rejected."""
    seen: dict[tuple[str, str], tuple[FileResult, RowResult]] = {}
    valid = sorted(
        (f for f in files if f.status is Status.VALID), key=FileResult.recency, reverse=True
    )
    for f in valid:
        for row in f.rows:
            if row.action is None or row.reason is not None:  # not accepted
                continue
            kept, first = seen.setdefault(action_key(row.action), (f, row))
            if first is row:
                continue
            row.reason = f"action en double : déjà retenue depuis « {kept.name} » ligne {first.row}"
            f.status = Status.DUPLICATE_ACTIONS
            f.problems.append(
                Problem.make(
                    "duplicate-action",
                    variant="" if first.action == row.action else "different",
                    kept=kept.name,
                    row=first.row,
                    file=row.file,
                    sheet=row.sheet,
                    cell=row.action.source.cell("title") if row.action.source else None,
                    value=row.title,
                )
            )
