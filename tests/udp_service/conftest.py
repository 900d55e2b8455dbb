"""A real udp_service on 127.0.0.1, started as ``python -m udp_service`` on a free UDP port."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import pytest


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_pong(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """UDP has no connect to wait for: ping until a PONG comes (each try bounded)."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"udp_service exited early with {proc.returncode}")
            s.sendto(b"ping", ("127.0.0.1", port))
            try:
                if s.recv(2048).startswith(b"PONG "):
                    return
            except OSError:
                time.sleep(0.05)
    raise TimeoutError(f"no PONG from 127.0.0.1:{port} after {timeout} s")


UdpServer = Callable[..., tuple[int, subprocess.Popen[bytes]]]


@pytest.fixture
def udp_server(run_service: Callable[..., subprocess.Popen[bytes]]) -> UdpServer:
    """Start a server with extra flags; return (port, process) once it answers."""

    def start(*args: str, env: dict[str, str] | None = None) -> tuple[int, subprocess.Popen[bytes]]:
        port = free_udp_port()
        proc = run_service("udp_service", "--port", str(port), *args, env=env)
        wait_for_pong(port, proc)
        return port, proc

    return start
