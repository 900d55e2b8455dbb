"""A real origin server on loopback for the proxy's socket tests, and the proxy itself.

The origin is a threaded ``http.server`` speaking HTTP/1.1 with keep-alive. Each path shows one
behaviour a proxy must respect; a body carries a per-path counter, so a test can tell a cached
answer (same counter) from a fresh one.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import free_port

TIMEOUT = 5.0

STREAM_FIRST = 256 * 1024  # bytes the /stream endpoint sends before it waits
STREAM_REST = 1024 * 1024


class Origin:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.release = threading.Event()  # lets /stream finish and /slow answer
        self.seen: list[dict[str, object]] = []  # every request: path, headers, client port
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, body: bytes, **headers: str) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                body = self._body()
                path = self.path.split("?", 1)[0]
                with origin.lock:
                    origin.counts[self.path] += 1
                    n = origin.counts[self.path]
                    origin.seen.append({"path": self.path, "method": self.command,
                                        "headers": dict(self.headers.items()),
                                        "port": self.client_address[1], "body": len(body)})
                doc = {"n": n, "path": self.path, "method": self.command, "body": body.decode(
                    "latin-1"), "headers": {k.lower(): v for k, v in self.headers.items()}}
                text = json.dumps(doc).encode()
                if path.startswith("/cache/"):
                    self._send(200, text, Cache_Control=f"public, max-age={path[7:]}")
                elif path == "/private":  # cacheable, but not for requests with Authorization
                    self._send(200, text, Cache_Control="max-age=60")
                elif path == "/nostore":
                    self._send(200, text, Cache_Control="no-store")
                elif path == "/vary":
                    self._send(200, text, Cache_Control="max-age=60", Vary="Accept-Language")
                elif path == "/slow":
                    origin.release.wait(10)
                    self._send(200, text)
                elif path == "/stream":
                    self.send_response(200)
                    self.send_header("Content-Length", str(STREAM_FIRST + STREAM_REST))
                    self.send_header("Cache-Control", "max-age=60")
                    self.end_headers()
                    self.wfile.write(b"a" * STREAM_FIRST)
                    self.wfile.flush()
                    origin.release.wait(10)
                    self.wfile.write(b"b" * STREAM_REST)
                elif path == "/hop":
                    self._send(200, text, Connection="X-Secret", X_Secret="1", Keep_Alive="5")
                else:
                    self._send(200, text, Content_Type="application/json")

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Origin:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def origin() -> Iterator[Origin]:
    with Origin() as o:
        yield o


ProxyStarter = Callable[..., int]


@pytest.fixture
def start_proxy(run_service: Callable[..., subprocess.Popen[bytes]]) -> ProxyStarter:
    """Start ``python -m http_proxy`` on a free port with extra flags; returns the port."""

    def start(*args: str, env: dict[str, str] | None = None) -> int:
        port = free_port()
        run_service("http_proxy", "--port", str(port), *args, env=env, wait_port=port)
        return port

    return start


@dataclass
class TlsOrigin:
    port: int
    ca_file: str  # the self-signed certificate itself, for CN/SAN localhost


@pytest.fixture
def tls_origin(tmp_path) -> Iterator[TlsOrigin]:
    """A TLS server on loopback that greets each client with its TLS version (openssl-made cert)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.2)
    done = threading.Event()

    def one(conn: socket.socket) -> None:
        try:
            conn.settimeout(TIMEOUT)
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"secret over " + (tls.version() or "?").encode() + b"\n")
                tls.recv(10)
        except OSError:
            pass

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield TlsOrigin(srv.getsockname()[1], str(cert))
    done.set()
    thread.join(2)
    srv.close()
