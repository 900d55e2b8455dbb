"""Checks of flask_api (docs/protocols/flask_api.md): the course routes, the page's CSRF form,
the users lifecycle with every auth failure, the error shape, the OpenAPI document, and bad
input (oversized and malformed bodies) answered with the right 4xx while the server keeps serving.

Every run registers fresh users (random names), so checks can run again against the same
database, e.g. after the integration test restarts the container. The httpbin endpoints are
checked by ``flask_api_httpbin.py``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import requests

from .base import CheckFailed, Context, Target, check, expect, expect_equal, probe

SERVICE = "flask_api"
PASSWORD = "lab-check password 1"


def _base(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"http://{host}:{target.port}"


def _url(ctx: Context, path: str) -> str:
    return _base(ctx.target(SERVICE)) + path


def _json(resp: requests.Response, status: int, what: str) -> Any:
    if resp.status_code != status:
        raise CheckFailed(f"{what}: status", expected=status,
                          got=f"{resp.status_code} {resp.text[:200]}")
    try:
        return resp.json()
    except ValueError:
        raise CheckFailed(f"{what}: body is not JSON", got=resp.text[:200]) from None


def _error(resp: requests.Response, status: int, what: str) -> dict[str, Any]:
    """An API error: the status, and the JSON shape {error, message, request_id}."""
    body = _json(resp, status, what)
    expect(isinstance(body, dict) and {"error", "message", "request_id"} <= set(body),
           f"{what}: error shape", expected="{error, message, request_id}", got=body)
    expect_equal(resp.headers.get("X-Request-ID"), body["request_id"], f"{what}: X-Request-ID")
    return body


def _name() -> str:
    return "nl_" + uuid.uuid4().hex[:14]


def _register(ctx: Context, username: str) -> dict[str, Any]:
    resp = requests.post(_url(ctx, "/api/users"), timeout=ctx.timeout, json={
        "username": username, "email": f"{username}@example.com", "password": PASSWORD})
    user = _json(resp, 201, "POST /api/users")
    expect_equal(user.get("username"), username, "created username")
    expect("password" not in resp.text and "$2b$" not in resp.text,
           "the password or its hash came back", got=resp.text[:200])
    return user


def _login(ctx: Context, username: str, password: str = PASSWORD) -> requests.Response:
    return requests.post(_url(ctx, "/api/login"), timeout=ctx.timeout,
                         json={"username": username, "password": password})


def _token(ctx: Context, username: str) -> str:
    body = _json(_login(ctx, username), 200, "POST /api/login")
    expect(isinstance(body.get("token"), str) and body["token"], "a token", got=body)
    return str(body["token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@probe(SERVICE, 5000)
def ready(target: Target, timeout: float) -> None:
    resp = requests.get(_base(target) + "/healthz", timeout=timeout)
    if resp.status_code != 200:
        raise CheckFailed("/healthz not ready", expected=200, got=resp.status_code)


@check(SERVICE, "GET /api/data")
def api_data(ctx: Context) -> str:
    body = _json(requests.get(_url(ctx, "/api/data"), timeout=ctx.timeout), 200, "GET /api/data")
    expect_equal((body.get("message"), body.get("status")), ("Hello, World!", "success"), "body")
    return str(body.get("timestamp"))


@check(SERVICE, "POST /api/submit form")
def api_submit(ctx: Context) -> None:
    form = {"name": "张三", "city": "<b>Paris</b>"}
    resp = requests.post(_url(ctx, "/api/submit"), data=form, timeout=ctx.timeout)
    body = _json(resp, 200, "POST /api/submit")
    expect_equal(body.get("message"), "Hello, 张三!", "greeting")
    expect_equal(body.get("received_data"), form, "received_data")


@check(SERVICE, "POST /api/echo JSON")
def api_echo(ctx: Context) -> None:
    doc = {"text": "回声", "list": [1, None, True], "nested": {"x": 1.5}}
    resp = requests.post(_url(ctx, "/api/echo"), json=doc, timeout=ctx.timeout)
    expect_equal(_json(resp, 200, "POST /api/echo").get("received"), doc, "received")


@check(SERVICE, "page / has a CSRF-protected registration form")
def page_form(ctx: Context) -> None:
    with requests.Session() as session:
        page = session.get(_url(ctx, "/"), timeout=ctx.timeout)
        expect_equal(page.status_code, 200, "GET / status")
        field = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        expect(field is not None, "a csrf_token field in the form", got=page.text[:300])
        expect('action="/register"' in page.text, "a form posting to /register")
        expect(session.cookies.get("csrf_token") == field.group(1),  # type: ignore[union-attr]
               "the CSRF cookie matches the field")
        name = _name()
        data = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        forged = session.post(_url(ctx, "/register"), data={**data, "csrf_token": "x.y"},
                              timeout=ctx.timeout, allow_redirects=False)
        expect_equal(forged.status_code, 403, "POST /register with a forged token")
        missing = requests.post(_url(ctx, "/register"), data=data, timeout=ctx.timeout,
                                allow_redirects=False)
        expect_equal(missing.status_code, 400, "POST /register without token or cookie")
        ok = session.post(_url(ctx, "/register"), timeout=ctx.timeout, allow_redirects=False,
                          data={**data, "csrf_token": field.group(1)})  # type: ignore[union-attr]
        expect_equal(ok.status_code, 303, "POST /register with the token")


@check(SERVICE, "users: create, 409 duplicate, 422 invalid, 400 malformed")
def users_create(ctx: Context) -> str:
    name = _name()
    user = _register(ctx, name)
    url = _url(ctx, "/api/users")
    dup = requests.post(url, timeout=ctx.timeout, json={
        "username": name.upper(), "email": f"other_{name}@example.com", "password": PASSWORD})
    expect_equal(_error(dup, 409, "duplicate username").get("error"), "conflict", "error code")
    bad = requests.post(url, timeout=ctx.timeout, json={
        "username": "x", "email": "nope", "password": "short"})
    fields = _error(bad, 422, "invalid fields").get("fields", {})
    expect_equal(sorted(fields), ["email", "password", "username"], "fields reported")
    wrong_type = requests.post(url, timeout=ctx.timeout, json={
        "username": 5, "email": "a@example.com", "password": PASSWORD})
    _error(wrong_type, 400, "a number as username")
    return f"user id {user['id']}"


@check(SERVICE, "users: login, 401 wrong password, get, list")
def users_login(ctx: Context) -> None:
    name = _name()
    user = _register(ctx, name)
    _error(_login(ctx, name, "not the password!"), 401, "login with a wrong password")
    _token(ctx, name)
    got = _json(requests.get(_url(ctx, f"/api/users/{user['id']}"), timeout=ctx.timeout), 200,
                "GET /api/users/<id>")
    expect_equal(got, user, "the user read back")
    listing = _json(requests.get(_url(ctx, "/api/users"), timeout=ctx.timeout,
                                 params={"per_page": 100, "page": 1}), 200, "GET /api/users")
    expect(isinstance(listing.get("total"), int) and listing["total"] >= 1, "a total",
           got=listing.get("total"))
    pages = max(1, -(-listing["total"] // 100))
    last = _json(requests.get(_url(ctx, "/api/users"), timeout=ctx.timeout,
                              params={"per_page": 100, "page": pages}), 200, "last page")
    expect(any(u.get("id") == user["id"] for u in last.get("users", [])),
           "the new user on the last page of GET /api/users", got=len(last.get("users", [])))


@check(SERVICE, "users: PATCH own 200, other's token 403, no token 401")
def users_patch(ctx: Context) -> None:
    owner, other = _name(), _name()
    user = _register(ctx, owner)
    _register(ctx, other)
    mine, theirs = _token(ctx, owner), _token(ctx, other)
    url = _url(ctx, f"/api/users/{user['id']}")
    change = {"email": f"changed_{owner}@example.com"}
    _error(requests.patch(url, json=change, timeout=ctx.timeout), 401, "PATCH without a token")
    _error(requests.patch(url, json=change, headers=_bearer("bogus"), timeout=ctx.timeout), 401,
           "PATCH with an invalid token")
    _error(requests.patch(url, json=change, headers=_bearer(theirs), timeout=ctx.timeout), 403,
           "PATCH with another user's token")
    _error(requests.delete(url, headers=_bearer(theirs), timeout=ctx.timeout), 403,
           "DELETE with another user's token")
    done = _json(requests.patch(url, json=change, headers=_bearer(mine), timeout=ctx.timeout),
                 200, "PATCH with the owner's token")
    expect_equal(done.get("email"), change["email"], "patched email")


@check(SERVICE, "users: DELETE with own token, then 404")
def users_delete(ctx: Context) -> None:
    name = _name()
    user = _register(ctx, name)
    token = _token(ctx, name)
    url = _url(ctx, f"/api/users/{user['id']}")
    _error(requests.delete(url, timeout=ctx.timeout), 401, "DELETE without a token")
    resp = requests.delete(url, headers=_bearer(token), timeout=ctx.timeout)
    expect_equal(resp.status_code, 204, "DELETE with the owner's token")
    _error(requests.get(url, timeout=ctx.timeout), 404, "GET after DELETE")
    _error(requests.delete(url, headers=_bearer(token), timeout=ctx.timeout), 401,
           "the token of a deleted user")


@check(SERVICE, "errors are JSON with request_id (404, 405)")
def api_errors(ctx: Context) -> None:
    body = _error(requests.get(_url(ctx, "/api/no-such-route"), timeout=ctx.timeout), 404,
                  "unknown /api/ route")
    expect(len(body["request_id"]) >= 8, "a request id", got=body["request_id"])
    resp = requests.delete(_url(ctx, "/api/data"), timeout=ctx.timeout)
    _error(resp, 405, "DELETE /api/data")
    expect("GET" in resp.headers.get("Allow", ""), "an Allow header", got=resp.headers)


@check(SERVICE, "/openapi.json describes the users API")
def openapi(ctx: Context) -> str:
    spec = _json(requests.get(_url(ctx, "/openapi.json"), timeout=ctx.timeout), 200,
                 "GET /openapi.json")
    expect(str(spec.get("openapi", "")).startswith("3."), "OpenAPI 3", got=spec.get("openapi"))
    paths = spec.get("paths", {})
    for path in ("/api/users", "/api/users/{user_id}", "/api/login", "/api/echo"):
        expect(path in paths, f"{path} documented", got=sorted(paths))
    return f"{sum(len(v) for v in paths.values())} entries"


@check(SERVICE, "oversized body is 413, then still serving")
def oversized(ctx: Context) -> str:
    limit = int(ctx.setting("FLASK_API_MAX_BODY", str(1024 * 1024)))
    body = b"[" + b"0," * ((limit + 1024) // 2) + b"0]"
    resp = requests.post(_url(ctx, "/api/echo"), data=body, timeout=ctx.timeout,
                         headers={"Content-Type": "application/json"})
    got = _error(resp, 413, f"a {len(body)}-byte body")["error"]
    expect_equal(got, "payload_too_large", "error code")
    _json(requests.get(_url(ctx, "/api/data"), timeout=ctx.timeout), 200, "GET /api/data after")
    return f"{len(body)} bytes: {got}"


@check(SERVICE, "malformed JSON is 400, then still serving")
def malformed(ctx: Context) -> None:
    for raw in (b'{"username": ', b"\xff\xfe{}", b"[" * 100_000):
        resp = requests.post(_url(ctx, "/api/users"), data=raw, timeout=ctx.timeout,
                             headers={"Content-Type": "application/json"})
        _error(resp, 400, f"body {raw[:12]!r}")
    _json(requests.get(_url(ctx, "/api/data"), timeout=ctx.timeout), 200, "GET /api/data after")
