"""flask_api test fixtures: an app on a temporary database, cheap bcrypt, a movable clock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_api import create_app

PASSWORD = "correct horse battery"


class FakeClock:
    """Unix time that only moves when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_app(tmp_path: Path, clock: FakeClock) -> Callable[..., Flask]:
    """``make_app(**config)``: a fresh app on this test's database (bcrypt cost 4)."""

    def make(**config: Any) -> Flask:
        base = {"DATABASE": str(tmp_path / "users.db"), "BCRYPT_ROUNDS": 4, "CLOCK": clock,
                "TESTING": True}
        return create_app({**base, **config})

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def new_user(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """``new_user("name")`` registers a user and logs in; returns its JSON plus ``token``."""

    def make(username: str, password: str = PASSWORD) -> dict[str, Any]:
        created = client.post("/api/users", json={
            "username": username, "email": f"{username}@example.com", "password": password})
        assert created.status_code == 201, created.json
        login = client.post("/api/login", json={"username": username, "password": password})
        assert login.status_code == 200, login.json
        return {**created.json, "token": login.json["token"]}

    return make


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def start_gunicorn(
    run_service: Callable[..., Any], tmp_path: Path
) -> Callable[..., tuple[int, Any]]:
    """``start_gunicorn(db=None, **env)``: gunicorn with the container's config on a free port."""
    from tests.conftest import free_port

    def start(db: Path | None = None, **env: str) -> tuple[int, Any]:
        port = free_port()
        proc = run_service(
            "gunicorn", "-c", "flask_api/gunicorn.conf.py", "flask_api:create_app()",
            env={"FLASK_API_PORT": str(port), "FLASK_API_DB": str(db or tmp_path / "users.db"),
                 "FLASK_API_WORKERS": "2", "FLASK_API_THREADS": "2",
                 "FLASK_API_BCRYPT_ROUNDS": "4", **env},
            wait_port=port,
        )
        return port, proc

    return start
