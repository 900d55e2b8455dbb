"""``python -m client_runner`` as a process, with the real check modules, against a closed port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def closed_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("service", "kind"), [("tcp_chat", socket.SOCK_STREAM), ("udp_service", socket.SOCK_DGRAM)]
)
def test_closed_port_fails_naming_the_service(service: str, kind: int, tmp_path: Path) -> None:
    port = closed_port(kind)
    env = {**os.environ, "NETLAB_WAIT_SECONDS": "1", "NETLAB_REPORT_DIR": str(tmp_path)}
    env.pop("NETLAB_SERVICES", None)
    done = subprocess.run(
        [sys.executable, "-m", "client_runner", "--only", service,
         "--target", f"{service}=127.0.0.1:{port}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=50,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{service} unreachable after 1 s at 127.0.0.1:{port}" in done.stdout, done.stdout
    last = done.stdout.splitlines()[-1]
    assert last.startswith("0 passed, ") and not last.endswith(" 0 failed")
    assert (tmp_path / "report.json").exists() and (tmp_path / "junit.xml").exists()
