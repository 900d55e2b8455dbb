"""The runner's flask_api checks: they pass against the real app under gunicorn, and they fail
against apps that break the contract they check."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from client_runner.checks import base
from client_runner.checks import flask_api as checks

MINE = [c for c in base.REGISTRY.checks if c.fn.__module__ == checks.__name__]


def _ctx(port: int) -> base.Context:
    return base.Context({"flask_api": base.Target("127.0.0.1", port)}, timeout=10, settings={})


@contextmanager
def _serve(app: Flask) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(5)


def test_probe_and_checks_are_registered() -> None:
    assert base.REGISTRY.probes["flask_api"] is checks.ready
    assert base.REGISTRY.default_ports["flask_api"] == 5000
    assert len(MINE) >= 10


def test_every_check_passes_against_gunicorn(start_gunicorn: Callable[..., Any]) -> None:
    port, _ = start_gunicorn()
    ctx = _ctx(port)
    checks.ready(ctx.target("flask_api"), 5)
    failures = {}
    for chk in MINE:
        try:
            chk.fn(ctx)
        except (base.CheckFailed, OSError) as exc:
            failures[chk.name] = f"{exc!r} expected={getattr(exc, 'expected', None)!r} " \
                                 f"got={getattr(exc, 'got', None)!r}"
    assert failures == {}
    # and again on the same database: fresh names, no 409s from the first round
    for chk in MINE:
        chk.fn(ctx)


def test_ownership_check_fails_when_anyone_may_patch(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_api import api_users, web

    # authenticated, but the owner is not compared: any logged-in user may change anyone
    monkeypatch.setattr(api_users, "_owner", lambda user_id: web.require_user())
    with _serve(make_app()) as port, pytest.raises(base.CheckFailed, match="another user"):
        checks.users_patch(_ctx(port))


def test_413_check_fails_without_a_body_limit(make_app: Callable[..., Flask]) -> None:
    with _serve(make_app(MAX_CONTENT_LENGTH=64 * 1024 * 1024)) as port, \
            pytest.raises(base.CheckFailed, match="byte body"):
        checks.oversized(_ctx(port))


def test_error_shape_check_fails_on_html_errors(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    @app.errorhandler(404)
    def html_404(_exc: Exception) -> tuple[str, int]:
        return "<h1>Not Found</h1>", 404

    with _serve(app) as port, pytest.raises(base.CheckFailed, match="not JSON"):
        checks.api_errors(_ctx(port))


def test_probe_fails_when_nothing_listens() -> None:
    from tests.conftest import free_port

    with pytest.raises(OSError):
        checks.ready(base.Target("127.0.0.1", free_port()), 1)
