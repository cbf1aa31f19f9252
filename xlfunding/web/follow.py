"""The staff's view: the returns folder consolidated as the monthly run reads it (less the drop
zone's hidden folders), one row per sponsor, the running totals and shares; and the
consolidation itself, its annex, PDF and report written to the outputs folder, compared with
the previous run's annex (« Évolutions »)."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlfunding.errors import XlfundingError
from xlfunding.money import ZERO, format_euros, percent
from xlfunding.month.consolidate import Consolidation, consolidate
from xlfunding.month.inbox import FileResult
from xlfunding.problems import Severity

if TYPE_CHECKING:
    from xlfunding.month.evolutions import Evolutions
    from xlfunding.web.app import Server

_LOCK = threading.Lock()


def _signature(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    found = []
    for top in paths:
        walk = [(str(top), [], [""])] if top.is_file() else os.walk(top)
        for folder, _, files in walk:
            for name in files:
                path = Path(folder, name) if name else Path(folder)
                try:
                    stat = path.stat()
                except OSError:
                    continue
                found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


def current(server: Server) -> Consolidation:
    """The consolidation of the returns as they are now (read again only when they change)."""
    paths = server.store.returns()
    signature = _signature(paths)
    with _LOCK:
        cached = server.state.get("current")
        if cached is not None and cached[0] == signature:
            return cached[1]  # type: ignore[no-any-return]
        result = consolidate(paths, server.settings, cache=_cache(server))
        server.state["current"] = (signature, result)
        return result


def _cache(server: Server) -> Path:
    """The consolidation's own cache of the inbox (``month.cache``): each file read once."""
    from xlfunding.month.cache import default_folder

    return default_folder(server.config.inbox)


def _sponsors_of(f: FileResult) -> set[str]:
    return {f.sponsor} if f.sponsor else {r.sponsor for r in f.rows if r.sponsor}


def _when(f: FileResult) -> str:
    moment = f.modified or (dt.datetime.fromtimestamp(f.mtime, dt.UTC) if f.mtime else None)
    return moment.astimezone().strftime("%d/%m/%Y %H:%M") if moment else "—"


def sponsor_rows(server: Server, result: Consolidation) -> list[dict[str, Any]]:
    rows = []
    for sponsor in server.settings.sponsors:
        files = [f for f in result.files if sponsor in _sponsors_of(f)]
        accepted = [r for f in files for r in f.rows if r.accepted and r.sponsor == sponsor]
        last = max(files, key=FileResult.recency, default=None)
        sends = server.store.sends(sponsor)
        rows.append(
            {
                "sponsor": sponsor,
                "last": last.name if last else "aucun retour",
                "when": _when(last) if last else "—",
                "status": str(last.status) if last else "en attente",
                "actions": len(accepted),
                "total": format_euros(sum((r.total or ZERO for r in accepted), start=ZERO)),
                "errors": sum(f.count(Severity.ERROR) for f in files),
                "send": sends[0] if sends else None,
            }
        )
    return rows


def totals(result: Consolidation) -> list[tuple[str, str, str]]:
    """(group, amount, share) as the Synthèse shows them, then the total."""
    programme = result.programme
    total = programme.total
    lines = [
        (group, format_euros(amount), f"{percent(amount, total)} %" if total else "—")
        for group, amount in programme.group_totals().items()
    ]
    return [*lines, ("TOTAL", format_euros(total), "100 %" if total else "—")]


def evolutions_view(changes: Evolutions | None) -> dict[str, Any] | None:
    if changes is None:
        return None
    return {
        "previous": changes.previous.name if changes.previous else "",
        "changes": [(c.kind, c.sponsor, c.title) for c in changes.changes],
        "groups": [
            (
                g.group,
                format_euros(g.before),
                format_euros(g.after),
                _signed(g.difference),
                f"{g.share_before} %",
                f"{g.share_after} %",
            )
            for g in changes.groups
        ],
    }


def _signed(amount: Decimal) -> str:
    return ("+" if amount > 0 else "") + format_euros(amount)


def overview(server: Server) -> dict[str, Any]:
    result = current(server)
    ledger = result.ledger
    from xlfunding.write.libreoffice import find_soffice

    return {
        "rows": sponsor_rows(server, result),
        "totals": totals(result),
        "ledger": ledger,
        "complete": result.complete,
        "run": server.state.get("run"),
        "history": _history(server.config.outputs),
        "pdf_possible": find_soffice() is not None,
    }


def _runs(outputs: Path) -> list[Path]:
    return sorted((p for p in outputs.glob("*") if p.is_dir()), reverse=True)


def _history(outputs: Path | None, keep: int = 6) -> list[tuple[str, list[str]]]:
    """The earlier consolidations still in the outputs folder (newest first), with their files."""
    if outputs is None or not outputs.is_dir():
        return []
    return [
        (r.name, sorted(p.name for p in r.iterdir() if p.is_file())) for r in _runs(outputs)[:keep]
    ]


def run(server: Server) -> dict[str, Any]:
    """Consolidate now: the annex (unless nothing is accepted), the report and, with
    LibreOffice, the PDF, in ``<sorties>/<horodatage>/``; « Évolutions » against the previous
    run's annex."""
    from xlfunding.month.job import check_outputs, write_outputs
    from xlfunding.write.annex import export_pdf
    from xlfunding.write.libreoffice import find_soffice

    outputs = server.config.outputs
    assert outputs is not None
    with _LOCK:
        outputs.mkdir(parents=True, exist_ok=True)
        previous = next((a for r in _runs(outputs) for a in sorted(r.glob("annexe-*.xlsx"))), None)
        stamp = f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
        while (outputs / stamp).exists():
            time.sleep(0.2)
            stamp = f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
        folder = outputs / stamp
        folder.mkdir()
        paths = server.store.returns()
        try:
            result = consolidate(paths, server.settings, previous=previous, cache=_cache(server))
        except XlfundingError as exc:
            if previous is None or exc.path != previous:
                raise
            # the previous annex cannot be read back (read first, before any return): the
            # consolidation without « Évolutions »
            result = consolidate(paths, server.settings, cache=_cache(server))
        read = [previous, server.settings.path]  # never written over (with the returns)
        annex = folder / f"annexe-{stamp}.xlsx" if result.programme.actions else None
        report = folder / f"rapport-{stamp}.xlsx"
        for path in (annex, report):
            if path is not None:
                check_outputs(path, server.config.inbox, False, read)
        written = write_outputs(result, annex, report, inputs=read)
        files = [written.name] if written else []
        note = ""
        if written is not None and find_soffice() is not None:
            try:
                files.append(export_pdf(written, written.with_suffix(".pdf")).name)
            except XlfundingError as exc:
                note = exc.message
        files.append(report.name)
        done = {
            "stamp": stamp,
            "files": files,
            "ledger": result.ledger,
            "complete": result.complete,
            "total": format_euros(result.programme.total),
            "actions": len(result.programme.actions),
            "evolutions": evolutions_view(result.evolutions),
            "note": note,
        }
        server.state["run"] = done
        return done
