"""The transport: ``ThreadingHTTPServer`` and a ``BaseHTTPRequestHandler`` kept thin.

The handler reads the request head line by line within the limits, lets ``protocol`` judge it,
hands a Request to ``routes.App`` and sends the Response back whole. The server caps handler
threads with a semaphore checked at accept; connections beyond it get a 503 from ``Rejecter``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import signal
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from http_custom import pages
from http_custom.config import Settings
from http_custom.connection import DeadlineReader, Rejecter, SocketWriter, linger
from http_custom.protocol import (
    HttpError,
    Request,
    RequestLine,
    Response,
    body_length,
    expects_continue,
    parse_headers,
    parse_request_line,
    serialize,
    wants_keep_alive,
)
from http_custom.routes import App

log = logging.getLogger("http_custom.server")
access = logging.getLogger("http_custom.access")
SERVER_NAME = "http_custom"
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 30\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        b"too many connections, retry\r\n\r\n")
MAX_BLANK_LINES = 4  # empty lines tolerated before a request line (RFC 9112 2.2)


class Handler(BaseHTTPRequestHandler):
    """One connection: requests in a loop (``handle`` from the base class) until close."""

    server: LabHTTPServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        settings = self.server.settings
        self.connection = self.request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = DeadlineReader(self.connection, settings.timeout, settings.request_timeout)
        self.rfile = io.BufferedReader(self.reader, 16384)
        self.wfile = SocketWriter(self.connection, settings.timeout)
        self.idle = True
        with self.server.active_lock:
            self.server.active[self.request] = self

    def handle_one_request(self) -> None:
        self.close_connection = True
        self.reader.start_request()
        self.idle = True
        if self.server.stopping:
            return
        started = time.monotonic()
        line: RequestLine | None = None
        try:
            raw = self._request_line()
            if raw is None:
                return
            self.idle = False
            started = time.monotonic()
            line = parse_request_line(raw, self.server.limits)
            headers = parse_headers(self._header_lines(), self.server.limits)
            length = body_length(line, headers, self.server.limits)
            if expects_continue(line, headers) and length:
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                return  # the client left mid-body
        except HttpError as exc:
            api = line is not None and line.target.startswith("/api/")
            response = pages.error(exc.status, exc.message, api=api)
            response.headers.extend(exc.headers)
            self._send(line, response, keep_alive=False, started=started)
            linger(self.connection, self.server.settings.linger_seconds,
                   self.server.settings.linger_bytes)
            return
        except TimeoutError:
            if self.reader.received_any:
                response = pages.error(408, "request not received in time", api=False)
                self._send(line, response, keep_alive=False, started=started)
            return
        except OSError:
            return
        request = Request(line.method, line.target, headers, body, line.version,
                          self.client_address[0])
        try:
            response = self.server.app.handle(request)
        except Exception:
            log.exception("route failed for %s %s", line.method, line.target[:200])
            response = pages.error(500, "internal error", api=line.target.startswith("/api/"))
        keep = wants_keep_alive(line.version, headers) and not self.server.stopping
        self._send(line, response, keep_alive=keep, started=started)
        self.close_connection = not keep

    def _request_line(self) -> bytes | None:
        """The request line, or None when the client closed (or only sent a partial line)."""
        limit = self.server.limits.max_request_line
        for _ in range(MAX_BLANK_LINES + 1):
            raw = self.rfile.readline(limit + 1)
            if raw in (b"\r\n", b"\n"):
                continue
            if not raw.endswith(b"\n") and len(raw) <= limit:
                return None
            return raw
        raise HttpError(400, "too many empty lines before the request line")

    def _header_lines(self) -> list[bytes]:
        limits = self.server.limits
        lines: list[bytes] = []
        budget = limits.max_header_bytes
        while True:
            raw = self.rfile.readline(budget + 3)
            if raw in (b"\r\n", b"\n"):
                return lines
            if not raw.endswith(b"\n"):
                if len(raw) > budget:
                    raise HttpError(431, f"headers larger than {limits.max_header_bytes} bytes")
                raise ConnectionResetError("client closed inside the headers")
            budget -= len(raw)
            lines.append(raw)
            if budget < 0:
                raise HttpError(431, f"headers larger than {limits.max_header_bytes} bytes")
            if len(lines) > limits.max_headers:
                raise HttpError(431, f"more than {limits.max_headers} header lines")

    def _send(self, line: RequestLine | None, response: Response, *, keep_alive: bool,
              started: float) -> None:
        head_only = line is not None and line.method == "HEAD"
        data = serialize(response, keep_alive=keep_alive, head_only=head_only,
                         date=formatdate(usegmt=True), server=SERVER_NAME)
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True
        request = f"{line.method} {line.target[:300]} HTTP/{line.version[0]}.{line.version[1]}" \
            if line else "-"
        sent = 0 if head_only else len(response.body)
        access.info('%s "%s" %d %d %.1fms', self.client_address[0], request, response.status,
                    sent, (time.monotonic() - started) * 1000)

    def finish(self) -> None:
        self.rfile.close()
        self.wfile.close()


class LabHTTPServer(ThreadingHTTPServer):
    """Threads per connection, but never more than ``max_connections`` of them."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, settings: Settings, app: App | None = None) -> None:
        self.settings = settings
        self.limits = settings.limits
        self.app = app or App(settings.static_dir, settings.limits)
        self.request_queue_size = settings.backlog
        self.stopping = False
        self.slots = threading.BoundedSemaphore(settings.max_connections)
        self.active: dict[socket.socket, Handler | None] = {}
        self.active_lock = threading.Lock()
        self.rejecter = Rejecter(BUSY, settings.linger_seconds)
        super().__init__((settings.host, settings.port), Handler)

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if self.stopping or not self.slots.acquire(blocking=False):
            access.warning('%s "-" 503 0 0.0ms (over %d connections)', client_address[0],
                           self.settings.max_connections)
            self.rejecter.reject(request)
            return
        with self.active_lock:
            self.active[request] = None
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release(request)
            self.shutdown_request(request)
            raise

    def process_request_thread(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release(request)

    def _release(self, request: socket.socket) -> None:
        with self.active_lock:
            if request not in self.active:
                return
            del self.active[request]
        self.slots.release()

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        log.exception("connection from %s failed", client_address[0])

    def connections(self) -> int:
        with self.active_lock:
            return len(self.active)

    def stop(self) -> None:
        """Stop accepting, end idle keep-alive connections, give busy ones a short grace."""
        self.stopping = True
        self.shutdown()
        self.socket.close()
        deadline = time.monotonic() + self.settings.shutdown_grace
        while self.connections() and time.monotonic() < deadline:
            late = deadline - time.monotonic() < self.settings.shutdown_grace / 2
            with self.active_lock:
                targets = [s for s, h in self.active.items()
                           if late or h is None or getattr(h, "idle", True)]
            for sock in targets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)
            time.sleep(0.02)
        self.rejecter.stop()
        self.server_close()


def serve(settings: Settings) -> int:
    """Run until SIGTERM or SIGINT; then stop within ``shutdown_grace`` seconds."""
    try:
        server = LabHTTPServer(settings)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, exc)
        return 1
    host, port = server.server_address[:2]
    log.info("http_custom listening on http://%s:%d (static %s, max %d connections)",
             host, port, server.app.static.root, settings.max_connections)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="accept", daemon=True)
    thread.start()
    while not stop.wait(0.5):
        if not thread.is_alive():
            log.error("accept loop died")
            return 1
    server.stop()
    log.info("http_custom stopped")
    return 0
