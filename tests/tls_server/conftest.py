"""Fixtures for tls_server tests: certificates from the real make_certs.sh, and a real server."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
MAKE_CERTS = ROOT / "tls_server" / "make_certs.sh"


def make_certs(out: Path, kind: str = "ec", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(MAKE_CERTS), str(out), kind],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", **env},
    )


@pytest.fixture(scope="session")
def run_make_certs() -> Callable[..., subprocess.CompletedProcess[str]]:
    return make_certs


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("certs")
    done = make_certs(out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="session")
def foreign_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another CA with the same names: nothing signed by it may be trusted by the lab."""
    out = tmp_path_factory.mktemp("foreign")
    done = make_certs(out)
    assert done.returncode == 0, done.stderr
    return out


@dataclass
class Server:
    port: int
    mtls_port: int
    certs: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_server(
    run_service: Callable[..., subprocess.Popen[bytes]], certs: Path, tmp_path: Path
) -> Callable[..., Server]:
    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        port, mtls_port = free_port(), free_port()
        while mtls_port == port:
            mtls_port = free_port()
        before = set(tmp_path.glob("tls_server-*.log"))
        proc = run_service(
            "tls_server",
            "--port", str(port), "--mtls-port", str(mtls_port),
            "--cert-file", str(certs / "server.crt"), "--key-file", str(certs / "server.key"),
            "--ca-file", str(certs / "ca.crt"),
            "--client-cert-file", str(certs / "client.crt"),
            "--client-key-file", str(certs / "client.key"),
            *args,
            env=env,
            wait_port=mtls_port,
        )
        (log,) = set(tmp_path.glob("tls_server-*.log")) - before
        return Server(port, mtls_port, certs, proc, log)

    return start


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    return start_server()
