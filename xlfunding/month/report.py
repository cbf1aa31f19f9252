"""A consolidation's outputs: the annex, the report workbook, the JSON and the text.

The report workbook (``write_report``) has a « Bilan » sheet (the ledger), « Fichiers » (one row
per file found: sponsor, template version, actions read, accepted, rejected, status, and
whether it was read or taken from the cache), «
Problèmes » (every problem at its file and cell), « Actions écartées » (every row not in the
annex, with the reason), « Conventions » (each funder and beneficiary whose grants reach
23 000 € in the year: a convention is required) and, against a previous annex, « Évolutions ».

The JSON (``consolidation_dict``, ``"format": 1, "kind": "consolidation"``) is stable: keys
``complete``, ``strict``, ``annex`` (the path written, or null), ``ledger`` (files_found,
files_read, files_skipped, files_unreadable, actions_read, actions_accepted, actions_rejected),
``totals`` (``total`` and ``groups``), ``files`` (one object per file: file, path, status,
sponsor, template_version, sha256, actions_read, accepted, rejected, errors, warnings, note),
``rejected_actions`` (file, sheet, row, sponsor, title, total, reason), ``problems`` (as
``xlfunding validate --json``) and ``evolutions`` (null, or see ``Evolutions.to_dict``). Amounts
are strings holding exact decimals; text a spreadsheet could take for a formula is quoted.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import xlsxwriter

from xlfunding.money import format_euros
from xlfunding.month.evolutions import write_evolutions_sheet
from xlfunding.month.inbox import SKIPPED, FileResult
from xlfunding.problems import Report, Severity, json_value
from xlfunding.render import neutralise, report_text, totals_line
from xlfunding.text import shown
from xlfunding.threshold import pairs
from xlfunding.write import styles
from xlfunding.write.output import atomic_path, check_output

if TYPE_CHECKING:
    from xlfunding.month.consolidate import Consolidation

LEDGER_LABELS = (
    ("files_found", "Fichiers trouvés"),
    ("files_read", "  dont lus"),
    ("files_skipped", "  dont ignorés (verrous Excel, fichiers cachés, copies)"),
    ("files_unreadable", "  dont illisibles ou d'une autre programmation"),
    ("actions_read", "Actions lues"),
    ("actions_accepted", "  dont retenues dans l'annexe"),
    ("actions_rejected", "  dont écartées (voir « Actions écartées »)"),
)
FILE_HEADERS = (
    "Fichier",
    "Porteur",
    "Version du modèle",
    "Actions lues",
    "Retenues",
    "Écartées",
    "Erreurs",
    "Avertissements",
    "Statut",
    "Remarque",
    "SHA-256",
    "Lecture",
)


def reading(f: FileResult) -> str:
    """The « Lecture » column: « lu » from its bytes, « cache » taken from the cache, or « non
    lu » (set aside before reading)."""
    return "cache" if f.cached else "non lu" if f.status in SKIPPED else "lu"


def write_annex_of(
    result: Consolidation,
    output: Path,
    show_sources: bool,
    force: bool,
    inputs: Iterable[Path | None] = (),
) -> Path:
    """The annex of the accepted actions, with the « Évolutions » sheet against last month;
    never over a return read nor the other ``inputs``."""
    from xlfunding.write.annex import write_annex

    changes = result.evolutions
    sheets = [lambda book: write_evolutions_sheet(book, changes)] if changes else []
    return write_annex(
        result.programme,
        output,
        force=force,
        show_sources=show_sources,
        inputs=[*(f.path for f in result.files), *inputs],
        extra_sheets=sheets,
    )


def consolidation_dict(result: Consolidation, annex: Path | None = None) -> dict[str, Any]:
    """The JSON shape documented above (amounts as ``Decimal``: dump with ``default=str``)."""
    programme = result.programme
    return {
        "format": 1,
        "kind": "consolidation",
        "complete": result.complete,
        "strict": result.strict,
        "annex": str(annex) if annex else None,
        "ledger": vars(result.ledger),
        "totals": {"total": programme.total, "groups": programme.group_totals()},
        "files": [
            {
                "file": f.name,
                "path": str(f.path),
                "status": str(f.status),
                "sponsor": f.sponsors or None,
                "template_version": f.template_version,
                "sha256": f.sha256,
                "actions_read": len(f.rows),
                "accepted": f.accepted,
                "rejected": f.rejected,
                "errors": f.count(Severity.ERROR),
                "warnings": f.count(Severity.WARNING),
                "note": f.note or None,
            }
            for f in result.files
        ],
        "rejected_actions": [
            {
                "file": str(r.file),
                "sheet": r.sheet,
                "row": r.row,
                "sponsor": r.sponsor,
                "title": r.title,
                "total": r.total,
                "reason": r.reason,
            }
            for r in result.rejected_rows
        ],
        "problems": [p.to_dict() for p in result.problems],
        "evolutions": result.evolutions.to_dict() if result.evolutions else None,
    }


def write_json(result: Consolidation, annex: Path | None, stream: TextIO) -> None:
    json.dump(
        neutralise(consolidation_dict(result, annex)),
        stream,
        ensure_ascii=False,
        indent=2,
        default=str,
    )
    stream.write("\n")


def summary_text(result: Consolidation, annex: Path | None, report: Path | None) -> str:
    """For a person: each file and its status, the problems grouped, the ledger, the verdict."""
    ledger, programme = result.ledger, result.programme
    lines = [f"Consolidation : {ledger.files_found} fichier(s) trouvé(s)"]
    width = max((len(f.status) for f in result.files), default=0)
    for f in result.files:
        counts = f" : {len(f.rows)} lue(s), {f.accepted} retenue(s)" if f.rows else ""
        who = f" — {f.sponsors}" if f.sponsors else ""
        note = f" ({f.note})" if f.note else ""
        lines.append(f"  {f.status:<{width}}  {f.name}{who}{counts}{note}")
    if result.problems:
        as_report = Report(files=[f.path for f in result.files], problems=result.problems)
        lines.append(report_text(as_report).rsplit("\n", 1)[0])
    lines.append(
        f"Bilan : {ledger.files_found} fichiers = {ledger.files_read} lus + "
        f"{ledger.files_skipped} ignorés + {ledger.files_unreadable} illisibles ; "
        f"{ledger.actions_read} actions lues = {ledger.actions_accepted} retenues + "
        f"{ledger.actions_rejected} écartées."
    )
    if annex is not None:
        lines.append(
            f"Annexe : {annex} — {len(programme.actions)} action(s), "
            f"{format_euros(programme.total)}."
        )
        lines.append(totals_line(programme))
    else:
        lines.append("Annexe : non écrite (--strict et consolidation incomplète).")
    if report is not None:
        lines.append(f"Rapport : {report}")
    if result.complete:
        lines.append("✓ Consolidation complète : toutes les actions lues sont dans l'annexe.")
    elif not programme.actions and not result.errors:
        lines.append("✗ Consolidation incomplète : aucune action retenue.")
    else:
        lines.append(
            f"✗ Consolidation incomplète : {len(result.errors)} erreur(s), "
            f"{ledger.actions_rejected} action(s) écartée(s) — voir ci-dessus."
        )
    return shown("\n".join(lines))


def write_report(
    result: Consolidation,
    path: Path | str,
    *,
    force: bool = False,
    annex: Path | None = None,
    inputs: Iterable[Path | None] = (),
) -> Path:
    """Write the report workbook, atomically; never over one of the files read (the returns,
    the settings, the other ``inputs``) nor over the annex just written."""
    path = Path(path)
    read = [*(f.path for f in result.files), result.settings.path, *inputs, annex]
    check_output(path, force=force, inputs=read)
    with atomic_path(path) as temporary:
        book = styles.open_workbook(temporary)
        _Sheets(book, result, annex).write()
        book.close()
    return path


class _Sheets:
    def __init__(
        self, book: xlsxwriter.Workbook, result: Consolidation, annex: Path | None
    ) -> None:
        self.book, self.result, self.annex = book, result, annex
        f = styles.add_formats(
            book,
            {
                "title": styles.TITLE,
                "head": styles.HEADER,
                "text": {"text_wrap": True},
                "bold": {"bold": True},
                "euro": {"num_format": styles.EURO_CENTS},
            },
        )
        self.title, self.head, self.text, self.bold = f["title"], f["head"], f["text"], f["bold"]
        self.euro = f["euro"]

    def write(self) -> None:
        r = self.result
        self._ledger()
        self._table(
            "Fichiers",
            FILE_HEADERS,
            (
                [
                    f.name,
                    f.sponsors,
                    f.template_version or "",
                    len(f.rows),
                    f.accepted,
                    f.rejected,
                    f.count(Severity.ERROR),
                    f.count(Severity.WARNING),
                    str(f.status),
                    f.note,
                    f.sha256 or "",
                    reading(f),
                ]
                for f in r.files
            ),
            (40, 14, 10, 10, 10, 10, 10, 10, 24, 50, 20, 10),
        )
        self._table(
            "Problèmes",
            ("Fichier", "Onglet", "Cellule", "Gravité", "Code", "Problème", "Message", "Valeur"),
            (
                [
                    self._name(p.file),
                    p.sheet or "",
                    p.cell or "",
                    "erreur" if p.severity is Severity.ERROR else "avertissement",
                    p.code,
                    p.title,
                    p.message,
                    "" if p.value is None else str(json_value(p.value)),
                ]
                for p in r.problems
            ),
            (30, 12, 8, 13, 22, 30, 80, 30),
        )
        self._table(
            "Actions écartées",
            ("Fichier", "Onglet", "Ligne", "Porteur", "Intitulé", "Coût total", "Raison"),
            (
                [self._name(x.file), x.sheet, x.row, x.sponsor, x.title, x.total, x.reason or ""]
                for x in r.rejected_rows
            ),
            (30, 12, 8, 12, 50, 14, 70),
        )
        self._table(
            "Conventions",
            ("Financeur", "Bénéficiaire", "Montant", "Actions"),  # 23 000 € reached (#14)
            ([p.funder, p.beneficiary, p.amount, p.actions] for p in pairs(r.programme) if p.due),
            (20, 30, 14, 10),
        )
        if r.evolutions is not None:
            write_evolutions_sheet(self.book, r.evolutions)

    def _name(self, file: Path | None) -> str:
        return self._names.get(file, file.name) if file is not None else ""

    @functools.cached_property
    def _names(self) -> dict[Path, str]:
        return {f.path: f.name for f in self.result.files}

    def _ledger(self) -> None:
        sheet, r = self.book.add_worksheet("Bilan"), self.result
        sheet.set_column(0, 0, 55)
        sheet.set_column(1, 1, 18)
        sheet.write_string(0, 0, f"Consolidation — {r.settings.title}", self.title)
        verdict = (
            "complète"
            if r.complete
            else "incomplète : des fichiers ou des actions ont "
            "été écartés (voir « Fichiers » et « Actions écartées »)"
        )
        sheet.write_string(1, 0, f"Consolidation {verdict}", self.bold)
        annex = f"Annexe écrite : {self.annex.name}" if self.annex else "Aucune annexe écrite"
        sheet.write_string(2, 0, annex, self.text)
        row = 4
        for key, label in LEDGER_LABELS:
            sheet.write_string(row, 0, label, self.text)
            sheet.write_number(row, 1, getattr(r.ledger, key), self.text)
            row += 1
        row += 1
        sheet.write_string(row, 0, "Montants retenus", self.head)
        sheet.write_string(row, 1, "Montant", self.head)
        for label, amount in [
            ("Coût total", r.programme.total),
            *r.programme.group_totals().items(),
        ]:
            row += 1
            sheet.write_string(row, 0, label, self.text)
            sheet.write_number(row, 1, amount, self.euro)

    def _table(
        self, name: str, headers: tuple[str, ...], rows: Any, widths: tuple[int, ...]
    ) -> None:
        sheet = self.book.add_worksheet(name)
        for col, header in enumerate(headers):
            sheet.write_string(0, col, header, self.head)
            sheet.set_column(col, col, widths[col])
        last = 0
        for last, values in enumerate(rows, start=1):
            for col, value in enumerate(values):
                if isinstance(value, str):
                    sheet.write_string(last, col, value, self.text)
                elif value is not None:
                    money = headers[col] in ("Coût total", "Montant")
                    sheet.write_number(last, col, value, self.euro if money else self.text)
        sheet.autofilter(0, 0, max(last, 1), len(headers) - 1)
        sheet.freeze_panes(1, 0)
