"""schemathesis against the app under gunicorn: generated requests (valid and invalid) to every
operation of /openapi.json must get no 5xx, only documented status codes, content types and
headers, and bodies that match the documented schemas.

Needs ``schemathesis==4.32.5`` on the host (skipped without it locally, a failure when CI=true).
The seed is fixed so a CI failure reproduces; NETLAB_SCHEMATHESIS_SEED picks another.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import ARTIFACTS

from .conftest import PASSWORD

CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance",
])
SEED = os.environ.get("NETLAB_SCHEMATHESIS_SEED", "20261127")


def _need_schemathesis() -> None:
    if importlib.util.find_spec("schemathesis") is None:
        reason = "schemathesis is not installed (pip install schemathesis==4.32.5)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _st_run(port: int, *extra: str, name: str) -> subprocess.CompletedProcess[str]:
    """``st run`` as a subprocess; its output is kept under artifacts/schemathesis/."""
    out_dir = ARTIFACTS / "schemathesis"
    out_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; "
         "sys.exit(schemathesis())", "run", f"http://127.0.0.1:{port}/openapi.json",
         "--checks", CHECKS, "--max-examples", "20", "--seed", SEED, "--no-color",
         "--request-timeout", "10", *extra],
        capture_output=True, text=True, timeout=240, cwd=out_dir,
    )
    (out_dir / f"{name}.txt").write_text(done.stdout + done.stderr)
    return done


def test_schemathesis_finds_nothing(start_gunicorn: Callable[..., Any]) -> None:
    _need_schemathesis()
    port, _ = start_gunicorn()
    base = f"http://127.0.0.1:{port}"
    # A real user and its token, so the owner-only operations are reached past the 401.
    requests.post(f"{base}/api/users", timeout=10, json={
        "username": "schema_user", "email": "schema@example.com", "password": PASSWORD})
    token = requests.post(f"{base}/api/login", timeout=10, json={
        "username": "schema_user", "password": PASSWORD}).json()["token"]
    done = _st_run(port, "-H", f"Authorization: Bearer {token}", name="flask_api")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failures" not in done.stdout.split("SUMMARY")[-1]
    # the server is still fine afterwards
    assert requests.get(f"{base}/healthz", timeout=10).status_code == 200


def test_schemathesis_would_catch_a_server_error(make_app: Callable[..., Flask],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The same run fails when a route breaks its contract (here: /api/data raising)."""
    _need_schemathesis()
    from flask_api import api_misc

    def broken() -> None:
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(api_misc.web, "now_iso", broken)
    app = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        done = _st_run(server.server_port, "--include-path", "/api/data", "--max-failures", "1",
                       "--no-shrink", name="broken")
    finally:
        server.shutdown()
        thread.join(5)
    assert done.returncode != 0
    assert "Server error" in done.stdout or "500" in done.stdout, done.stdout[-3000:]

