"""A real ``xlfunding serve`` (uvicorn, its worker pool) killed with SIGKILL while uploads are
in flight: no half file among the returns, every answered upload is there whole, the next start
sweeps the part files and the dead server's work folder, and the next consolidation balances
its ledger."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from webclient import good_return, inbox_copy, saved, serve_process

from xlfunding.month.consolidate import consolidate
from xlfunding.settings import load_settings
from xlfunding.web.api import TOKEN_HEADER
from xlfunding.web.app import WORK_PREFIX
from xlfunding.web.store import PART_PREFIX, Store


def test_a_server_killed_mid_write_loses_nothing_and_leaves_no_half_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "tmp"  # the servers' temporary folder
    work.mkdir()
    monkeypatch.setenv("TMPDIR", str(work))
    inbox = inbox_copy(tmp_path)
    source = good_return(tmp_path)
    data = source.read_bytes()
    answered: list[str] = []
    stop = threading.Event()

    def upload(process) -> None:  # type: ignore[no-untyped-def]
        with httpx.Client(base_url=process.base, timeout=30) as client:
            while not stop.is_set():
                try:
                    response = client.post(
                        "/api/retours",
                        headers={TOKEN_HEADER: process.links["CCAS"]},
                        files={"fichier": ("ccas.xlsx", data)},
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                assert response.status_code == 200, response.text
                answered.append(response.json()["deposit"]["file"])

    with serve_process(inbox) as process:
        clients = [threading.Thread(target=upload, args=(process,)) for _ in range(4)]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 180  # a loaded machine is slow
        while len(answered) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.kill()  # while the four clients are still sending
        stop.set()
        for client in clients:
            client.join(timeout=60)
    assert len(answered) >= 6
    files = saved(inbox)
    assert {f.name for f in files} >= set(answered)  # every answered upload is there
    assert all(f.read_bytes() == data for f in files)  # and whole; no other file
    leftovers = [p for p in inbox.rglob("*") if p.name.startswith(PART_PREFIX)]
    killed = list(work.glob(f"{WORK_PREFIX}*"))
    assert len(killed) == 1  # SIGKILL: the server could not remove its work folder
    with serve_process(inbox) as again:  # the next start sweeps them
        assert again.links
        assert not [p for p in inbox.rglob("*") if p.name.startswith(PART_PREFIX)]
        assert not killed[0].exists()  # and the dead server's work folder
    assert all(not p.exists() for p in leftovers)
    settings = load_settings()
    result = consolidate(Store(inbox, settings.sponsors).returns(), settings)
    ledger = result.ledger
    assert ledger.files_found == ledger.files_read + ledger.files_skipped + ledger.files_unreadable
    assert ledger.actions_read == ledger.actions_accepted + ledger.actions_rejected
    assert result.complete  # the newest CCAS return replaces the example's, VILLE's stays
    assert result.programme.total == Decimal(163136) + Decimal(15000)
