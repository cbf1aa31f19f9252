"""The staff's consolidation run (``web.follow.run``) called directly: an unreadable previous
annex costs only the « Évolutions », any other error is raised at once, never hidden by a
second consolidation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from webclient import config, inbox_copy

from xlfunding.errors import UnreadableFile
from xlfunding.web import follow
from xlfunding.web.app import Server


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("xlfunding.write.libreoffice.find_soffice", lambda: None)  # no PDF
    made = Server(config(inbox_copy(tmp_path), outputs=tmp_path / "sorties"))
    yield made
    made.stop()


def spied(monkeypatch: pytest.MonkeyPatch, fail_first: Exception | None = None) -> list[Any]:
    """The calls of ``consolidate`` by ``run`` (their ``previous``); the first raises
    ``fail_first`` when given, the others consolidate."""
    calls: list[Any] = []
    real = follow.consolidate

    def consolidate(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("previous"))
        if fail_first is not None and len(calls) == 1:
            raise fail_first
        return real(*args, **kwargs)

    monkeypatch.setattr(follow, "consolidate", consolidate)
    return calls


def test_an_unreadable_previous_annex_leaves_out_only_the_evolutions(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = server.config.outputs / "20000101-000000"  # type: ignore[operator]
    earlier.mkdir(parents=True)
    (earlier / "annexe-20000101-000000.xlsx").write_bytes(b"PK\x03\x04 pas un classeur")
    calls = spied(monkeypatch)
    done = follow.run(server)
    assert calls == [earlier / "annexe-20000101-000000.xlsx", None]
    assert done["evolutions"] is None
    assert [name.split("-")[0] for name in done["files"]] == ["annexe", "rapport"]


def test_another_error_is_raised_at_once_and_not_hidden_by_a_second_run(
    server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    follow.run(server)  # a first run: its annex is the next run's previous one
    broken = UnreadableFile(tmp_path / "retours" / "ccas-2025.xlsx", "disque illisible")
    calls = spied(monkeypatch, fail_first=broken)
    with pytest.raises(UnreadableFile) as raised:
        follow.run(server)
    assert raised.value is broken
    assert len(calls) == 1  # no second consolidation that would have shown a partial result


def test_a_run_compares_with_the_previous_one(server: Server) -> None:
    first = follow.run(server)
    second = follow.run(server)
    assert first["evolutions"] is None
    assert second["evolutions"]["previous"] == f"annexe-{first['stamp']}.xlsx"
    assert second["evolutions"]["changes"] == []
    folder = server.config.outputs / second["stamp"]  # type: ignore[operator]
    assert sorted(p.name for p in folder.iterdir()) == sorted(second["files"])
