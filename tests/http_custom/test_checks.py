"""client_runner's http_custom checks: all pass against the real server, and the ones that
matter fail against a naive course-style server (unescaped echo, HTTP/1.0, no limits)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from client_runner.checks import http_custom as checks
from client_runner.checks.base import CHECKS, CheckFailed, Context, Target

from .conftest import Server


def context(port: int) -> Context:
    return Context(targets={"http_custom": Target("127.0.0.1", port)}, timeout=3.0, settings={})


def test_every_check_passes_against_the_real_server(server: Server) -> None:
    ctx = context(server.port)
    checks.ready(ctx.target("http_custom"), 2.0)
    mine = [c for c in CHECKS if c.service == "http_custom"]
    assert len(mine) == 12
    details = {c.name: c.fn(ctx) for c in mine}
    assert details["keep-alive: one socket serves several requests"] == "4 requests, 1 connection"
    assert details["GET /time is plain text"].startswith("server time: ")


class Naive(BaseHTTPRequestHandler):
    """The course's shape: HTTP/1.0, the body pasted into HTML, any length read blindly."""

    def do_GET(self) -> None:
        body = b"<html>ok</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<p>" + data.replace(b"%3C", b"<").replace(b"%3E", b">") + b"</p>")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def naive() -> Iterator[int]:
    httpd = HTTPServer(("127.0.0.1", 0), Naive)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    "check",
    [checks.submit_escaped, checks.keep_alive, checks.api_data, checks.not_allowed,
     checks.index],
)
def test_checks_fail_against_a_naive_server(naive: int, check) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((CheckFailed, ValueError)):
        check(context(naive))


def test_probe_fails_when_nothing_listens() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError):
        checks.ready(Target("127.0.0.1", port), 0.5)
