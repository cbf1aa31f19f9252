"""Reading returns in worker processes: same results as in one process, and a worker that dies
or hangs costs one file, never the batch."""

from __future__ import annotations

import gc
import os
import shutil
import time
from pathlib import Path

import pytest

from xlfunding.month import parallel
from xlfunding.month.consolidate import consolidate
from xlfunding.month.inbox import Status
from xlfunding.month.reading import read_returns

ROOT = Path(__file__).parent.parent
RETURNS = ROOT / "examples" / "retours"


def _work(paths: list[Path]) -> list[str]:
    """Module-level (picklable) work: dies on 'crash', hangs on 'hang'."""
    for path in paths:
        if path.name.startswith("crash"):
            os._exit(134)  # what an aborting native reader does to its process
        if path.name.startswith("hang"):
            time.sleep(3600)
    return [f"lu {p.name}" for p in paths]


def _failed(path: Path, why: str) -> str:
    return f"illisible {path.name} : {why}"


def test_a_dying_or_hanging_reader_costs_only_its_own_file(monkeypatch):
    monkeypatch.setattr(parallel, "FILE_SECONDS", 3.0)
    monkeypatch.setattr(parallel, "CHUNK_SECONDS", 3.0)
    names = [f"ok-{i}.xlsx" for i in range(7)] + ["crash.xlsx", "hang.xlsx"]
    results = list(parallel.map_chunks([Path(n) for n in names], _work, _failed, chunk=3,
                                       processes=2))
    assert sorted(results) == sorted(
        [f"lu ok-{i}.xlsx" for i in range(7)]
        + ["illisible crash.xlsx : le lecteur s'est arrêté brutalement sur ce fichier",
           "illisible hang.xlsx : la lecture a dépassé 3 secondes"])


def test_parallel_reading_gives_the_same_results_as_serial(tmp_path, settings):
    for index in range(20):  # distinct copies: same content would be set aside as duplicates
        for source in RETURNS.glob("*.xlsx"):
            target = tmp_path / f"{index:02d}-{source.name}"
            shutil.copy(source, target)
            with target.open("ab") as handle:  # trailing bytes after the zip: still readable
                handle.write(bytes([index]))
    paths = sorted(tmp_path.glob("*.xlsx"))
    serial = {r.path: (r.status, r.accepted, len(r.problems))
              for r in read_returns(paths, settings, processes=1)}
    spread = {r.path: (r.status, r.accepted, len(r.problems))
              for r in read_returns(paths, settings, processes=2)}
    assert spread == serial
    assert {status for status, _, _ in serial.values()} == {Status.VALID}
    assert sum(accepted for _, accepted, _ in serial.values()) == 20 * 10


@pytest.mark.parametrize("processes", [1, 2])
def test_consolidation_figures_do_not_depend_on_the_number_of_processes(tmp_path, settings,
                                                                          processes, monkeypatch):
    monkeypatch.setattr(parallel, "workers", lambda: processes)
    monkeypatch.setattr("xlfunding.month.reading.PARALLEL_FROM", 1)
    result = consolidate(RETURNS, settings)
    assert result.programme.total == 248656
    assert [f.path.name for f in result.files] == ["ccas-2025.xlsx", "ville-2025.xlsx"]


def test_the_cycle_collector_pauses_and_comes_back() -> None:
    import gc

    assert gc.isenabled()
    with parallel.without_cycle_collector():
        assert not gc.isenabled()
        with parallel.without_cycle_collector():  # nested: the outer one brings it back
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), parallel.without_cycle_collector():
        raise ValueError
    assert gc.isenabled()


def test_a_file_result_comes_back_from_a_worker_whole(tmp_path, settings) -> None:
    """FileResult pickles its rows as tuples: every field of every row and action, the
    rejected rows and a source-less action included, comes back equal."""
    import dataclasses
    import pickle

    from xlfunding.month.reading import _read_batch

    broken = tmp_path / "ville.xlsx"
    shutil.copy(RETURNS / "ville-2025.xlsx", broken)
    results = _read_batch([RETURNS / "ccas-2025.xlsx", broken], settings)
    first = results[0]
    first.rows[0].reason = "action en double : déjà retenue"
    first.rows[1].action = dataclasses.replace(first.rows[1].action, source=None)
    first.rows[2].action = None
    back = pickle.loads(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == results
    fields = dataclasses.astuple  # every field, those left out of == included
    for mine, theirs in zip(back[0].rows, results[0].rows, strict=True):
        assert fields(mine) == fields(theirs)
        if theirs.action is not None and theirs.action.source is not None:
            assert mine.action is not None and mine.action.source is not None
            assert mine.action.source.columns == theirs.action.source.columns


def test_reading_in_this_process_leaves_no_cycles_behind(tmp_path, settings) -> None:
    """consolidate pauses the cycle collector while the results pile up; each batch still
    collects its own cycles (pandas makes some), or memory would grow with the files."""
    import gc

    paths = []
    for index in range(40):
        target = tmp_path / f"{index:02d}.xlsx"
        shutil.copy(RETURNS / "ccas-2025.xlsx", target)
        paths.append(target)
    gc.collect()
    with parallel.without_cycle_collector():
        results = list(read_returns(paths, settings, processes=1))
        left = gc.collect()
    assert len(results) == 40
    assert left < 500, f"{left} objets en cycles laissés par la lecture"


def test_what_a_paused_block_keeps_goes_to_the_oldest_generation() -> None:
    assert gc.isenabled()
    gc.collect()  # the young generations empty: only the block's objects will be there
    with parallel.without_cycle_collector():
        assert not gc.isenabled()
        kept = [[i] for i in range(1000)]
    assert gc.isenabled()
    gc.disable()  # looking must not move them: a young collection would, at the next object
    try:
        oldest = {id(o) for o in gc.get_objects(generation=2)}
    finally:
        gc.enable()
    assert all(id(x) in oldest for x in kept)


def test_a_process_that_keeps_objects_frozen_keeps_them_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with parallel.without_cycle_collector():
            [[i] for i in range(10)]
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()
