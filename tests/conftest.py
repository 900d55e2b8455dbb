"""Fixtures every test folder may use: free loopback ports and services run as real processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port the kernel says is free on 127.0.0.1 now (tests never assume a fixed port)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_tcp(
    port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


@pytest.fixture
def run_service(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``python -m MODULE ARGS`` from the repo root; wait for ``wait_port`` if given.

    Output goes to a log file under tmp_path, shown if the test fails; every process started is
    terminated (SIGTERM, then SIGKILL) when the test ends.
    """
    procs: list[subprocess.Popen[bytes]] = []

    def start(
        module: str,
        *args: str,
        env: dict[str, str] | None = None,
        wait_port: int | None = None,
        timeout: float = 20.0,
    ) -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"{module}-{len(procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        if wait_port is not None:
            try:
                wait_for_tcp(wait_port, proc, timeout)
            except Exception:
                log.flush()
                print((tmp_path / log.name).read_text(errors="replace"))
                raise
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
