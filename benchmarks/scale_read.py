"""The reading stages of the scale benchmark, each run in a fresh process: one large sheet and
the N returns read by each Excel reader, xlfunding's read+validate (``consolidate()`` without
writing), pandera alone, and the floor of a parallel reading design."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scale_inputs import Inputs, bundled_settings
from scale_measure import Work, timed


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


def pandas_frame(path: Path):  # type: ignore[no-untyped-def]
    """The actions of a return as pandas.read_excel (openpyxl) reads them."""
    import pandas as pd

    frame = pd.read_excel(path, sheet_name="Actions", header=3, engine="openpyxl")
    return frame[frame.iloc[:, 1].notna()]


def step_sheet(reader: str, inputs: Inputs, rows: int) -> Work:
    path = inputs.sheet(rows)
    if reader == "openpyxl":
        return timed(lambda: _openpyxl_rows(path, read_only=False))
    if reader == "openpyxl-ro":
        return timed(lambda: _openpyxl_rows(path, read_only=True))
    if reader == "calamine":
        return timed(lambda: _calamine_rows(path))
    return timed(lambda: _fastexcel_rows(path))


def step_files(reader: str, inputs: Inputs, n: int) -> Work:
    files = inputs.files(n)
    if reader == "pandas":
        import pandas  # noqa: F401

        return timed(lambda: sum(len(pandas_frame(p)) for p in files))
    if reader == "openpyxl-ro":
        import openpyxl  # noqa: F401

        return timed(lambda: sum(_openpyxl_rows(p, read_only=True) for p in files))
    if reader == "calamine":
        import python_calamine  # noqa: F401

        return timed(lambda: sum(_calamine_rows(p) for p in files))
    import fastexcel  # noqa: F401

    return timed(lambda: sum(_fastexcel_rows(p) for p in files))


def step_read_validate(inputs: Inputs, n: int) -> Work:
    """What consolidation does before writing: triage, read, check, rules, ledger. The heavy
    libraries are imported where consolidate imports them (in the reading workers, from 32
    returns on), so "work" includes their import there."""
    from xlfunding.month.consolidate import consolidate

    settings = bundled_settings()
    return timed(lambda: consolidate(inputs.inbox(n), settings).ledger.actions_accepted)


def step_pandera(inputs: Inputs, n: int) -> Work:
    """pandera alone, on the frame of ``n`` returns built by validate.frame_of."""
    import pandera.errors

    from xlfunding.read.template import read_template
    from xlfunding.schema import build_schema
    from xlfunding.validate import frame_of

    settings = bundled_settings()
    frame = frame_of([read_template(p, settings) for p in inputs.files(n)], settings)
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

    files = [str(p) for p in inputs.files(n)]
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

    return timed(run)
