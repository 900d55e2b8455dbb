"""http_custom over real sockets on 127.0.0.1: framing, limits, slow and excess clients, SIGTERM."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Server


def exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (every request here ends in a close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def status(data: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
    assert match, data[:100]
    return int(match[1])


def get(port: int, path: str = "/api/data") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def still_serving(port: int) -> None:
    assert get(port).status == 200


def test_keep_alive_reuses_one_connection(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/api/data")
    first = conn.getresponse()
    body = first.read()
    sock = conn.sock
    assert first.status == 200
    assert int(first.headers["Content-Length"]) == len(body)
    assert first.headers["Connection"] == "keep-alive"
    conn.request("GET", "/time")
    second = conn.getresponse()
    assert second.read().startswith(b"server time: ")
    assert conn.sock is sock  # http.client would have reconnected had the server closed
    conn.close()


def test_pipelined_head_has_no_body(server: Server) -> None:
    data = exchange(server.port, b"HEAD /api/data HTTP/1.1\r\nHost: x\r\n\r\n"
                    b"GET /api/data HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head_response, rest = data.split(b"\r\n\r\n", 1)
    assert head_response.startswith(b"HTTP/1.1 200 OK")
    assert rest.startswith(b"HTTP/1.1 200 OK")  # the GET answer follows the HEAD head directly
    get_head, get_body = rest.split(b"\r\n\r\n", 1)
    length = re.search(rb"Content-Length: (\d+)", head_response)
    assert length and int(length[1]) == len(get_body)
    assert b"Connection: close" in get_head


def test_http10_closes_by_default(server: Server) -> None:
    data = exchange(server.port, b"GET /time HTTP/1.0\r\n\r\n")
    assert status(data) == 200
    assert b"Connection: close" in data


def test_404_405_allow(server: Server) -> None:
    assert get(server.port, "/missing").status == 404
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("PUT", "/time", body=b"x")
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 405
    assert resp.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_xss_payload_comes_back_escaped(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", "/submit", body=b"name=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    page = resp.read().decode()
    assert resp.status == 200
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_api_submit_bad_json(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", "/api/submit", body=b"{nope", headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 400
    assert json.loads(resp.read())["error"] == "Bad Request"
    still_serving(server.port)


@pytest.mark.parametrize(
    "path",
    [b"/static/../cli.py", b"/static/%2e%2e/cli.py", b"/static/%2e%2e%2fcli.py",
     b"/static/..\\cli.py", b"/static/..%5ccli.py", b"/static/../../../../../etc/passwd",
     b"//evil.example/", b"/static//etc/passwd", b"/../http_custom/cli.py"],
)
def test_traversal_over_the_wire(server: Server, path: bytes) -> None:
    data = exchange(server.port, b"GET " + path + b" HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status(data) in (400, 404)
    assert b"import " not in data and b"root:" not in data
    assert b"Location:" not in data


def test_static_file_over_the_wire(server: Server) -> None:
    resp = get(server.port, "/static/logo.png")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        (b"POST /api/submit HTTP/1.1\r\nHost: x\r\n\r\n", 411),
        (b"POST /api/submit HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
        (b"POST /api/submit HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n", 413),
        (b"GET /" + b"a" * 600 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),  # beyond http.server's own limit
        (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 25 + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 3000 + b"\r\n\r\n", 431),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),  # a TLS hello
        (b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400),
        (b"GET /%ff HTTP/1.1\r\nConnection: close\r\n\r\n", 400),  # not UTF-8
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"BREW /pot HTTP/1.1\r\n\r\n", 501),
        (b"POST /api/submit HTTP/1.1\r\nContent-Length: 2\r\nExpect: tea\r\n\r\nab", 417),
    ],
)
def test_bad_requests_answered_then_still_serving(
    server: Server, request_bytes: bytes, expected: int
) -> None:
    data = exchange(server.port, request_bytes)
    assert status(data) == expected
    still_serving(server.port)


def test_413_reaches_a_client_that_sends_its_whole_body(server: Server) -> None:
    """The body keeps arriving after the 413; lingering keeps the answer from a reset."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", "/api/submit", body=b"x" * 300_000,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    assert resp.status == 413
    assert resp.headers["Connection"] == "close"
    still_serving(server.port)


def test_expect_100_continue(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /api/submit HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"name=A")
        data = sock.recv(65536)
    assert status(data) == 200
    assert b'"Hello, A!"' in data


def test_access_log_line_per_request(server: Server) -> None:
    get(server.port, "/time?logged=1")
    deadline = time.monotonic() + 5
    while '"GET /time?logged=1 HTTP/1.1" 200' not in server.output():
        assert time.monotonic() < deadline, server.output()[-2000:]
        time.sleep(0.05)


def test_slow_client_is_cut_off(make_server: Callable[..., Server]) -> None:
    srv = make_server("--timeout", "2", "--request-timeout", "1")
    request = b"GET /api/data HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 40 + b"\r\n\r\n"
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        for byte in request:  # one byte every 0.1 s: never idle for --timeout, yet too slow
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            sent += 1
            time.sleep(0.1)
            sock.setblocking(False)
            try:
                answer = sock.recv(4096)
            except BlockingIOError:
                pass
            except OSError:
                break
            finally:
                sock.setblocking(True)
            if answer:
                break
    assert sent < len(request)
    assert status(answer) == 408
    still_serving(srv.port)


def test_idle_connection_is_closed(make_server: Callable[..., Server]) -> None:
    srv = make_server("--timeout", "0.5")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        assert sock.recv(100) == b""  # closed by the server, silently: nothing was asked


def test_connection_cap_answers_503(make_server: Callable[..., Server]) -> None:
    srv = make_server("--max-connections", "2", "--timeout", "10")
    holders = []
    for _ in range(2):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        conn.request("GET", "/time")
        conn.getresponse().read()  # answered: this connection now holds a handler thread
        holders.append(conn)
    data = exchange(srv.port, b"GET /time HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status(data) == 503
    assert b"Connection: close" in data
    assert b"Retry-After: 1" in data
    holders.pop().close()
    deadline = time.monotonic() + 5  # the freed slot is released when its thread ends
    while True:
        data = exchange(srv.port, b"GET /time HTTP/1.1\r\nConnection: close\r\n\r\n")
        if status(data) == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status(data) == 200
    for conn in holders:
        conn.close()


def test_port_zero_logs_the_bound_port(make_server: Callable[..., Server]) -> None:
    srv = make_server(port=0)  # start_server reads the port from the "listening on" log line
    assert srv.port != 0
    assert get(srv.port, "/healthz").status == 200


def test_env_sets_the_static_folder(make_server: Callable[..., Server], tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("from env")
    srv = make_server(env={"HTTP_CUSTOM_STATIC_DIR": str(tmp_path)})
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request("GET", "/static/hello.txt")
    assert conn.getresponse().read() == b"from env"
    conn.close()


def test_sigterm_stops_promptly_with_an_idle_client(make_server: Callable[..., Server]) -> None:
    srv = make_server("--timeout", "60")
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request("GET", "/time")
    conn.getresponse().read()  # a kept-alive, idle connection stays open
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(5) == 0  # without shutdown handling it would wait 60 s for the client
    assert "http_custom stopped" in srv.output()
    conn.close()
