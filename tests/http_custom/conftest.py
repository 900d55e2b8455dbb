"""Real http_custom servers on 127.0.0.1: one shared per test module, or one per test with flags."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Small limits so the tests reach them quickly; --timeout short so slow clients are cut fast.
TEST_FLAGS = ("--max-body", "1024", "--max-url", "512", "--max-header-bytes", "2048",
              "--max-headers", "20", "--max-fields", "10")


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log: Path, *flags: str, env: dict[str, str] | None = None,
                 port: int | None = None) -> Server:
    """Start on ``port`` (default: a free one); with port 0, learn the port from the log."""
    if port is None:
        port = _free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "http_custom", "--port", str(port), *flags],
            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"http_custom exited {proc.returncode}: {log.read_text()}")
        if port == 0:
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read_text())
            if found:
                return Server(int(found[1]), proc, log)
            time.sleep(0.05)
            continue
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return Server(port, proc, log)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise TimeoutError(f"http_custom not listening on {port}: {log.read_text()}")


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(5)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a whole module, with the small TEST_FLAGS limits."""
    srv = start_server(tmp_path_factory.mktemp("http_custom") / "server.log", *TEST_FLAGS)
    yield srv
    stop_server(srv)


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start a server with extra flags for one test; stopped at teardown."""
    started: list[Server] = []

    def make(*flags: str, env: dict[str, str] | None = None, port: int | None = None) -> Server:
        srv = start_server(tmp_path / f"server-{len(started)}.log", *TEST_FLAGS, *flags, env=env,
                           port=port)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        stop_server(srv)
