"""The proxy as a real process on loopback, between ``requests`` (or raw sockets) and an origin."""

from __future__ import annotations

import base64
import json
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import free_port

from .conftest import STREAM_FIRST, STREAM_REST, TIMEOUT, Origin, ProxyStarter, TlsOrigin


def session(port: int, user: str = "", password: str = "") -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # NO_PROXY or HTTP_PROXY in the environment must not reroute the test
    cred = f"{user}:{password}@" if user else ""
    s.proxies = {"http": f"http://{cred}127.0.0.1:{port}"}
    return s


def raw(port: int, request: bytes, read_until_close: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if not read_until_close and b"\r\n\r\n" in data:
                break
        return data


@pytest.fixture
def proxy(start_proxy: ProxyStarter) -> int:
    return start_proxy("--block-hosts", "blocked.example", "--block-paths", "/forbidden",
                       "--add-request-header", "X-Lab: yes", "--remove-response-header", "Server",
                       "--idle-timeout", "1")


def test_get_relayed_with_via_and_hop_by_hop_removed(proxy: int, origin: Origin) -> None:
    with session(proxy) as s:
        r = s.get(origin.url("/hop"), headers={"Connection": "keep-alive, X-Drop",
                                               "X-Drop": "1", "TE": "trailers"}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["X-Cache"] == "MISS" and "netlab-proxy" in r.headers["Via"]
    assert "X-Secret" not in r.headers and "Keep-Alive" not in r.headers
    assert "Server" not in r.headers  # response rule
    sent = r.json()["headers"]
    assert sent["host"] == f"127.0.0.1:{origin.port}"
    assert sent["via"] == "1.1 netlab-proxy" and sent["x-lab"] == "yes"  # request rule
    for hop in ("x-drop", "te", "proxy-connection", "proxy-authorization"):
        assert hop not in sent


def test_cache_miss_then_hit(proxy: int, origin: Origin) -> None:
    with session(proxy) as s:
        first = s.get(origin.url("/cache/60"), timeout=TIMEOUT)
        second = s.get(origin.url("/cache/60"), timeout=TIMEOUT)
        head = s.head(origin.url("/cache/60"), timeout=TIMEOUT)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert head.headers["X-Cache"] == "HIT" and head.content == b""
    assert first.json()["n"] == second.json()["n"] == 1
    assert origin.counts["/cache/60"] == 1
    assert int(second.headers["Age"]) >= 0 and "netlab-proxy" in second.headers["Via"]


def test_authorization_not_served_from_a_plain_entry(proxy: int, origin: Origin) -> None:
    with session(proxy) as s:
        assert s.get(origin.url("/private"), timeout=TIMEOUT).headers["X-Cache"] == "MISS"
        assert s.get(origin.url("/private"), timeout=TIMEOUT).headers["X-Cache"] == "HIT"
        r = s.get(origin.url("/private"), headers={"Authorization": "Bearer t"}, timeout=TIMEOUT)
    assert r.headers["X-Cache"] == "MISS" and r.json()["n"] == 2


@pytest.mark.parametrize(
    ("flags", "expected"), [((), "MISS"), (("--cache-authorized", "1"), "HIT")]
)
def test_authorization_and_public_entries(
    start_proxy: ProxyStarter, origin: Origin, flags: tuple[str, ...], expected: str
) -> None:
    proxy = start_proxy(*flags)
    with session(proxy) as s:
        assert s.get(origin.url("/cache/60"), timeout=TIMEOUT).headers["X-Cache"] == "MISS"
        r = s.get(origin.url("/cache/60"), headers={"Authorization": "Bearer t"}, timeout=TIMEOUT)
    assert r.headers["X-Cache"] == expected


def test_response_to_authorization_not_stored(proxy: int, origin: Origin) -> None:
    with session(proxy) as s:
        s.get(origin.url("/private?a"), headers={"Authorization": "Bearer t"}, timeout=TIMEOUT)
        r = s.get(origin.url("/private?a"), timeout=TIMEOUT)
    assert r.headers["X-Cache"] == "MISS" and origin.counts["/private?a"] == 2


def test_no_store_not_cached(proxy: int, origin: Origin) -> None:
    with session(proxy) as s:
        caches = [s.get(origin.url("/nostore"), timeout=TIMEOUT).headers["X-Cache"]
                  for _ in range(2)]
    assert caches == ["MISS", "MISS"] and origin.counts["/nostore"] == 2


def test_vary_respected(proxy: int, origin: Origin) -> None:
    with session(proxy) as s:
        def get(lang: str) -> requests.Response:
            return s.get(origin.url("/vary"), headers={"Accept-Language": lang}, timeout=TIMEOUT)

        assert [get(x).headers["X-Cache"] for x in ("en", "en", "fr")] == ["MISS", "HIT", "MISS"]
        assert get("fr").json()["headers"]["accept-language"] == "fr"


def test_unsafe_request_invalidates(proxy: int, origin: Origin) -> None:
    url = origin.url("/cache/60?inv")
    with session(proxy) as s:
        s.get(url, timeout=TIMEOUT)
        assert s.get(url, timeout=TIMEOUT).headers["X-Cache"] == "HIT"
        assert s.post(url, data=b"x", timeout=TIMEOUT).status_code == 200
        assert s.get(url, timeout=TIMEOUT).headers["X-Cache"] == "MISS"


def test_request_bodies_stream_through_with_and_without_chunking(
    proxy: int, origin: Origin
) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    with session(proxy) as s:
        fixed = s.put(origin.url("/echo"), data=payload, timeout=TIMEOUT)
        chunked = s.post(origin.url("/echo"),
                         data=(payload[i:i + 65536] for i in range(0, len(payload), 65536)),
                         timeout=TIMEOUT)
    assert fixed.json()["body"].encode("latin-1") == payload
    assert chunked.json()["body"].encode("latin-1") == payload
    assert chunked.json()["headers"].get("transfer-encoding") == "chunked"


def test_keep_alive_on_both_sides(proxy: int, origin: Origin) -> None:
    with session(proxy) as s:
        for i in range(3):
            s.get(origin.url(f"/ka{i}"), timeout=TIMEOUT)
    ports = {seen["port"] for seen in origin.seen}
    assert len(ports) == 1  # one pooled upstream connection served all three
    stats = requests.get(f"http://127.0.0.1:{proxy}/_proxy/stats", timeout=TIMEOUT).json()
    # the fixture's readiness probe, the one client connection of the session, this one
    assert stats["connections"]["total"] == 3
    assert stats["upstream_pool"]["reused"] == 2


def test_large_response_streams_before_origin_finishes(proxy: int, origin: Origin) -> None:
    """The origin holds back the rest of its body until the client has the first bytes: a proxy
    that buffered whole responses would never deliver them, and the read would time out."""
    with socket.create_connection(("127.0.0.1", proxy), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {origin.url('/stream')} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while data.count(b"a") < STREAM_FIRST:
            chunk = sock.recv(65536)
            assert chunk, "proxy closed before the first part arrived"
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        assert b"b" not in body
        origin.release.set()
        while len(body) < STREAM_FIRST + STREAM_REST:
            chunk = sock.recv(65536)
            assert chunk
            body += chunk
    assert b"x-cache: MISS" in head
    assert body == b"a" * STREAM_FIRST + b"b" * STREAM_REST


def test_blocked_host_and_path_get_403_without_lookup(proxy: int, origin: Origin) -> None:
    with session(proxy) as s:
        r = s.get("http://www.blocked.example/", timeout=TIMEOUT)
        p = s.get(origin.url("/forbidden/x"), timeout=TIMEOUT)
    assert r.status_code == 403 and "blocked.example" in r.text
    assert p.status_code == 403 and origin.counts["/forbidden/x"] == 0


def test_upstream_down_is_502(proxy: int) -> None:
    with session(proxy) as s:
        r = s.get(f"http://127.0.0.1:{free_port()}/", timeout=TIMEOUT)
    assert r.status_code == 502 and "cannot connect" in r.text


def test_upstream_silent_is_504(proxy: int, origin: Origin) -> None:
    with session(proxy) as s:
        r = s.get(origin.url("/slow"), timeout=TIMEOUT)
    assert r.status_code == 504 and "did not answer" in r.text


def test_connect_refused_outside_allow_list(proxy: int) -> None:
    for port in (22, 25, 80):
        reply = raw(proxy, f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
                    read_until_close=False)
        assert reply.startswith(b"HTTP/1.1 403 "), reply[:80]


@pytest.fixture
def echo_server() -> Iterator[int]:
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(TIMEOUT)

    def serve() -> None:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data.upper())

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    srv.close()


def test_connect_tunnels_to_allowed_port(start_proxy: ProxyStarter, echo_server: int) -> None:
    proxy = start_proxy("--connect-ports", f"443,{echo_server}")
    with socket.create_connection(("127.0.0.1", proxy), timeout=TIMEOUT) as sock:
        # the first tunnel bytes travel in the same packet as the CONNECT head
        sock.sendall(f"CONNECT 127.0.0.1:{echo_server} HTTP/1.1\r\nHost: x\r\n\r\nhello".encode())
        data = b""
        while b"HELLO" not in data:
            chunk = sock.recv(4096)
            assert chunk
            data += chunk
        assert data.startswith(b"HTTP/1.1 200 ")
        sock.sendall(b" again")
        assert sock.recv(4096) == b" AGAIN"


def test_connect_carries_verified_tls(start_proxy: ProxyStarter, tls_origin: TlsOrigin) -> None:
    proxy = start_proxy("--connect-ports", str(tls_origin.port))
    with socket.create_connection(("127.0.0.1", proxy), timeout=TIMEOUT) as sock:
        sock.sendall(f"CONNECT localhost:{tls_origin.port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
        ctx = ssl.create_default_context(cafile=tls_origin.ca_file)
        with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
            assert tls.recv(100).startswith(b"secret over TLSv1.")


def test_proxy_auth(start_proxy: ProxyStarter, origin: Origin) -> None:
    proxy = start_proxy(env={"HTTP_PROXY_AUTH_USER": "lab", "HTTP_PROXY_AUTH_PASS": "pw:1"})
    with session(proxy) as s:
        r = s.get(origin.url("/a"), timeout=TIMEOUT)
    assert r.status_code == 407 and r.headers["Proxy-Authenticate"].startswith("Basic realm=")
    with session(proxy, "lab", "wrong") as s:
        assert s.get(origin.url("/a"), timeout=TIMEOUT).status_code == 407
    with session(proxy, "lab", "pw%3A1") as s:
        ok = s.get(origin.url("/a"), timeout=TIMEOUT)
    assert ok.status_code == 200 and "proxy-authorization" not in ok.json()["headers"]
    token = base64.b64encode(b"lab:pw:1").decode()
    reply = raw(proxy, b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n", False)
    assert reply.startswith(b"HTTP/1.1 407 ")
    reply = raw(proxy, f"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n"
                       f"Proxy-Authorization: Basic {token}\r\n\r\n".encode(), False)
    assert reply.startswith(b"HTTP/1.1 403 ")  # credentials never open other ports
    assert origin.counts["/a"] == 1


def test_client_network_not_allowed(start_proxy: ProxyStarter, origin: Origin) -> None:
    proxy = start_proxy("--allow-networks", "10.0.0.0/8")
    reply = raw(proxy, f"GET {origin.url('/x')} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 403 ") and origin.counts["/x"] == 0


def test_stats_page_only_direct_and_loops_detected(proxy: int) -> None:
    stats = requests.get(f"http://127.0.0.1:{proxy}/_proxy/stats", timeout=TIMEOUT)
    assert stats.status_code == 200 and "cache" in stats.json()
    assert requests.get(f"http://127.0.0.1:{proxy}/other", timeout=TIMEOUT).status_code == 404
    with session(proxy) as s:  # absolute form aimed at the proxy itself: relayed once, then 508
        r = s.get(f"http://127.0.0.1:{proxy}/_proxy/stats", timeout=TIMEOUT)
    assert r.status_code == 508


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"garbage\r\n\r\n", b"400"),
        (b"GET http://x/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", b"431"),
        (b"GET https://x/ HTTP/1.1\r\nHost: x\r\n\r\n", b"501"),
        (b"TRACE http://127.0.0.1:8080/ HTTP/1.1\r\nHost: x\r\n\r\n", b"501"),
        (b"GET http://127.0.0.1:25/ HTTP/1.1\r\nHost: x\r\n\r\n", b"403"),
        (b"POST http://127.0.0.1:8080/ HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n"
         b"\r\n", b"413"),
    ],
)
def test_bad_requests_get_clear_errors(proxy: int, request_bytes: bytes, status: bytes) -> None:
    reply = raw(proxy, request_bytes, read_until_close=False)
    assert reply.split(b" ")[1] == status, reply[:200]


def test_proxy_survives_bad_clients_and_keeps_serving(proxy: int, origin: Origin) -> None:
    for junk in (b"\x00\xff" * 100, b"GET / HTTP/1.1\r\n", b"CONNECT nohost HTTP/1.1\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", proxy), timeout=TIMEOUT) as sock:
            sock.sendall(junk)
    with session(proxy) as s:
        assert s.get(origin.url("/after"), timeout=TIMEOUT).status_code == 200


def test_sigterm_exits_cleanly(run_service, origin: Origin) -> None:
    port = free_port()
    proc = run_service("http_proxy", "--port", str(port), wait_port=port)
    idle = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)  # a keep-alive client
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    idle.close()


def test_stats_counts_hits(proxy: int, origin: Origin) -> None:
    with session(proxy) as s:
        for _ in range(3):
            s.get(origin.url("/cache/30"), timeout=TIMEOUT)
    doc = json.loads(requests.get(f"http://127.0.0.1:{proxy}/_proxy/stats", timeout=TIMEOUT).text)
    assert doc["cache"]["hits"] == 2 and doc["cache"]["stores"] == 1


def test_connection_cap_answers_503(start_proxy: ProxyStarter, origin: Origin) -> None:
    proxy = start_proxy("--max-connections", "1")
    for _ in range(50):  # the fixture's readiness probe may still hold the one slot a moment
        first = socket.create_connection(("127.0.0.1", proxy), timeout=TIMEOUT)
        first.sendall(f"GET {origin.url('/a')} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        if first.recv(65536).startswith(b"HTTP/1.1 200 "):
            break
        first.close()
        time.sleep(0.05)
    with first:  # held open: the only slot is taken
        reply = raw(proxy, b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 503 ")


def test_slow_request_head_is_cut(start_proxy: ProxyStarter) -> None:
    """A client that never finishes its head loses the connection (slowloris), nothing else."""
    proxy = start_proxy("--keepalive-timeout", "0.5")
    with socket.create_connection(("127.0.0.1", proxy), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n")
        assert sock.recv(1024) == b""  # closed by the proxy, well before the 5 s timeout


def test_http10_client_gets_close_delimited_answer(proxy: int, origin: Origin) -> None:
    reply = raw(proxy, f"GET {origin.url('/old')} HTTP/1.0\r\n\r\n".encode())
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"connection: close" in head.lower()
    assert b"via: 1.1 netlab-proxy" in head  # the version of the message the proxy received
    assert json.loads(body)["headers"]["via"] == "1.0 netlab-proxy"


def test_content_length_dropped_when_chunked_wins(proxy: int, origin: Origin) -> None:
    """CL + TE: chunked frames the body (RFC 9112 §6.1), and the received Content-Length must not
    reach the origin: one that trusts it would read the rest of the body as a second request."""
    reply = raw(proxy, b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                % origin.url("/cl-te").encode())
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    (seen,) = [s for s in origin.seen if s["path"] == "/cl-te"]
    headers = {k.lower() for k in seen["headers"]}  # type: ignore[union-attr]
    assert "content-length" not in headers and seen["body"] == 5


def test_connection_naming_content_length_keeps_the_body(proxy: int, origin: Origin) -> None:
    """``Connection: content-length`` must not strip the framing of a body the proxy relays."""
    reply = raw(proxy, b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                b"Connection: content-length, close\r\n\r\nhello" % origin.url("/conn-cl").encode())
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    (seen,) = [s for s in origin.seen if s["path"] == "/conn-cl"]
    assert seen["body"] == 5
