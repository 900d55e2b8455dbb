"""Checks of http_custom (docs/protocols/http_custom.md): every course route, keep-alive reuse,
HEAD, 405, XSS escaping, traversal, oversized bodies, malformed requests and bad JSON, each
followed where it matters by proof that the server still serves. Standard library only.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from client_runner.checks.base import CheckFailed, Context, Target, check, expect, probe

SERVICE = "http_custom"
XSS = "<script>alert('netlab')</script><img src=x onerror=alert(2)>"
LEAK_MARKERS = (b"import ", b"def ", b"root:x:0:", b"[boot loader]")
TRAVERSALS = (
    "/static/../healthcheck.py",
    "/static/%2e%2e/healthcheck.py",
    "/static/%2E%2E%2Fhealthcheck.py",
    "/static/..%2f..%2f..%2fetc/passwd",
    "/static/....//....//etc/passwd",
    "/static/..\\healthcheck.py",
    "/static/%5c..%5chealthcheck.py",
    "/static//etc/passwd",
    "/../../../../etc/passwd",
    "//evil.example/",
)


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def _request(target: Target, timeout: float, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> Reply:
    conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def _get(ctx: Context, path: str, method: str = "GET") -> Reply:
    return _request(ctx.target(SERVICE), ctx.timeout, method, path)


def _post(ctx: Context, path: str, body: bytes, content_type: str) -> Reply:
    return _request(ctx.target(SERVICE), ctx.timeout, "POST", path, body,
                    {"Content-Type": content_type})


def _status(reply: Reply, expected: int, what: str) -> None:
    if reply.status != expected:
        raise CheckFailed(f"{what}: wrong status", expected=expected,
                          got=f"{reply.status} {reply.text()[:120]!r}")


def _raw(target: Target, timeout: float, data: bytes) -> bytes:
    """Send bytes exactly as given (no client normalises them) and read until the server closes
    or one complete response (head plus Content-Length) has arrived."""
    with socket.create_connection((target.host, target.port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
            head, sep, body = received.partition(b"\r\n\r\n")
            if sep:
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length" and \
                            len(body) >= int(value.strip() or 0):
                        return received
        return received


def _raw_status(data: bytes) -> int:
    parts = data.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise CheckFailed("no HTTP response", expected="HTTP/1.1 <status>", got=data[:80])
    return int(parts[1])


def _still_serving(ctx: Context) -> None:
    reply = _get(ctx, "/api/data")
    _status(reply, 200, "GET /api/data right after a bad request")


@probe(SERVICE, 8080)
def ready(target: Target, timeout: float) -> None:
    reply = _request(target, timeout, "GET", "/healthz")
    expect(reply.status == 200, "GET /healthz is not 200", expected=200, got=reply.status)


@check(SERVICE, "index page links every route and has a form")
def index(ctx: Context) -> str:
    reply = _get(ctx, "/")
    _status(reply, 200, "GET /")
    expect(reply.header("Content-Type") == "text/html; charset=utf-8", "index Content-Type",
           expected="text/html; charset=utf-8", got=reply.header("Content-Type"))
    for needle in ('href="/time"', 'href="/api/data"', 'href="/form"', "<form"):
        expect(needle in reply.text(), f"index lacks {needle}", expected=needle)
    return f"{len(reply.body)} bytes"


@check(SERVICE, "GET /time is plain text")
def time_route(ctx: Context) -> str:
    reply = _get(ctx, "/time")
    _status(reply, 200, "GET /time")
    expect(reply.header("Content-Type").startswith("text/plain"), "/time Content-Type",
           expected="text/plain; charset=utf-8", got=reply.header("Content-Type"))
    return reply.text().strip()


@check(SERVICE, "GET /api/data is JSON")
def api_data(ctx: Context) -> None:
    reply = _get(ctx, "/api/data")
    _status(reply, 200, "GET /api/data")
    expect(reply.header("Content-Type").startswith("application/json"), "JSON Content-Type",
           expected="application/json; charset=utf-8", got=reply.header("Content-Type"))
    data = json.loads(reply.body)
    expect(data.get("status") == "success" and data.get("data") == [1, 2, 3, 4, 5],
           "/api/data document", expected="status success, data [1..5]", got=data)


@check(SERVICE, "GET /form and a static file")
def form_and_static(ctx: Context) -> None:
    reply = _get(ctx, "/form")
    _status(reply, 200, "GET /form")
    expect('action="/submit"' in reply.text(), "/form posts to /submit")
    css = _get(ctx, "/static/style.css")
    _status(css, 200, "GET /static/style.css")
    expect(css.header("Content-Type").startswith("text/css"), "static Content-Type",
           expected="text/css; charset=utf-8", got=css.header("Content-Type"))


@check(SERVICE, "POST /submit echoes the form escaped (no XSS)")
def submit_escaped(ctx: Context) -> None:
    body = urlencode({"name": XSS, "message": "a & b"}).encode()
    reply = _post(ctx, "/submit", body, "application/x-www-form-urlencoded")
    _status(reply, 200, "POST /submit")
    page = reply.text()
    expect("<script>alert" not in page and "<img src=x" not in page,
           "the payload came back as live markup", got=page[:300])
    expect("&lt;script&gt;alert(" in page, "the payload is not shown escaped",
           expected="&lt;script&gt;alert(...", got=page[:300])


@check(SERVICE, "POST /api/submit: form in, JSON out; bad JSON is 400")
def api_submit(ctx: Context) -> None:
    reply = _post(ctx, "/api/submit", b"name=netlab", "application/x-www-form-urlencoded")
    _status(reply, 200, "POST /api/submit")
    data = json.loads(reply.body)
    expect(data.get("received") == {"name": ["netlab"]}, "echoed form",
           expected={"name": ["netlab"]}, got=data)
    bad = _post(ctx, "/api/submit", b'{"name": ', "application/json")
    _status(bad, 400, "malformed JSON")
    expect(json.loads(bad.body).get("status") == 400, "error is JSON", got=bad.text()[:120])
    _still_serving(ctx)


@check(SERVICE, "HEAD has GET's headers and no body")
def head(ctx: Context) -> None:
    target = ctx.target(SERVICE)
    conn = http.client.HTTPConnection(target.host, target.port, timeout=ctx.timeout)
    try:
        conn.request("GET", "/")
        get = conn.getresponse()
        get_body = get.read()
        conn.request("HEAD", "/")
        resp = conn.getresponse()
        body = resp.read()  # http.client knows HEAD has no body; this must not hang
    finally:
        conn.close()
    _status(Reply(resp.status, resp.headers, body), 200, "HEAD /")
    expect(resp.headers.get("Content-Length") == str(len(get_body)), "HEAD Content-Length",
           expected=len(get_body), got=resp.headers.get("Content-Length"))
    expect(resp.headers.get("Content-Type") == get.headers.get("Content-Type"), "HEAD type")


@check(SERVICE, "405 with Allow, 404 page")
def not_allowed(ctx: Context) -> None:
    reply = _get(ctx, "/api/data", method="DELETE")
    _status(reply, 405, "DELETE /api/data")
    expect("GET" in reply.header("Allow"), "Allow lists GET", expected="GET, HEAD, OPTIONS",
           got=reply.header("Allow"))
    missing = _get(ctx, "/no/such/page")
    _status(missing, 404, "GET /no/such/page")


@check(SERVICE, "keep-alive: one socket serves several requests")
def keep_alive(ctx: Context) -> str:
    target = ctx.target(SERVICE)
    conn = http.client.HTTPConnection(target.host, target.port, timeout=ctx.timeout)
    ports = set()
    try:
        for path in ("/api/data", "/time", "/", "/api/data"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            _status(Reply(resp.status, resp.headers, b""), 200, f"GET {path}")
            expect(conn.sock is not None, "server closed a keep-alive connection")
            ports.add(conn.sock.getsockname()[1])
            expect(resp.headers.get("Connection", "").lower() != "close",
                   "server asked to close", got=resp.headers.get("Connection"))
    finally:
        conn.close()
    expect(len(ports) == 1, "requests went over more than one connection", expected=1,
           got=len(ports))
    return "4 requests, 1 connection"


@check(SERVICE, "oversized body is 413 before it is read, then still serving")
def too_large(ctx: Context) -> None:
    head = (b"POST /api/submit HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 104857600\r\n\r\nname=")
    status = _raw_status(_raw(ctx.target(SERVICE), ctx.timeout, head))
    expect(status == 413, "100 MB declared body", expected=413, got=status)
    _still_serving(ctx)


@check(SERVICE, "malformed request and POST without length get 400/411, then still serving")
def malformed(ctx: Context) -> None:
    target = ctx.target(SERVICE)
    for data, expected in ((b"GARBAGE\x00\x01\r\n\r\n", 400),
                           (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400),
                           (b"POST /api/submit HTTP/1.1\r\nHost: x\r\n\r\n", 411)):
        status = _raw_status(_raw(target, ctx.timeout, data))
        expect(status == expected, f"answer to {data[:30]!r}", expected=expected, got=status)
    _still_serving(ctx)


@check(SERVICE, "path traversal and //host paths: 404/400, nothing leaked, no redirect")
def traversal(ctx: Context) -> str:
    target = ctx.target(SERVICE)
    for path in TRAVERSALS:
        data = _raw(target, ctx.timeout, f"GET {path} HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n".encode())
        status = _raw_status(data)
        expect(status in (400, 404), f"GET {path}", expected="404 or 400", got=status)
        body = data.partition(b"\r\n\r\n")[2]
        leaked = [m for m in LEAK_MARKERS if m in body]
        expect(not leaked, f"GET {path} leaked file content", got=leaked)
        expect(b"\r\nlocation:" not in data.lower(), f"GET {path} redirected")
    _still_serving(ctx)
    return f"{len(TRAVERSALS)} paths refused"
