"""The HTML page: the registration form with CSRF, escaping, the fetch script, security headers."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from flask_api import security

from .conftest import PASSWORD

STATIC = Path(__file__).resolve().parents[2] / "flask_api" / "static"


def _token(client: FlaskClient) -> str:
    page = client.get("/")
    assert page.status_code == 200
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page.data)
    assert match, "no CSRF field on the form"
    return match.group(1).decode()


def _form(token: str | None, username: str = "alice", **extra: str) -> dict[str, str]:
    data = {"username": username, "email": f"{username}@example.com", "password": PASSWORD,
            **extra}
    if token is not None:
        data["csrf_token"] = token
    return data


def test_index_has_form_with_csrf_cookie_and_field(client: FlaskClient) -> None:
    page = client.get("/")
    token = _token(client)
    cookie = client.get_cookie(security.CSRF_COOKIE)
    assert cookie is not None and cookie.value == token
    assert cookie.http_only and cookie.same_site == "Strict"
    assert b'action="/register"' in page.data and b'id="fetch-users"' in page.data
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert b"<script>" not in page.data  # no inline script: the CSP forbids it anyway


def test_token_is_stable_while_valid(client: FlaskClient) -> None:
    assert _token(client) == _token(client)


def test_register_success_redirects_to_the_user_page(client: FlaskClient) -> None:
    resp = client.post("/register", data=_form(_token(client)))
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200 and b"alice@example.com" in page.data
    assert client.get("/api/users").json["total"] == 1


def test_csrf_missing_is_400_and_wrong_is_403(client: FlaskClient) -> None:
    token = _token(client)
    missing = client.post("/register", data=_form(None))
    assert missing.status_code == 400 and b"CSRF token missing" in missing.data
    forged = client.post("/register", data=_form("x.y"))
    assert forged.status_code == 403 and b"CSRF token invalid" in forged.data
    other_browser = security.new_csrf_token(client.application.config["CSRF_KEY"])
    assert client.post("/register", data=_form(other_browser)).status_code == 403
    client.delete_cookie(security.CSRF_COOKIE)
    assert client.post("/register", data=_form(token)).status_code == 400  # no cookie
    assert client.get("/api/users").json["total"] == 0


def test_errors_rerender_the_form_escaped(client: FlaskClient) -> None:
    token = _token(client)
    xss = '"><script>alert(1)</script>'
    resp = client.post("/register", data=_form(token, email=xss, username="alice"))
    assert resp.status_code == 422
    assert b"<script>alert(1)</script>" not in resp.data
    assert b"&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in resp.data
    assert b"not a valid email address" in resp.data
    assert PASSWORD.encode() not in resp.data  # the password is not echoed back
    assert client.post("/register", data=_form(token)).status_code == 303
    dup = client.post("/register", data=_form(token))
    assert dup.status_code == 409 and b"already taken" in dup.data


def test_user_page_escapes_stored_values(client: FlaskClient) -> None:
    # Usernames cannot hold markup, but the page must not depend on that: check the template
    # with a value that got in around the API (directly in the database).
    import sqlite3

    client.post("/api/users", json={"username": "alice", "email": "a@example.com",
                                    "password": PASSWORD})
    with sqlite3.connect(client.application.config["DATABASE"]) as conn:
        conn.execute("UPDATE users SET email = ?", ("<img src=x onerror=alert(1)>",))
    page = client.get("/users/1")
    assert b"<img src=x" not in page.data and b"&lt;img src=x onerror=alert(1)&gt;" in page.data
    assert client.get("/users/99").status_code == 404


def test_fetch_script_builds_the_list_with_text_content() -> None:
    script = (STATIC / "users.js").read_text()
    assert "fetch(\"/api/users" in script and "textContent" in script
    assert ".innerHTML" not in script


def test_docs_page_lists_routes_without_external_assets(client: FlaskClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    for path in (b"/api/users/{user_id}", b"/api/login", b"/api/echo"):
        assert path in page.data
    assert b"http://" not in page.data and b"https://" not in page.data


def test_register_form_field_limit(client: FlaskClient) -> None:
    limit = client.application.config["MAX_FORM_PARTS"]
    data = _form(_token(client), **{f"x{i}": "1" for i in range(limit)})
    resp = client.post("/register", data=data)
    assert resp.status_code == 413 and b"<html" in resp.data
