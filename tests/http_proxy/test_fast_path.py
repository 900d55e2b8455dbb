"""The fast path over real sockets: pipelining, switching between the fast parser and h11 on one
connection, and origin responses the fast reader hands over to h11."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from .conftest import TIMEOUT, Origin, ProxyStarter

ANSWERS = {
    b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"/close": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nbye",
    b"/cl": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"/short": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
}


@pytest.fixture
def raw_origin() -> Iterator[int]:
    """An origin that writes fixed bytes per path (keep-alive unless the answer ends it)."""
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.2)
    stop = threading.Event()

    def one(conn: socket.socket) -> None:
        with conn:
            buf = b""
            while not stop.is_set():
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                path = head.split(b" ")[1]
                conn.sendall(ANSWERS[path])
                if path in (b"/close", b"/short"):
                    return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    yield srv.getsockname()[1]
    stop.set()
    acceptor.join(2)
    srv.close()


def read_responses(sock: socket.socket, count: int) -> list[bytes]:
    """``count`` Content-Length or chunked responses, as whole byte strings."""
    data, out = b"", []
    while len(out) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"closed after {len(out)} responses"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lower = head.lower()
        if b"transfer-encoding: chunked" in lower:
            while b"0\r\n\r\n" not in rest:
                rest += sock.recv(65536)
            end = rest.index(b"0\r\n\r\n") + 5
        else:
            length = int(lower.split(b"content-length: ")[1].split(b"\r\n")[0])
            while len(rest) < length:
                rest += sock.recv(65536)
            end = length
        out.append(head + b"\r\n\r\n" + rest[:end])
        data = rest[end:]
    return out


@pytest.fixture
def proxy(start_proxy: ProxyStarter) -> int:
    return start_proxy()


def test_pipelined_requests_answered_in_order(proxy: int, origin: Origin) -> None:
    reqs = b"".join(
        f"GET {origin.url(p)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        for p in ("/cache/60?a", "/nostore?b", "/cache/60?a", "/nostore?c")
    )
    with socket.create_connection(("127.0.0.1", proxy), timeout=TIMEOUT) as sock:
        sock.sendall(reqs)
        answers = read_responses(sock, 4)
    assert [b"x-cache: HIT" in a for a in answers] == [False, False, True, False]
    paths = ("/cache/60?a", "/nostore?b", "/cache/60?a", "/nostore?c")
    for a, path in zip(answers, paths, strict=True):
        assert f'"path": "{path}"'.encode() in a


def test_fast_and_h11_requests_share_one_connection(proxy: int, origin: Origin) -> None:
    """GET (fast), POST with a body (h11), GET again (fast), then garbage: 400 from h11."""
    url = origin.url("/echo")
    with socket.create_connection(("127.0.0.1", proxy), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        first = read_responses(sock, 1)[0]
        sock.sendall(f"POST {url} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
                     f"GET {url}?2 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        post, again = read_responses(sock, 2)
        sock.sendall(b"GET http://x/ HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
        bad = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200") and b'"method": "GET"' in first
    assert b'"method": "POST"' in post and b'"body": "body"' in post
    assert again.startswith(b"HTTP/1.1 200") and b'"path": "/echo?2"' in again
    assert bad.startswith(b"HTTP/1.1 400")


def test_origin_framings_the_fast_reader_defers(proxy: int, raw_origin: int) -> None:
    base = f"http://127.0.0.1:{raw_origin}"
    with socket.create_connection(("127.0.0.1", proxy), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {base}/chunked HTTP/1.1\r\nHost: x\r\n\r\n"
                     f"GET {base}/close HTTP/1.1\r\nHost: x\r\n\r\n"
                     f"GET {base}/cl HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        chunked, close, cl = read_responses(sock, 3)
    assert chunked.endswith(b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert b"via: 1.1 netlab-proxy" in chunked
    assert b"via: 1.0 netlab-proxy" in close and close.endswith(b"3\r\nbye\r\n0\r\n\r\n")
    assert cl.endswith(b"\r\n\r\nok")


def test_truncated_origin_body_is_never_presented_complete(proxy: int, raw_origin: int) -> None:
    with socket.create_connection(("127.0.0.1", proxy), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET http://127.0.0.1:{raw_origin}/short HTTP/1.1\r\nHost: x\r\n\r\n"
                     .encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"content-length: 10" in head and body == b"abc"  # cut short, then closed
