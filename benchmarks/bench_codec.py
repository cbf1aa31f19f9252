"""How a reading result travels (issue #15): the cache's entry (``cachecodec``) against the
packing a worker used before (2b606a2: the FileResult pickled with its rows as plain tuples,
copied here as ``before_dumps`` / ``before_loads``) and against the objects' own pickle.

Run:  python benchmarks/bench_codec.py [--size 200] [--repeat 5] [--quick]

Reads ``--size`` of the scale benchmark's returns once (``bench_scale``'s seeded inbox,
generated under ``--data`` if missing), then times, on those results, with the cycle
collector paused as the consolidation does: making the entries (``encode``) and reading them
back (``decode``), the packing before, and ``pickle.dumps`` / ``pickle.loads`` of the
FileResults. Each figure is
the median of ``--repeat`` passes over all the results, all in this one process, one after
the other; the ratios compare passes made side by side. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scale_inputs import GENERATOR, Inputs, prepare
from scale_measure import HERE, machine


def before_dumps(result: Any) -> bytes:
    """2b606a2's ``FileResult.__getstate__``, then pickle."""
    state = dict(result.__dict__)
    state["rows"] = [_row_tuple(row) for row in result.rows]
    return pickle.dumps(state, protocol=5)


def before_loads(data: bytes) -> Any:
    """Pickle, then 2b606a2's ``FileResult.__setstate__``."""
    from xlfunding.month.inbox import FileResult

    state = pickle.loads(data)
    state["rows"] = [_row_of(packed) for packed in state["rows"]]
    result = FileResult.__new__(FileResult)
    result.__dict__.update(state)
    return result


def _row_tuple(row: Any) -> tuple[Any, ...]:
    action, source = row.action, row.action.source if row.action else None
    fields = None
    if action is not None:
        where = None if source is None else (source.file, source.sheet, source.row,
                                             source.columns)
        fields = (action.axis, action.title, action.description, action.sponsor, action.total,
                  action.funding, where, (action.reference, action.siret, action.rna))
    return (row.file, row.sheet, row.row, row.sponsor, row.title, row.total, row.reason, fields)


def _row_of(packed: tuple[Any, ...]) -> Any:
    from xlfunding.model import Action, Location
    from xlfunding.month.inbox import RowResult

    file, sheet, number, sponsor, title, total, reason, fields = packed
    action = None
    if fields is not None:
        axis, title_, description, sponsor_, cost, funding, where, ids = fields
        source = None if where is None else Location(*where)
        action = Action(axis, title_, description, sponsor_, cost, funding, source, *ids)
    return RowResult(file, sheet, number, sponsor, title, total, action, reason)


def passes(function: Callable[[Any], Any], items: list[Any], repeat: int) -> float:
    """The median time of ``repeat`` passes of ``function`` over ``items``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        out = [function(item) for item in items]
        times.append(time.perf_counter() - started)
        del out
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    from xlfunding.month import cachecodec
    from xlfunding.month.reading import read_returns
    from xlfunding.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200, help="returns (default 200)")
    parser.add_argument("--repeat", type=int, default=5, help="passes per figure (median)")
    parser.add_argument("--quick", action="store_true", help="5 returns, 1 pass")
    parser.add_argument("--data", type=Path, default=HERE / ".data", help="generated inputs")
    args = parser.parse_args(argv)
    size, repeat = (5, 1) if args.quick else (args.size, args.repeat)
    inputs = Inputs(args.data.resolve() / f"v{GENERATOR}")
    prepare(inputs, [size], 100)  # the first returns of every size are the same files
    results = list(read_returns(inputs.files(size), load_settings()))
    entries = [cachecodec.encode(r) for r in results]
    pickles = [pickle.dumps(r, protocol=5) for r in results]
    packed = [before_dumps(r) for r in results]
    assert [before_loads(p) for p in packed] == results
    back = [cachecodec.decode(e, r.path, r.mtime) for e, r in zip(entries, results, strict=True)]
    assert back == results
    gc.disable()
    rows = {
        "encode (entry)": passes(cachecodec.encode, results, repeat),
        "packing before (2b606a2)": passes(before_dumps, results, repeat),
        "pickle.dumps (objects)": passes(lambda r: pickle.dumps(r, protocol=5), results,
                                         repeat),
        "decode (entry)": passes(lambda e: cachecodec.decode(e, Path("a.xlsx"), None), entries,
                                 repeat),
        "unpacking before (2b606a2)": passes(before_loads, packed, repeat),
        "pickle.loads (objects)": passes(pickle.loads, pickles, repeat),
    }
    print("# xlfunding codec benchmark (#15)\n")
    print(machine())
    actions = sum(len(r.rows) for r in results)
    def kb(items: list[bytes]) -> str:
        return f"{sum(map(len, items)) / len(items) / 1000:.0f} KB"

    print(f"- {len(results)} returns, {actions} rows; a return's bytes: entry {kb(entries)}, "
          f"packing before {kb(packed)}, pickled objects {kb(pickles)}\n")
    print("| step | median s | per return ms | ratio to the packing before | ratio to pickle |")
    print("|---|---:|---:|---:|---:|")
    peers = {
        "encode (entry)": ("packing before (2b606a2)", "pickle.dumps (objects)"),
        "decode (entry)": ("unpacking before (2b606a2)", "pickle.loads (objects)"),
    }
    for name, seconds in rows.items():
        ratios = [f"{seconds / rows[p]:.2f}×" for p in peers.get(name, ())] or ["—", "—"]
        each = seconds / len(results) * 1000
        print(f"| {name} | {seconds:.3f} | {each:.2f} | {' | '.join(ratios)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
