"""The drop zone's checker: a warm pool of worker processes; uploads that arrive together are
checked in one pass and each gets its own report; a worker that dies costs only that attempt."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from webclient import bad_return, good_return

from xlfunding.settings import load_settings
from xlfunding.validate import validate_file
from xlfunding.web.checks import Checker


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    checker = Checker(load_settings(), 1)
    checker.warm(tmp_path_factory.mktemp("warm"))
    yield checker
    checker.close()


def rows(report) -> list[tuple[str | None, str]]:  # type: ignore[no-untyped-def]
    return [(p.cell, p.code) for p in report.problems]


def test_uploads_checked_together_get_each_its_own_report(checker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = [good_return(tmp_path, f"bon{i}.xlsx") for i in range(3)]
    files += [bad_return(tmp_path, f"faux{i}.xlsx") for i in range(3)]

    async def all_at_once():  # type: ignore[no-untyped-def]
        return await asyncio.gather(*(checker.check(f, "CCAS", None) for f in files))

    outcomes = asyncio.run(all_at_once())
    for path, outcome in zip(files, outcomes, strict=True):
        alone = validate_file(path)
        assert outcome.report.valid == alone.valid and rows(outcome.report) == rows(alone)
        assert outcome.report.files == [path]


def test_a_worker_that_dies_costs_only_that_attempt(checker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pool = checker._pool
    for process in list(pool._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
    time.sleep(0.5)
    outcome = asyncio.run(checker.check(good_return(tmp_path), "CCAS", None))
    assert outcome.report.valid
    assert checker._pool is not pool  # renewed for the next uploads
    again = asyncio.run(checker.check(bad_return(tmp_path), "CCAS", tmp_path / "c.xlsx"))
    assert rows(again.report) == [("E5", "funders-do-not-add-up")]
    assert again.corrections == tmp_path / "c.xlsx" and again.corrections.exists()
