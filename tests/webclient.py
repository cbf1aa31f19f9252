"""Helpers of the drop zone's tests: a server on a copy of the example returns, the forms'
CSRF tokens, the returns a sponsor sends (built by the library, one broken by openpyxl)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from builders import CCAS_ONLY, edit, workbook

from xlfunding.settings import load_settings
from xlfunding.web.app import ServeConfig

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "retours"
PASSWORD = "mot de passe du suivi"


def inbox_copy(folder: Path) -> Path:
    inbox = folder / "retours"
    shutil.copytree(EXAMPLES, inbox)
    return inbox


def config(inbox: Path, **changes: object) -> ServeConfig:
    values: dict[str, object] = {"password": PASSWORD, "per_minute": 1000, "processes": 2}
    values.update(changes)
    return ServeConfig(inbox, load_settings(), **values)  # type: ignore[arg-type]


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def good_return(folder: Path, name: str = "ccas.xlsx") -> Path:
    return workbook(folder, CCAS_ONLY, name=name, sponsor="CCAS")


def bad_return(folder: Path, name: str = "ccas-faux.xlsx") -> Path:
    """Row 5's funders no longer add up to its total (10 000 → 12 000)."""
    return edit(workbook(folder, CCAS_ONLY, name=name, sponsor="CCAS"), {"E5": 12000})


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def saved(inbox: Path, sponsor: str = "CCAS") -> list[Path]:
    return sorted((inbox / sponsor).glob("*.xlsx"))


def refused(inbox: Path, sponsor: str = "CCAS") -> list[Path]:
    return sorted((inbox / ".refus" / sponsor).glob("*.xlsx"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Process:
    """``xlfunding serve`` in a process of its own (and its own process group)."""

    popen: subprocess.Popen[str]
    base: str
    links: dict[str, str]

    def kill(self) -> None:
        """SIGKILL to the server and its workers: no clean-up at all."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)


@contextlib.contextmanager
def serve_process(inbox: Path, *args: str, password: str = PASSWORD) -> Iterator[Process]:
    port = free_port()
    env = {**os.environ, "XLFUNDING_SUIVI_MOT_DE_PASSE": password}
    popen = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xlfunding",
            "serve",
            str(inbox),
            "--port",
            str(port),
            "--envois-par-minute",
            "1000",
            *args,
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    process = Process(popen, f"http://127.0.0.1:{port}", {})
    try:
        assert popen.stderr is not None
        for line in popen.stderr:
            found = re.match(r"\s+(\S+) : (http://\S+/depot/(\S+))$", line)
            if found:
                process.links[found.group(1)] = found.group(3)
            if line.startswith("Suivi"):
                break
        stream = popen.stderr
        threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()  # drained
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert popen.poll() is None, "the server stopped"
                time.sleep(0.2)
        else:
            raise AssertionError("the server did not start")
        yield process
    finally:
        if popen.poll() is None:
            process.kill()
