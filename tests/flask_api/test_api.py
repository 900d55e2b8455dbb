"""The course routes and the error contract: JSON under /api/, HTML elsewhere, never a trace."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient


def test_data(client: FlaskClient) -> None:
    resp = client.get("/api/data")
    assert resp.status_code == 200
    assert resp.json["message"] == "Hello, World!" and resp.json["status"] == "success"
    assert resp.json["timestamp"].endswith("Z")


def test_submit_form_and_json(client: FlaskClient) -> None:
    form = client.post("/api/submit", data={"name": "<b>张三</b>", "city": "Paris"})
    assert form.status_code == 200
    assert form.json["message"] == "Hello, <b>张三</b>!"
    assert form.json["received_data"] == {"name": "<b>张三</b>", "city": "Paris"}
    assert form.headers["Content-Type"] == "application/json"
    assert form.headers["X-Content-Type-Options"] == "nosniff"
    js = client.post("/api/submit", json={"name": "Ann"})
    assert js.status_code == 200 and js.json["message"] == "Hello, Ann!"
    assert client.post("/api/submit").json["message"] == "Hello, !"
    assert client.post("/api/submit", json={"name": 1}).status_code == 400
    assert client.post("/api/submit", json=[1]).status_code == 400
    other = client.post("/api/submit", data=b"x", content_type="text/plain")
    assert other.status_code == 415 and other.json["error"] == "unsupported_media_type"


def test_echo(client: FlaskClient) -> None:
    for value in ({"a": [1, None, "é"]}, [1, 2], "text", 3.5, None):
        resp = client.post("/api/echo", data=json.dumps(value), content_type="application/json")
        assert resp.status_code == 200 and resp.json["received"] == value
        assert isinstance(resp.json["timestamp"], float)


@pytest.mark.parametrize("data", [b"{", b"[" * 50_000, b"NaN", b"\xff", b""])
def test_echo_malformed_json_is_400(client: FlaskClient, data: bytes) -> None:
    resp = client.post("/api/echo", data=data, content_type="application/json")
    assert resp.status_code == 400 and resp.json["error"] == "invalid_json"


def test_echo_needs_json_content_type(client: FlaskClient) -> None:
    resp = client.post("/api/echo", data=b'{"a": 1}', content_type="text/plain")
    assert resp.status_code == 400


def _is_api_error(resp: object, status: int, error: str) -> None:
    assert resp.status_code == status  # type: ignore[attr-defined]
    body = resp.json  # type: ignore[attr-defined]
    assert set(body) == {"error", "message", "request_id"}, body
    assert body["error"] == error
    assert resp.headers["X-Request-ID"] == body["request_id"]  # type: ignore[attr-defined]
    assert b"Traceback" not in resp.data and b"<html" not in resp.data  # type: ignore[attr-defined]


def test_api_404_405_413_are_json(make_app: Callable[..., Flask]) -> None:
    client = make_app(MAX_CONTENT_LENGTH=1000).test_client()
    _is_api_error(client.get("/api/nothing-here"), 404, "not_found")
    not_allowed = client.delete("/api/data")
    _is_api_error(not_allowed, 405, "method_not_allowed")
    assert "GET" in not_allowed.headers["Allow"]
    big = client.post("/api/echo", data=b"[" + b"1," * 600 + b"1]", content_type="application/json")
    _is_api_error(big, 413, "payload_too_large")
    assert "1000 bytes" in big.json["message"]
    big_form = client.post("/api/submit", data={"name": "x" * 2000})
    _is_api_error(big_form, 413, "payload_too_large")
    assert client.get("/api/data").status_code == 200


def test_unexpected_exception_is_a_json_500_without_details(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/api/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    @app.get("/boom")
    def boom_page() -> str:
        raise RuntimeError("secret internal detail")

    client = app.test_client()
    resp = client.get("/api/boom")
    _is_api_error(resp, 500, "internal_error")
    assert b"secret" not in resp.data
    page = client.get("/boom")
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert b"secret" not in page.data and b"Traceback" not in page.data
    assert "secret internal detail" in caplog.text  # but the log has it, with the request id
    assert resp.json["request_id"] in caplog.text


def test_pages_get_html_errors(client: FlaskClient) -> None:
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert b"404 Not Found" in resp.data
    assert client.delete("/").status_code == 405


def test_request_id_is_echoed_only_when_sane(client: FlaskClient) -> None:
    assert client.get("/api/data", headers={"X-Request-ID": "abc-123"}).headers[
        "X-Request-ID"] == "abc-123"
    evil = client.get("/api/nope", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert evil.json["request_id"] != evil.request.headers["X-Request-ID"]
    assert len(evil.json["request_id"]) == 32


def test_healthz(app: Flask, client: FlaskClient, tmp_path: object) -> None:
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}
    app.config["DATABASE"] = "/nonexistent-dir/x/users.db"
    resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.json["status"] == "unavailable"


@pytest.mark.parametrize("path", ["/api/echo", "/api/users", "/api/login", "/api/submit"])
@pytest.mark.parametrize("data", [b'{"a": ' + b"1" * 5000 + b"}", b"1e999", b'{"a": -1e400}'])
def test_json_number_out_of_range_is_400(client: FlaskClient, path: str, data: bytes) -> None:
    # A 5000-digit integer raised a plain ValueError (500); 1e999 was echoed as ``Infinity``.
    resp = client.post(path, data=data, content_type="application/json")
    _is_api_error(resp, 400, "invalid_json")


def test_urlencoded_form_field_limit_is_enforced(make_app: Callable[..., Flask]) -> None:
    # FLASK_API_MAX_FORM_FIELDS bound only multipart bodies (werkzeug's max_form_parts); an
    # urlencoded /api/submit of any number of fields was parsed and echoed back whole.
    client = make_app(MAX_FORM_PARTS=10).test_client()
    form = "application/x-www-form-urlencoded"
    many = "&".join(f"f{i}=1" for i in range(11))
    _is_api_error(client.post("/api/submit", data=many, content_type=form), 413,
                  "payload_too_large")
    multipart = {f"f{i}": "1" for i in range(11)}
    _is_api_error(client.post("/api/submit", data=multipart, content_type="multipart/form-data"),
                  413, "payload_too_large")
    ok = client.post("/api/submit", data="&".join(f"f{i}=1" for i in range(10)), content_type=form)
    assert ok.status_code == 200 and len(ok.json["received_data"]) == 10
