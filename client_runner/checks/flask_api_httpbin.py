"""The course's ``requests`` and ``urllib`` examples, run against flask_api's httpbin endpoints.

The course calls https://httpbin.org; here only the base URL changes (``ctx.target("flask_api")``),
so each check is one feature the course shows: query params, forms, JSON, uploads, Session
cookies, timeouts, ``Retry`` with ``status_forcelist``, ``raise_for_status``, basic auth,
redirects, gzip, binary bodies, then ``urllib.request`` GET and POST. The probe of flask_api is
registered by ``checks/flask_api.py``; these checks run after that module's.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .base import CheckFailed, Context, check, expect, expect_equal

SERVICE = "flask_api"


def _url(ctx: Context, path: str) -> str:
    target = ctx.target(SERVICE)
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"http://{host}:{target.port}{path}"


def _json(response: requests.Response, what: str) -> Any:
    expect_equal(response.status_code, 200, f"{what} status")
    try:
        return response.json()
    except ValueError:
        raise CheckFailed(f"{what} is not JSON", got=response.text[:200]) from None


@check(SERVICE, "httpbin: requests GET with params")
def get_params(ctx: Context) -> str:
    params: dict[str, Any] = {"name": "张三", "age": 25, "tag": ["a", "b"]}
    body = _json(requests.get(_url(ctx, "/get"), params=params, timeout=ctx.timeout), "GET /get")
    expect_equal(body.get("args"), {"name": "张三", "age": "25", "tag": ["a", "b"]}, "args")
    expect("url" in body and "origin" in body and "headers" in body, "httpbin keys", got=body)
    return f"origin {body['origin']}"


@check(SERVICE, "httpbin: requests POST form")
def post_form(ctx: Context) -> None:
    form = {"username": "testuser", "password": "testpass"}
    body = _json(requests.post(_url(ctx, "/post"), data=form, timeout=ctx.timeout), "POST /post")
    expect_equal(body.get("form"), form, "form")
    expect_equal((body.get("json"), body.get("data")), (None, ""), "json and data of a form")


@check(SERVICE, "httpbin: requests POST JSON")
def post_json(ctx: Context) -> None:
    doc = {"title": "测试文章", "content": "正文", "tags": ["x", 1, None]}
    body = _json(requests.post(_url(ctx, "/post"), json=doc, timeout=ctx.timeout), "POST /post")
    expect_equal(body.get("json"), doc, "json")
    expect_equal(body["headers"].get("Content-Type"), "application/json", "Content-Type echoed")


@check(SERVICE, "httpbin: requests file upload")
def post_files(ctx: Context) -> None:
    files = {
        "file": ("test.txt", b"This is test file content"),
        "blob": ("b.bin", b"\xff\x00\xfe", "application/octet-stream"),
    }
    response = requests.post(_url(ctx, "/post"), files=files, data={"k": "v"}, timeout=ctx.timeout)
    body = _json(response, "POST /post multipart")
    expected = {
        "file": "This is test file content",
        "blob": "data:application/octet-stream;base64,/wD+",
    }
    expect_equal(body.get("files"), expected, "files")
    expect_equal(body.get("form"), {"k": "v"}, "form beside the files")


@check(SERVICE, "httpbin: requests Session keeps cookies")
def session_cookies(ctx: Context) -> None:
    with requests.Session() as session:
        first = session.get(_url(ctx, "/cookies/set/sessionid/123456"), timeout=ctx.timeout)
        expect_equal(len(first.history), 1, "redirects after /cookies/set")
        session.get(_url(ctx, "/cookies/set"), params={"theme": "dark"}, timeout=ctx.timeout)
        body = _json(session.get(_url(ctx, "/cookies"), timeout=ctx.timeout), "GET /cookies")
        expect_equal(body, {"cookies": {"sessionid": "123456", "theme": "dark"}}, "cookies")
        after = session.get(_url(ctx, "/cookies/delete?sessionid"), timeout=ctx.timeout)
        expect_equal(_json(after, "cookies/delete"), {"cookies": {"theme": "dark"}}, "after delete")


@check(SERVICE, "httpbin: requests custom headers")
def custom_headers(ctx: Context) -> None:
    headers = {"User-Agent": "netlab-runner/1.0", "X-Netlab-Check": "headers 1"}
    def get(path: str) -> Any:
        return _json(requests.get(_url(ctx, path), headers=headers, timeout=ctx.timeout), path)

    echoed = get("/headers").get("headers", {})
    for name, value in headers.items():
        expect_equal(echoed.get(name), value, f"echoed {name}")
    expect_equal(get("/user-agent"), {"user-agent": "netlab-runner/1.0"}, "/user-agent")


@check(SERVICE, "httpbin: requests timeout on /delay")
def delay_timeout(ctx: Context) -> str:
    try:
        requests.get(_url(ctx, "/delay/2"), timeout=0.5)
    except requests.exceptions.Timeout:
        pass
    else:
        raise CheckFailed("/delay/2 answered within timeout=0.5", expected="Timeout")
    body = _json(requests.get(_url(ctx, "/delay/1"), timeout=max(5.0, ctx.timeout)), "/delay/1")
    expect("args" in body and "origin" in body, "delay echoes the request", got=body)
    over = requests.get(_url(ctx, "/delay/11"), timeout=ctx.timeout)
    expect_equal(over.status_code, 400, "/delay over the 10 s cap")
    return "timeout=0.5 raised Timeout; /delay/1 ok; /delay/11 -> 400"


def _retrying_session(raise_on_status: bool) -> requests.Session:
    retry = Retry(
        total=3, backoff_factor=0.1, status_forcelist=[503], raise_on_status=raise_on_status
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


@check(SERVICE, "httpbin: requests Retry on /status/503")
def retry_503(ctx: Context) -> str:
    with _retrying_session(raise_on_status=False) as session:
        last = session.get(_url(ctx, "/status/503"), timeout=ctx.timeout)
        expect_equal(last.status_code, 503, "status after the retries")
        history = last.raw.retries.history if last.raw.retries else ()
        expect_equal([h.status for h in history], [503, 503, 503], "retried responses")
    with _retrying_session(raise_on_status=True) as session:
        try:
            session.get(_url(ctx, "/status/503"), timeout=ctx.timeout)
        except requests.exceptions.RetryError:
            pass
        else:
            raise CheckFailed("no RetryError after 3 retries of 503", expected="RetryError")
    return "1 request + 3 retries, then RetryError"


@check(SERVICE, "httpbin: requests raise_for_status")
def raise_for_status(ctx: Context) -> None:
    requests.get(_url(ctx, "/status/200"), timeout=ctx.timeout).raise_for_status()
    for code in (404, 500):
        response = requests.get(_url(ctx, f"/status/{code}"), timeout=ctx.timeout)
        try:
            response.raise_for_status()
        except requests.exceptions.HTTPError as exc:
            expect_equal(exc.response.status_code, code, "HTTPError status")
        else:
            raise CheckFailed(f"/status/{code} did not raise", expected="HTTPError")


@check(SERVICE, "httpbin: requests basic auth")
def basic_auth(ctx: Context) -> None:
    url = _url(ctx, "/basic-auth/alice/s3cret")
    good = requests.get(url, auth=("alice", "s3cret"), timeout=ctx.timeout)
    expect_equal(_json(good, "right password"), {"authenticated": True, "user": "alice"}, "body")
    bad = requests.get(url, auth=("alice", "wrong"), timeout=ctx.timeout)
    expect_equal(bad.status_code, 401, "wrong password status")
    challenge = bad.headers.get("WWW-Authenticate", "")
    expect(challenge.startswith("Basic"), "401 challenges Basic", got=challenge)
    bearer = requests.get(_url(ctx, "/bearer"), timeout=ctx.timeout)
    challenge = bearer.headers.get("WWW-Authenticate")
    expect_equal((bearer.status_code, challenge), (401, "Bearer"), "/bearer without a token")


@check(SERVICE, "httpbin: requests follows redirects")
def redirects(ctx: Context) -> None:
    response = requests.get(_url(ctx, "/redirect/3"), timeout=ctx.timeout)
    _json(response, "/redirect/3 end")
    expect_equal(len(response.history), 3, "redirect history length")
    expect(response.url.endswith("/get"), "ends at /get", got=response.url)
    refused = requests.get(
        _url(ctx, "/redirect-to"), params={"url": "http://example.com/"}, timeout=ctx.timeout
    )
    expect_equal(refused.status_code, 400, "open redirect to another host refused")


@check(SERVICE, "httpbin: requests gzip and bytes")
def gzip_and_bytes(ctx: Context) -> None:
    zipped = requests.get(_url(ctx, "/gzip"), timeout=ctx.timeout)
    expect_equal(zipped.headers.get("Content-Encoding"), "gzip", "Content-Encoding")
    expect_equal(_json(zipped, "/gzip").get("gzipped"), True, "decoded gzipped flag")
    first = requests.get(_url(ctx, "/bytes/1024"), params={"seed": 7}, timeout=ctx.timeout)
    again = requests.get(_url(ctx, "/bytes/1024"), params={"seed": 7}, timeout=ctx.timeout)
    expect_equal(len(first.content), 1024, "/bytes/1024 length")
    expect(first.content == again.content, "same seed, same bytes")
    too_many = requests.get(_url(ctx, "/bytes/1048576"), timeout=ctx.timeout)
    expect_equal(too_many.status_code, 400, "/bytes over the cap")


def _urlopen_json(ctx: Context, request: urllib.request.Request) -> Any:
    with urllib.request.urlopen(request, timeout=ctx.timeout) as response:
        expect_equal(response.status, 200, f"urllib {request.get_method()} status")
        return json.loads(response.read().decode("utf-8"))


@check(SERVICE, "httpbin: urllib GET with query")
def urllib_get(ctx: Context) -> None:
    query = urllib.parse.urlencode({"q": "网络 编程", "page": 2})
    request = urllib.request.Request(
        _url(ctx, f"/get?{query}"), headers={"User-Agent": "netlab-urllib/1.0"}
    )
    body = _urlopen_json(ctx, request)
    expect_equal(body.get("args"), {"q": "网络 编程", "page": "2"}, "args")
    expect_equal(body["headers"].get("User-Agent"), "netlab-urllib/1.0", "User-Agent")


@check(SERVICE, "httpbin: urllib POST form")
def urllib_post(ctx: Context) -> None:
    form = {"username": "张三", "email": "zhang@example.com"}
    request = urllib.request.Request(
        _url(ctx, "/post"),
        data=urllib.parse.urlencode(form).encode("utf-8"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    expect_equal(_urlopen_json(ctx, request).get("form"), form, "form")
