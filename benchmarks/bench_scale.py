"""Scale and speed (issue #7): a department-wide consolidation of 1 000 returns, 100 000 actions.

Run:  python benchmarks/bench_scale.py [--sizes 10,100,1000] [--repeat 5] [--quick]
      python benchmarks/bench_scale.py --profile "read+validate"   # cProfile of one stage

Generates seeded inputs once (cached under ``--data``, default ``benchmarks/.data/``), then
measures every stage in a fresh process, ``--repeat`` times, and prints a Markdown table:
median wall time of the whole process, peak RSS of its process tree, the time of the measured
step inside the process ("work": after the imports and the setup), and each target of the issue
with PASS/FAIL. Targets are judged at the largest size. The exit code is 1 only when a stage
crashed or read a wrong number of rows, never because a target failed. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pickle
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "programmation-2025.xlsx"
GENERATOR = "1"  # bump when the generated inputs change: the cache is keyed by it
ACTIONS_PER_RETURN = 100
TIMEOUT = 1800  # seconds, one process
RESULT = "BENCH-RESULT "
PACKAGES = (
    "xlfunding",
    "pandas",
    "numpy",
    "pandera",
    "openpyxl",
    "xlsxwriter",
    "python-calamine",
    "fastexcel",
    "pyarrow",
)
MODULES = {"python-calamine": "python_calamine", "fastexcel": "fastexcel", "openpyxl": "openpyxl"}

# -- realistic French text -----------------------------------------------------------------
HEADS = (
    "Accompagnement à la parentalité",
    "Médiation sociale de proximité",
    "Atelier sociolinguistique",
    "Programme de réussite éducative",
    "Chantier éducatif",
    "Permanence d'accès aux droits",
    "Gestion urbaine de proximité",
    "Jardin partagé",
    "Accompagnement à la scolarité",
    "Prévention spécialisée",
    "Atelier santé ville",
    "Café des parents",
    "Fête de quartier",
    "Médiation numérique",
    "Lutte contre le décrochage scolaire",
    "Éducation à la citoyenneté",
    "Sport en pied d'immeuble",
    "Forum de l'emploi",
    "Lieu d'accueil enfants-parents",
    "Coordination du contrat de ville",
)
PUBLICS = (
    "des familles",
    "des jeunes de 11 à 25 ans",
    "des parents d'élèves",
    "des seniors isolés",
    "des femmes éloignées de l'emploi",
    "des enfants des écoles élémentaires",
    "des collégiens",
    "des demandeurs d'emploi",
    "des habitants du quartier prioritaire",
    "des locataires du parc social",
    "des allocataires du RSA",
    "des primo-arrivants",
)
ACTIVITIES = (
    "des ateliers hebdomadaires",
    "un accompagnement individuel",
    "des permanences sans rendez-vous",
    "des sorties familiales",
    "des temps d'échange entre pairs",
    "des chantiers éducatifs",
    "un suivi renforcé",
    "des séances collectives",
    "une veille éducative",
    "des actions d'aller-vers",
)
GOALS = (
    "l'accès aux droits",
    "la réussite éducative",
    "le lien social",
    "l'insertion professionnelle",
    "la tranquillité publique",
    "la prévention santé",
    "l'apprentissage du français",
    "l'autonomie numérique",
    "la participation des habitants",
    "le soutien à la fonction parentale",
    "la mobilité",
    "l'amélioration du cadre de vie",
)
PARTNERS = (
    "le centre social",
    "la CAF",
    "les bailleurs sociaux",
    "la mission locale",
    "France Travail",
    "l'Éducation nationale",
    "le conseil citoyen",
    "les associations du quartier",
    "la PMI",
    "le CCAS",
    "la médiathèque",
    "le club de prévention",
)
PLACES = (
    "à la maison de quartier",
    "en pied d'immeuble",
    "au centre social",
    "dans les écoles du quartier",
    "à la médiathèque",
    "dans les locaux du CCAS",
    "sur l'espace public",
)
RHYTHMS = (
    "chaque semaine",
    "deux fois par mois",
    "pendant les vacances scolaires",
    "tout au long de l'année",
    "le mercredi après-midi",
    "en soirée",
)
SENTENCES = (
    "L'action propose {activity} {public} du quartier prioritaire, en lien avec {partner}.",
    "Les séances ont lieu {rhythm} {place}, animées par un professionnel qualifié.",
    "Elle vise à favoriser {goal} et à renforcer {goal2}.",
    "Le porteur mobilise {partner} et {partner2} pour repérer {public}.",
    "Un bilan qualitatif et quantitatif est présenté au comité de pilotage du contrat de ville.",
    "La médiation avec {partner} permet de lever les freins identifiés lors du diagnostic.",
    "L'accompagnement s'appuie sur {activity} organisés {place}.",
    "Les indicateurs suivis portent sur {goal} et sur le nombre de bénéficiaires.",
    "L'action s'inscrit dans l'axe du contrat de ville consacré à {goal}.",
)


class Record(NamedTuple):
    """One generated action as builtins and Decimal: what the bare writers need (pickled as a
    plain tuple, so any process can load it)."""

    axis: str
    title: str
    description: str
    sponsor: str
    total: Decimal
    amounts: tuple[Decimal | None, ...]  # per funder, in the settings' order
    file: str
    row: int


def _description(rng: random.Random) -> str:
    target = rng.randint(300, 1500)
    parts: list[str] = []
    size = -1
    while size < target:
        sentence = rng.choice(SENTENCES).format(
            activity=rng.choice(ACTIVITIES),
            public=rng.choice(PUBLICS),
            partner=rng.choice(PARTNERS),
            partner2=rng.choice(PARTNERS),
            place=rng.choice(PLACES),
            rhythm=rng.choice(RHYTHMS),
            goal=rng.choice(GOALS),
            goal2=rng.choice(GOALS),
        )
        parts.append(sentence)
        size += len(sentence) + 1
    text = " ".join(parts)
    if len(text) > 1500:
        text = text[:1500].rsplit(" ", 1)[0]
    return text


def _split(units: int, parts: int, rng: random.Random) -> list[int]:
    cuts = sorted(rng.sample(range(1, units), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, units], strict=True)]


def return_records(
    index: int, axes: Sequence[str], sponsors: Sequence[str], codes: Sequence[str]
) -> list[Record]:
    """The 100 actions of return number ``index``: seeded by it, titles unique everywhere (no
    duplicate-action across returns), funders adding up exactly, in euros or in cents."""
    rng = random.Random(f"xlfunding-bench-{index}")
    records = []
    for offset in range(ACTIONS_PER_RETURN):
        cents = rng.random() < 0.3
        scale = 1 if cents else 100
        units = rng.randint(1_000, 120_000) * (100 // scale) + (rng.randint(0, 99) if cents else 0)
        how_many = min(len(codes), rng.choices((1, 2, 3, 4), (2, 4, 3, 1))[0])
        chosen = rng.sample(range(len(codes)), how_many)
        shares = _split(units, len(chosen), rng)
        amounts: list[Decimal | None] = [None] * len(codes)
        for position, share in zip(chosen, shares, strict=True):
            amounts[position] = Decimal(share * scale).scaleb(-2) if cents else Decimal(share)
        total = Decimal(units * scale).scaleb(-2) if cents else Decimal(units)
        head = rng.choice(HEADS)
        records.append(
            Record(
                rng.choice(axes),
                f"{head} — {rng.choice(GOALS)} (action {index:04d}-{offset + 1:03d})",
                _description(rng),
                rng.choice(sponsors),
                total,
                tuple(amounts),
                f"retour-{index:05d}.xlsx",
                5 + offset,
            )
        )
    return records


# -- inputs, cached ------------------------------------------------------------------------
@dataclass(frozen=True)
class Inputs:
    root: Path

    def inbox(self, n: int) -> Path:
        return self.root / f"inbox-{n:05d}"

    def records(self, n: int) -> Path:
        return self.root / f"records-{n:05d}.pkl"

    def sheet(self, rows: int) -> Path:
        return self.root / f"sheet-{rows:06d}.xlsx"

    @property
    def pool(self) -> Path:
        return self.root / "pool"


def _settings():  # type: ignore[no-untyped-def]
    from xlfunding.settings import load_settings

    return load_settings()


def _actions(records: Iterable[Record], codes: Sequence[str], folder: Path | None = None) -> list:  # type: ignore[type-arg]
    from xlfunding.model import Action, Location

    actions = []
    for r in records:
        funding = {c: a for c, a in zip(codes, r.amounts, strict=True) if a is not None}
        source = Location(folder / r.file, "Actions", r.row) if folder is not None else None
        actions.append(Action(r.axis, r.title, r.description, r.sponsor, r.total, funding, source))
    return actions


def _meta(settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "title": settings.title,
        "label": settings.annex_label,
        "axes": list(settings.axes),
        "codes": list(settings.funder_codes),
        "groups": {g: list(settings.group_members(g)) for g in settings.groups},
        "footer": [
            line
            for d in settings.deliberations
            for line in (
                "Accusé de réception en préfecture",
                d.acte,
                f"Date de télétransmission : {d.teletransmission:%d/%m/%Y}",
                f"Date de réception préfecture : {d.reception:%d/%m/%Y}",
                "",
            )
        ],
    }


def prepare(inputs: Inputs, sizes: Sequence[int], sheet_rows: int) -> None:
    """Write what is missing: the returns (a pool, linked into one inbox per size), their
    records, and the one-sheet file."""
    from xlfunding.write.template import write_template

    settings = _settings()
    args = (settings.axes, settings.sponsors, settings.funder_codes)
    inputs.pool.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        done = inputs.root / f"inbox-{n:05d}.done"
        if done.exists():
            continue
        started = time.perf_counter()
        inbox = inputs.inbox(n)
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir()
        records: list[Record] = []
        for index in range(1, n + 1):
            mine = return_records(index, *args)
            pooled = inputs.pool / mine[0].file
            if not pooled.exists():
                write_template(
                    settings,
                    pooled,
                    actions=_actions(mine, settings.funder_codes),
                    capacity=len(mine),
                )
            try:
                os.link(pooled, inbox / pooled.name)
            except OSError:
                shutil.copyfile(pooled, inbox / pooled.name)
            records += mine
        with inputs.records(n).open("wb") as handle:
            pickle.dump(
                {"meta": _meta(settings), "records": [tuple(r) for r in records]},
                handle,
                protocol=5,
            )
        done.write_text(GENERATOR)
        print(f"  generated {n} returns in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    done = inputs.root / f"sheet-{sheet_rows:06d}.done"
    if not done.exists():
        started = time.perf_counter()
        records = []
        for index in range(1, -(-sheet_rows // ACTIONS_PER_RETURN) + 1):
            records += return_records(index, *args)
        write_template(
            settings,
            inputs.sheet(sheet_rows),
            capacity=sheet_rows,
            force=True,
            actions=_actions(records[:sheet_rows], settings.funder_codes),
        )
        done.write_text(GENERATOR)
        print(
            f"  generated the {sheet_rows}-row sheet in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )


# -- the measured steps, each run in its own process by child() -----------------------------
Work = dict[str, Any]


def _timed(function: Callable[[], int]) -> Work:
    started = time.perf_counter()
    count = function()
    return {"work": time.perf_counter() - started, "count": count}


def _files(inbox: Path) -> list[Path]:
    return sorted(inbox.iterdir())


def _openpyxl_rows(path: Path, read_only: bool) -> int:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=read_only, data_only=True)
    try:
        rows = book["Actions"].iter_rows(min_row=5, values_only=True)
        return sum(1 for row in rows if len(row) > 1 and row[1])
    finally:
        book.close()


def _calamine_rows(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Actions").to_python()
    return sum(1 for row in rows[4:] if len(row) > 1 and row[1])


def _fastexcel_rows(path: Path) -> int:
    import fastexcel

    table = fastexcel.read_excel(str(path)).load_sheet("Actions", header_row=3).to_arrow()
    return int(table.num_rows - table.column(1).null_count)


def _pandas_frame(path: Path):  # type: ignore[no-untyped-def]
    import pandas as pd

    frame = pd.read_excel(path, sheet_name="Actions", header=3, engine="openpyxl")
    return frame[frame.iloc[:, 1].notna()]


def _records(inputs: Inputs, n: int) -> tuple[dict[str, Any], list[Record]]:
    with inputs.records(n).open("rb") as handle:
        data = pickle.load(handle)
    return data["meta"], [Record._make(r) for r in data["records"]]


def _euros(value: float) -> str:
    """50950.0 -> "50 950 €", 7611.78 -> "7 611,78 €" (no-break spaces), as the annex prints."""
    text = f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",").removesuffix(",00")
    return text + "\u00a0€"


def _letter(index: int) -> str:
    from xlfunding.layout import column_letter

    return column_letter(index)


BareRow = tuple[str, str, str, str, float, list[float], str]


def bare_annex(path: Path, meta: dict[str, Any], rows: Iterable[BareRow]) -> int:
    """The annex's cells written with bare XlsxWriter: the same strings, numbers and formulas
    with their values, in the same places; no formats, heights, summary sheet or checks."""
    import xlsxwriter

    codes: list[str] = meta["codes"]
    by_axis: dict[str, list[BareRow]] = {axis: [] for axis in meta["axes"]}
    for row in rows:
        by_axis.setdefault(row[0], []).append(row)
    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    sheet = book.add_worksheet("Annexe")
    numeric = [4, *range(6, 6 + len(codes))]
    sheet.write_string(0, 0, meta["title"].upper())
    sheet.write_string(1, 0, meta["label"])
    sheet.write_string(2, 3, "Coût total de la programmation")
    from xlfunding.layout import ANNEX_HEADERS

    headers = [*ANNEX_HEADERS, *codes]
    for col, header in enumerate(headers):
        sheet.write_string(3, col, header)
    line, subtotals, totals = 4, [], [0.0] * len(numeric)
    written = 0
    for axis, items in by_axis.items():
        first = line
        sheet.write_string(line, 0, axis)
        sums = [0.0] * len(numeric)
        for _, title, description, sponsor, total, amounts, source in items:
            line += 1
            budget = [f"Coût total = {_euros(total)}"]
            budget += [f"{c} = {_euros(a)}" for c, a in zip(codes, amounts, strict=True) if a]
            for col, text in enumerate((title, description, sponsor, "\n".join(budget))):
                sheet.write_string(line, col, text)
            sheet.write_string(line, 5, source)
            for position, (col, value) in enumerate(zip(numeric, [total, *amounts], strict=True)):
                if value or col == 4:
                    sheet.write_number(line, col, value)
                    sums[position] += value
            written += 1
        line += 1
        sheet.write_string(line, 3, "Sous-total")
        for position, col in enumerate(numeric):
            span = f"{_letter(col)}{first + 1}:{_letter(col)}{line}"
            sheet.write_formula(line, col, f"=ROUND(SUM({span}),2)", None, round(sums[position], 2))
            totals[position] += sums[position]
        subtotals.append(line)
        line += 1
    total_row = subtotals[-1] + 2
    sheet.write_formula(2, 4, f"=E{total_row + 1}", None, round(totals[0], 2))
    sheet.write_string(total_row, 3, "TOTAL")
    for position, col in enumerate(numeric):
        terms = "+".join(f"{_letter(col)}{r + 1}" for r in subtotals)
        sheet.write_formula(total_row, col, f"=ROUND({terms},2)", None, round(totals[position], 2))
    for offset, (group, members) in enumerate(meta["groups"].items(), start=1):
        cols = [numeric[1 + codes.index(c)] for c in members]
        value = sum(totals[1 + codes.index(c)] for c in members)
        terms = "+".join(f"{_letter(c)}{total_row + 1}" for c in cols)
        formula = f"=ROUND({terms},2)" if len(cols) > 1 else f"={terms}"
        sheet.write_string(total_row + offset, 3, group)
        sheet.write_formula(total_row + offset, 4, formula, None, round(value, 2))
    below = total_row + len(meta["groups"]) + 2
    for offset, text in enumerate(meta["footer"]):
        if text:
            sheet.write_string(below + offset, 0, text)
    book.close()
    return written


def _bare_rows(records: Iterable[Record]) -> list[BareRow]:
    return [
        (
            r.axis,
            r.title,
            r.description,
            r.sponsor,
            float(r.total),
            [float(a) if a is not None else 0.0 for a in r.amounts],
            f"{r.file} — 'Actions'!ligne {r.row}",
        )
        for r in records
    ]


def step_sheet(reader: str, inputs: Inputs, rows: int) -> Work:
    path = inputs.sheet(rows)
    if reader == "openpyxl":
        return _timed(lambda: _openpyxl_rows(path, read_only=False))
    if reader == "openpyxl-ro":
        return _timed(lambda: _openpyxl_rows(path, read_only=True))
    if reader == "calamine":
        return _timed(lambda: _calamine_rows(path))
    return _timed(lambda: _fastexcel_rows(path))


def step_files(reader: str, inputs: Inputs, n: int) -> Work:
    files = _files(inputs.inbox(n))
    if reader == "pandas":
        import pandas  # noqa: F401

        return _timed(lambda: sum(len(_pandas_frame(p)) for p in files))
    if reader == "openpyxl-ro":
        import openpyxl  # noqa: F401

        return _timed(lambda: sum(_openpyxl_rows(p, read_only=True) for p in files))
    if reader == "calamine":
        import python_calamine  # noqa: F401

        return _timed(lambda: sum(_calamine_rows(p) for p in files))
    import fastexcel  # noqa: F401

    return _timed(lambda: sum(_fastexcel_rows(p) for p in files))


def step_read_validate(inputs: Inputs, n: int) -> Work:
    """What consolidation does before writing: triage, read, check, rules, ledger. The heavy
    libraries are imported where consolidate imports them (in the reading workers, from 32
    returns on), so "work" includes their import there."""
    from xlfunding.month.consolidate import consolidate

    settings = _settings()
    return _timed(lambda: consolidate(inputs.inbox(n), settings).ledger.actions_accepted)


def step_pandera(inputs: Inputs, n: int) -> Work:
    """pandera alone, on the frame of ``n`` returns built by validate.frame_of."""
    import pandera.errors

    from xlfunding.read.template import read_template
    from xlfunding.schema import build_schema
    from xlfunding.validate import frame_of

    settings = _settings()
    frame = frame_of([read_template(p, settings) for p in _files(inputs.inbox(n))], settings)
    schema = build_schema(settings)
    started = time.perf_counter()
    failures = 0
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        failures = len(errors.failure_cases)
    return {"work": time.perf_counter() - started, "count": len(frame), "failures": failures}


# -- the floor of a parallel reading design ------------------------------------------------
# What any design that reads on every core and checks with pandera pays before it checks
# anything: the read, the values sent back to the main process, pandas and pandera imported
# there. The read+validate target is judged against these rows in the note of issue #7.
def _floor_calamine(paths: list[str]) -> list[Any]:
    """Worker: both sheets as python-calamine gives them, sent back as Python values."""
    from python_calamine import CalamineWorkbook

    from xlfunding.layout import META_SHEET

    sent = []
    for path in paths:
        book = CalamineWorkbook.from_path(path)
        meta = book.get_sheet_by_name(META_SHEET).to_python()
        rows = book.get_sheet_by_name("Actions").to_python()
        sent.append((len(meta), [row for row in rows[4:] if len(row) > 1 and row[1]]))
    return sent


def _floor_fastexcel(paths: list[str], checked: bool = False) -> list[Any]:
    """Worker: both sheets as Arrow tables (fastexcel), after xlfunding's hostile-file checks
    (the archive's bounds and prologs, the scan of each sheet's XML) when ``checked``."""
    import fastexcel

    from xlfunding.layout import META_SHEET

    sent = []
    for path in paths:
        if checked:
            from xlfunding.read.fast import FastXlsxFile

            with FastXlsxFile(Path(path)) as book:
                for name in (META_SHEET, "Actions"):
                    sheet = book.sheet(name)
                    assert sheet is not None
                    book._scan(sheet)  # what the reader runs before calamine sees a sheet
        reader = fastexcel.read_excel(path)
        meta = reader.load_sheet(META_SHEET, header_row=None).to_arrow()
        sent.append((meta.num_rows, reader.load_sheet("Actions", header_row=3).to_arrow()))
    return sent


def step_floor(design: str, inputs: Inputs, n: int) -> Work:
    """The reading half of a parallel design: batches of ``reading.BATCH`` files on every core
    (fork, as consolidate), pandas and pandera imported by the main process while the
    workers read; fastexcel's tables end as one pandas frame. No check, no action built."""
    import concurrent.futures as cf
    import functools
    import multiprocessing

    from xlfunding.month.parallel import workers
    from xlfunding.month.reading import BATCH

    files = [str(p) for p in _files(inputs.inbox(n))]
    work: Callable[[list[str]], list[Any]] = (
        _floor_calamine
        if design == "calamine"
        else functools.partial(_floor_fastexcel, checked=design == "fastexcel-checked")
    )

    def run() -> int:
        context = multiprocessing.get_context("fork")
        with cf.ProcessPoolExecutor(workers(), mp_context=context) as pool:
            futures = [pool.submit(work, files[i : i + BATCH]) for i in range(0, len(files), BATCH)]
            import pandas  # noqa: F401
            import pandera  # noqa: F401

            sent = [item for future in futures for item in future.result()]
        if design == "calamine":
            return sum(len(rows) for _, rows in sent)
        import pyarrow as pa

        tables = [pa.Table.from_batches([table]) for _, table in sent]
        frame = pa.concat_tables(tables, promote_options="permissive").to_pandas()
        return int(frame.iloc[:, 1].notna().sum())

    return _timed(run)


def step_annex(writer: str, inputs: Inputs, actions: int) -> Work:
    n = actions // ACTIONS_PER_RETURN
    meta, records = _records(inputs, n)
    out = Path(tempfile.mkdtemp(prefix="bench-annex-"))
    try:
        if writer == "bare":
            rows = _bare_rows(records)
            return _timed(lambda: bare_annex(out / "annexe.xlsx", meta, rows))
        from xlfunding.model import Programme
        from xlfunding.write.annex import write_annex

        settings = _settings()
        programme = Programme(settings, tuple(_actions(records, meta["codes"], inputs.inbox(n))))

        def write() -> int:
            write_annex(programme, out / "annexe.xlsx")
            return len(programme.actions)

        return _timed(write)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def step_naive(inputs: Inputs, n: int) -> Work:
    """The naïve pipeline: pandas.read_excel (openpyxl) for every file, then bare XlsxWriter
    writing the same annex cells."""
    import pandas  # noqa: F401

    with inputs.records(n).open("rb") as handle:
        meta = pickle.load(handle)["meta"]
    width = len(meta["codes"])
    out = Path(tempfile.mkdtemp(prefix="bench-naive-"))

    def run() -> int:
        rows: list[BareRow] = []
        for path in _files(inputs.inbox(n)):
            for index, values in enumerate(_pandas_frame(path).itertuples(index=False)):
                amounts = [0.0 if v != v else float(v) for v in values[5 : 5 + width]]
                rows.append(
                    (
                        values[0],
                        values[1],
                        values[2] if values[2] == values[2] else "",
                        values[3],
                        float(values[4]),
                        amounts,
                        f"{path.name} — 'Actions'!ligne {index + 5}",
                    )
                )
        return bare_annex(out / "annexe.xlsx", meta, rows)

    try:
        return _timed(run)
    finally:
        shutil.rmtree(out, ignore_errors=True)


STEPS: dict[str, Callable[[Inputs, int], Work]] = {
    "sheet-openpyxl": lambda i, n: step_sheet("openpyxl", i, n),
    "sheet-openpyxl-ro": lambda i, n: step_sheet("openpyxl-ro", i, n),
    "sheet-calamine": lambda i, n: step_sheet("calamine", i, n),
    "sheet-fastexcel": lambda i, n: step_sheet("fastexcel", i, n),
    "files-pandas": lambda i, n: step_files("pandas", i, n),
    "files-openpyxl-ro": lambda i, n: step_files("openpyxl-ro", i, n),
    "files-calamine": lambda i, n: step_files("calamine", i, n),
    "files-fastexcel": lambda i, n: step_files("fastexcel", i, n),
    "read-validate": step_read_validate,
    "pandera": step_pandera,
    "annex-bare": lambda i, n: step_annex("bare", i, n),
    "annex-xlfunding": lambda i, n: step_annex("xlfunding", i, n),
    "naive": step_naive,
    "floor-calamine": lambda i, n: step_floor("calamine", i, n),
    "floor-fastexcel": lambda i, n: step_floor("fastexcel", i, n),
    "floor-fastexcel-checked": lambda i, n: step_floor("fastexcel-checked", i, n),
}


def child(step: str, root: str, size: int) -> None:
    """Entry point of a measuring process: run one step, print its result as one JSON line."""
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(STEPS[step], Inputs(Path(root)), size)
        profiler.dump_stats(profile)
    else:
        result = STEPS[step](Inputs(Path(root)), size)
    print(RESULT + json.dumps(result), flush=True)


# -- measuring a process -------------------------------------------------------------------
@dataclass
class Run:
    wall: float
    rss_mb: float  # the process tree's peak (sum of its processes)
    returncode: int
    stdout: str
    stderr: str
    result: Work = field(default_factory=dict)
    root_mb: float = 0.0  # peak of the measured process alone
    child_mb: float = 0.0  # peak of its largest descendant (a reading worker), 0 if none


def _tree_rss(root: int, page: int) -> tuple[int, int, int]:
    """Resident bytes of ``root`` and all its descendants now, from /proc (Linux): the sum,
    ``root``'s own, and the largest descendant's."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(name)], rss[int(name)] = int(fields[1]), int(fields[21]) * page
    total, largest, todo = 0, 0, [root]
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        if pid != root:
            largest = max(largest, rss.get(pid, 0))
        todo += children.get(pid, [])
    return total, rss.get(root, 0), largest


class _TreeSampler(threading.Thread):
    """Samples the process tree's summed RSS: ru_maxrss only knows the largest single process,
    which undercounts a reader that forks workers. Also the peaks of the root process alone
    and of its largest descendant (a reading worker)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.root_peak, self.child_peak = root, 0, 0, 0
        self.done = threading.Event()
        self.enabled = os.path.isdir("/proc")

    def run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE") if self.enabled else 0
        while self.enabled and not self.done.wait(0.1):
            total, root, child = _tree_rss(self.root, page)
            self.peak = max(self.peak, total)
            self.root_peak, self.child_peak = max(self.root_peak, root), max(self.child_peak, child)


def measure(argv: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Run ``argv`` in a fresh process: wall time, peak RSS of its tree, exit code, output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=ROOT,
        )
        sampler = _TreeSampler(process.pid)
        sampler.start()
        timer = threading.Timer(TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)  # usage: this child and its reaped ones
        wall = time.perf_counter() - started
        timer.cancel()
        sampler.done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        maxrss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    run = Run(wall, max(maxrss, sampler.peak / 2**20), process.returncode, stdout, stderr)
    run.root_mb, run.child_mb = sampler.root_peak / 2**20, sampler.child_peak / 2**20
    for line in stdout.splitlines():
        if line.startswith(RESULT):
            run.result = json.loads(line.removeprefix(RESULT))
    return run


def child_argv(step: str, inputs: Inputs, size: int) -> list[str]:
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_scale; "
        f"bench_scale.child({step!r}, {str(inputs.root)!r}, {size})"
    )
    return [sys.executable, "-c", code]


def xlfunding_argv(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("xlfunding")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "xlfunding", *args]


# -- the stages, the table -----------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    name: str  # as printed
    kind: str  # "files" (size: returns), "sheet" (rows), "annex" (actions), "cli"
    step: str = ""  # a STEPS key, or "" for a command line
    needs: str = ""  # an optional package: "absent" when it is not installed


STAGES = (
    Stage("read sheet: openpyxl", "sheet", "sheet-openpyxl"),
    Stage("read sheet: openpyxl read-only", "sheet", "sheet-openpyxl-ro"),
    Stage("read sheet: python-calamine", "sheet", "sheet-calamine", "python-calamine"),
    Stage("read sheet: fastexcel", "sheet", "sheet-fastexcel", "fastexcel"),
    Stage("read files: pandas.read_excel (openpyxl)", "files", "files-pandas"),
    Stage("read files: openpyxl read-only", "files", "files-openpyxl-ro"),
    Stage("read files: python-calamine", "files", "files-calamine", "python-calamine"),
    Stage("read files: fastexcel", "files", "files-fastexcel", "fastexcel"),
    Stage("read+validate: xlfunding consolidate()", "files", "read-validate"),
    Stage(
        "floor: python-calamine on every core, values sent back, pandas+pandera imported",
        "files",
        "floor-calamine",
        "python-calamine",
    ),
    Stage(
        "floor: fastexcel on every core, Arrow sent back, pandas+pandera imported, one frame",
        "files",
        "floor-fastexcel",
        "fastexcel",
    ),
    Stage(
        "floor: the same after xlfunding's hostile-file checks",
        "files",
        "floor-fastexcel-checked",
        "fastexcel",
    ),
    Stage("pandera: build_schema().validate (frame_of)", "files", "pandera"),
    Stage("write annex: bare XlsxWriter", "annex", "annex-bare"),
    Stage("write annex: xlfunding write_annex", "annex", "annex-xlfunding"),
    Stage("naïve pipeline: pandas.read_excel + bare XlsxWriter", "files", "naive"),
    Stage("consolidate: xlfunding CLI (annex + report)", "files"),
    Stage("cli: xlfunding --help", "cli"),
    Stage("cli: xlfunding validate examples/programmation-2025.xlsx", "cli"),
)
DERIVED = ("consolidate: linear time", "consolidate: flat memory per file")


@dataclass
class Row:
    stage: Stage
    size: int
    runs: list[Run] = field(default_factory=list)
    absent: bool = False
    error: str = ""
    target: str = "—"
    verdict: str = "—"

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def rss(self) -> float:
        return max(r.rss_mb for r in self.runs)

    @property
    def work(self) -> float | None:
        works = [r.result["work"] for r in self.runs if "work" in r.result]
        return statistics.median(works) if works else None


def _size_label(stage: Stage, size: int) -> str:
    number = f"{size:,}".replace(",", " ")
    unit = {"files": "returns", "sheet": "rows", "annex": "actions"}.get(stage.kind)
    return f"{number} {unit}" if unit else "—"


def _cli_args(stage: Stage, inputs: Inputs, size: int, out: Path) -> list[str]:
    """The arguments of the ``xlfunding`` command a command-line stage runs."""
    if stage.name.startswith("consolidate"):
        inbox, annex, report = inputs.inbox(size), out / "annexe.xlsx", out / "rapport.xlsx"
        return ["consolidate", str(inbox), "-o", str(annex), "--report", str(report), "--force"]
    if "--help" in stage.name:
        return ["--help"]
    return ["validate", str(EXAMPLE)]


def _argv(stage: Stage, inputs: Inputs, size: int, out: Path) -> list[str]:
    if stage.step:
        return child_argv(stage.step, inputs, size)
    return xlfunding_argv(*_cli_args(stage, inputs, size, out))


def _expected(stage: Stage, size: int) -> int | None:
    if stage.kind == "sheet":
        return size
    if stage.kind in ("files", "annex"):
        return size * (ACTIONS_PER_RETURN if stage.kind == "files" else 1)
    return None


def _check(stage: Stage, size: int, run: Run) -> str:
    """Why this run does not count ("" when it does): a crash, or not every row read."""
    if run.returncode != 0:
        tail = (run.stderr.strip() or run.stdout.strip()).splitlines()[-1:] or [""]
        return f"exit {run.returncode}: {tail[0][:120]}"
    expected = _expected(stage, size)
    if stage.step:
        count = run.result.get("count")
        if run.result.get("failures"):
            return f"{run.result['failures']} pandera failure(s) on valid data"
    elif stage.name.startswith("consolidate"):
        found = re.search(r"(\d+) retenues", run.stdout)
        count = int(found.group(1)) if found else None
    else:
        return ""
    if count != expected:
        return f"{count} rows for {expected} expected"
    return ""


def run_stage(stage: Stage, inputs: Inputs, size: int, repeat: int) -> Row:
    row = Row(stage, size)
    if stage.needs and importlib.util.find_spec(MODULES.get(stage.needs, stage.needs)) is None:
        row.absent, row.verdict = True, "absent"
        return row
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-out-") as out:
            run = measure(_argv(stage, inputs, size, Path(out)))
        row.runs.append(run)
        row.error = _check(stage, size, run)
        if row.error:
            row.verdict = "ERROR: " + row.error
            break
    return row


def _find(rows: Sequence[Row], prefix: str, size: int) -> Row | None:
    for row in rows:
        if row.stage.name.startswith(prefix) and row.size == size and row.runs and not row.error:
            return row
    return None


def _judge(row: Row, checks: Sequence[tuple[str, bool]]) -> None:
    row.target = "; ".join(text for text, _ in checks)
    failed = [text.split(" (")[0] for text, ok in checks if not ok]
    row.verdict = "PASS" if not failed else "FAIL: " + "; ".join(failed)


def _ratio(row: Row, base: Row | None, limit: float, what: str, judged: bool) -> None:
    """``row`` within ``limit`` times ``base`` (wall, or work when ``what`` says so)."""
    if base is None:
        row.target = f"≤ {limit}× {what} (not measured in this run)"
        return
    ours, theirs = ((row.work or 0), (base.work or 0)) if "work" in what else (row.wall, base.wall)
    ratio = ours / theirs if theirs else float("inf")
    if judged:
        _judge(row, [(f"≤ {limit}× {what} ({ratio:.2f}×)", ratio <= limit)])
    else:
        row.target = f"({ratio:.2f}× {what.split(',')[0]})"


def judge(rows: list[Row], sizes: Sequence[int]) -> list[Row]:
    """Set each row's target and verdict; return the derived rows (linearity, memory)."""
    largest = max(sizes)
    for row in rows:
        if not row.runs or row.error:
            continue
        name, size = row.stage.name, row.size
        if name.startswith("consolidate"):
            naive = _find(rows, "naïve", size)
            speedup = f"naïve ÷ ours = {naive.wall / row.wall:.1f}×" if naive else "no naïve run"
            checks = [
                (f"< 20 s wall ({row.wall:.1f})", row.wall < 20),
                (f"< 1024 MB ({row.rss:.0f})", row.rss < 1024),
            ]
            if naive:
                checks.append((f"> 2× faster than naïve ({speedup})", naive.wall > 2 * row.wall))
            if size == largest:
                _judge(row, checks)
            else:
                row.target = f"({speedup})"
        elif name.startswith(("read+validate", "floor")):  # a floor row is not a target
            _ratio(
                row,
                _find(rows, "read files: python-calamine", size),
                1.5,
                "python-calamine's read, wall",
                name.startswith("read+validate") and size == largest,
            )
        elif name == "write annex: xlfunding write_annex":
            _ratio(
                row,
                _find(rows, "write annex: bare", size),
                1.2,
                "bare XlsxWriter, work",
                size == largest * ACTIONS_PER_RETURN,
            )
        elif name == "cli: xlfunding --help":
            _judge(row, [("< 0.3 s wall", row.wall < 0.3)])
        elif name.startswith("cli: xlfunding validate"):
            _judge(row, [("< 1.0 s wall", row.wall < 1.0)])
    consolidations = sorted(
        (r for r in rows if r.stage.name.startswith("consolidate") and r.runs and not r.error),
        key=lambda r: r.size,
    )
    linear = Row(Stage(DERIVED[0], "derived"), largest, target="n/a (needs 3 sizes)")
    flat = Row(Stage(DERIVED[1], "derived"), largest, target="n/a (needs 2 sizes)")
    if len(consolidations) >= 3:
        (n1, t1), (n2, t2), (n3, t3) = [(r.size, r.wall) for r in consolidations[-3:]]
        low, high = (t2 - t1) / (n2 - n1), (t3 - t2) / (n3 - n2)
        _judge(
            linear,
            [
                (
                    f"s per extra return {n2}→{n3} ≤ 1.5× {n1}→{n2} "
                    f"({high * 1000:.1f} vs {low * 1000:.1f} ms)",
                    high <= 1.5 * max(low, 0),
                )
            ],
        )
    if len(consolidations) >= 2:
        # The annex needs every accepted action in memory, so the total grows with the
        # actions; what must not grow is the memory per file: a reading worker holds one
        # batch at a time, and the main process holds the actions, not the files.
        middle, big = consolidations[-2], consolidations[-1]

        def worker(row: Row) -> float:
            return max(run.child_mb for run in row.runs)

        def main(row: Row) -> float:
            return max(run.root_mb for run in row.runs)

        per_action = (main(big) - main(middle)) / ((big.size - middle.size) * ACTIONS_PER_RETURN)
        checks = [
            (
                f"largest worker at {big.size} ≤ 1.5× at {middle.size} "
                f"({worker(big):.0f} vs {worker(middle):.0f} MB)",
                worker(middle) > 0 and worker(big) <= 1.5 * worker(middle),
            )
        ]
        _judge(flat, checks)
        flat.target += (
            f"; main process {main(middle):.0f} → {main(big):.0f} MB, "
            f"{per_action * 1024:.1f} KB per extra action kept; whole tree "
            f"{consolidations[0].rss:.0f} → {big.rss:.0f} MB"
        )
    return [linear, flat]


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| stage | size | median wall s | peak RSS MB | target | PASS/FAIL | work s |",
        "|---|---|---:|---:|---|---|---:|",
    ]
    for row in rows:
        size = _size_label(row.stage, row.size) if row.stage.kind != "derived" else "—"
        if row.runs:
            wall, rss = f"{row.wall:.2f}", f"{row.rss:.0f}"
            work = f"{row.work:.2f}" if row.work is not None else "—"
        else:
            wall = rss = work = "—"
        lines.append(
            f"| {row.stage.name} | {size} | {wall} | {rss} | {row.target} | "
            f"{row.verdict} | {work} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            models = [ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")]
        cpu = models[0] if models else cpu
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} absent")
    commit = (
        subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            check=False,
        ).stdout.strip()
        or "?"
    )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return "\n".join(
        [
            f"- machine: {os.cpu_count()} cores ({usable} usable), {cpu}, {platform.platform()}",
            f"- Python {platform.python_version()} ({sys.executable})",
            f"- packages: {', '.join(versions)}",
            f"- xlfunding tree: {commit}; load average at start: {load}",
        ]
    )


def profile(name: str, inputs: Inputs, size: int, top: int = 25) -> None:
    """Run one stage once under cProfile and print its top functions."""
    import pstats

    stage = next((s for s in STAGES if name.lower() in s.name.lower()), None)
    if stage is None:
        raise SystemExit(f"no stage matches {name!r}")
    with tempfile.TemporaryDirectory(prefix="bench-prof-") as folder:
        stats = Path(folder) / "profile.out"
        argv = _argv(stage, inputs, size, Path(folder))
        env = dict(os.environ)
        if stage.step:
            env["BENCH_PROFILE"] = str(stats)
        else:
            args = _cli_args(stage, inputs, size, Path(folder))
            argv = [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "xlfunding", *args]
        run = measure(argv, env)
        print(
            f"## cProfile: {stage.name}, {_size_label(stage, size)}: wall {run.wall:.2f} s, "
            f"exit {run.returncode}\n"
        )
        for key in ("tottime", "cumulative"):
            pstats.Stats(str(stats), stream=sys.stdout).sort_stats(key).print_stats(top)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10,100,1000",
        help="numbers of returns of 100 actions (default 10,100,1000)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per stage (median)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 returns, a 300-row sheet, one run: checks that it all works",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=HERE / ".data",
        help="cache of the generated inputs (default benchmarks/.data)",
    )
    parser.add_argument("--only", default="", help="only the stages whose name contains this")
    parser.add_argument(
        "--profile",
        metavar="STAGE",
        help="run the stage whose name contains STAGE once under cProfile, at "
        "the largest size, and print its top functions",
    )
    args = parser.parse_args(argv)
    sizes = [3] if args.quick else sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    repeat = 1 if args.quick else max(1, args.repeat)
    sheet_rows = max(sizes) * ACTIONS_PER_RETURN
    inputs = Inputs(args.data.resolve() / f"v{GENERATOR}")
    print("# xlfunding scale benchmark\n")
    print(machine())
    print(
        f"- sizes: {', '.join(map(str, sizes))} returns of {ACTIONS_PER_RETURN} actions; "
        f"one sheet of {sheet_rows} rows; median of {repeat} run(s); inputs in {inputs.root}\n",
        flush=True,
    )
    prepare(inputs, sizes, sheet_rows)
    if args.profile:
        stage = next((s for s in STAGES if args.profile.lower() in s.name.lower()), None)
        kind = stage.kind if stage else "files"
        size = {"sheet": sheet_rows, "annex": sheet_rows}.get(kind, max(sizes))
        profile(args.profile, inputs, size)
        return 0
    rows: list[Row] = []
    for stage in STAGES:
        if args.only and args.only.lower() not in stage.name.lower():
            continue
        stage_sizes = {
            "sheet": [sheet_rows],
            "cli": [0],
            "annex": [n * ACTIONS_PER_RETURN for n in sizes],
        }.get(stage.kind, sizes)
        for size in stage_sizes:
            row = run_stage(stage, inputs, size, repeat)
            rows.append(row)
            wall = f"{row.wall:.2f} s" if row.runs else row.verdict
            print(
                f"  {stage.name} [{_size_label(stage, size)}]: {wall}", file=sys.stderr, flush=True
            )
    derived = judge(rows, sizes)
    print(table([*rows, *derived]))
    print(
        "\nwall: whole process, interpreter start and imports included; work: the measured "
        "step inside the process (pandera: the validate call alone; write annex: the write "
        "alone, the actions already in memory); peak RSS: the process tree's. Targets are "
        "judged at the largest size. The machine may be shared: the numbers are noisy."
    )
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
