"""Real processes on 127.0.0.1: gunicorn with the container's config, the dev server, healthcheck.

The restart test is the host-side version of the integration test's container restart: users
and tokens live in the SQLite file, so a new server process finds them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.conftest import ROOT, free_port

from .conftest import PASSWORD

Start = Callable[..., tuple[int, Any]]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(10)


def test_users_survive_a_gunicorn_restart(start_gunicorn: Start, tmp_path: Path) -> None:
    db = tmp_path / "data" / "users.db"
    port, proc = start_gunicorn(db)
    base = f"http://127.0.0.1:{port}"
    created = requests.post(f"{base}/api/users", timeout=10, json={
        "username": "survivor", "email": "s@example.com", "password": PASSWORD})
    assert created.status_code == 201
    token = requests.post(f"{base}/api/login", timeout=10, json={
        "username": "survivor", "password": PASSWORD}).json()["token"]
    _stop(proc)
    assert proc.returncode == 0  # gunicorn stopped cleanly on SIGTERM

    port, _ = start_gunicorn(db)
    base = f"http://127.0.0.1:{port}"
    assert requests.get(f"{base}/api/users/{created.json()['id']}", timeout=10).json() == \
        created.json()
    patched = requests.patch(f"{base}/api/users/{created.json()['id']}", timeout=10,
                             json={"username": "survivor2"},
                             headers={"Authorization": f"Bearer {token}"})
    assert patched.status_code == 200  # the token survived too (stored hashed in the file)


def test_gunicorn_keepalive_limits_and_413(start_gunicorn: Start) -> None:
    port, _ = start_gunicorn(FLASK_API_MAX_BODY="1000")
    base = f"http://127.0.0.1:{port}"
    with requests.Session() as session:
        for _ in range(3):
            assert session.get(f"{base}/api/data", timeout=10).status_code == 200
        big = session.post(f"{base}/api/echo", data=b"1" * 5000, timeout=10,
                           headers={"Content-Type": "application/json"})
        assert big.status_code == 413 and big.json()["error"] == "payload_too_large"
        assert session.get(f"{base}/api/data", timeout=10).status_code == 200
    # an overlong request line is refused by gunicorn itself, before Flask
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 4")
    assert requests.get(f"{base}/healthz", timeout=10).status_code == 200


def test_dev_server_and_healthcheck(run_service: Callable[..., Any], tmp_path: Path) -> None:
    port = free_port()
    run_service("flask_api", "--port", str(port), "--db", str(tmp_path / "dev.db"),
                "--bcrypt-rounds", "4", wait_port=port)
    assert requests.get(f"http://127.0.0.1:{port}/api/data", timeout=10).status_code == 200
    env = {**os.environ, "FLASK_API_PORT": str(port)}
    ok = subprocess.run([sys.executable, "-m", "flask_api.healthcheck"], cwd=ROOT, env=env,
                        timeout=30, capture_output=True)
    assert ok.returncode == 0
    env["FLASK_API_PORT"] = str(free_port())  # nothing listens there
    down = subprocess.run([sys.executable, "-m", "flask_api.healthcheck"], cwd=ROOT, env=env,
                          timeout=30, capture_output=True)
    assert down.returncode == 1 and b"healthcheck" in down.stderr


def test_cli_refuses_bad_settings(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flask_api", "--port", str(free_port()), "--db",
         str(tmp_path / "x.db"), "--bcrypt-rounds", "2"],
        cwd=ROOT, timeout=30, capture_output=True)
    assert done.returncode != 0 and b"BCRYPT_ROUNDS" in done.stderr
