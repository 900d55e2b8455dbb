"""Socket plumbing that keeps slow or excess clients cheap.

``DeadlineReader`` gives each request a total time budget, not just a per-read timeout: a client
trickling one byte every few seconds (slowloris) never trips a plain socket timeout, but runs out
of budget here. ``Rejecter`` answers connections beyond the cap with a 503 from a single thread,
so an overload costs one selector, not one thread per extra client.
"""

from __future__ import annotations

import contextlib
import io
import logging
import selectors
import socket
import threading
import time
from collections import deque

log = logging.getLogger("http_custom.server")


class DeadlineReader(io.RawIOBase):
    """Raw reads from a socket bounded by an idle timeout and, once a request began, a deadline."""

    def __init__(self, sock: socket.socket, idle: float, budget: float) -> None:
        super().__init__()
        self.sock = sock
        self.idle = idle
        self.budget = budget
        self.deadline: float | None = None
        self.received_any = False

    def start_request(self) -> None:
        """Waiting for a new request: the idle timeout applies until its first byte arrives."""
        self.deadline = None
        self.received_any = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        now = time.monotonic()
        wait = self.idle
        if self.deadline is not None:
            left = self.deadline - now
            if left <= 0:
                raise TimeoutError("request not received within its time budget")
            wait = min(wait, left)
        self.sock.settimeout(wait)
        count = self.sock.recv_into(buffer)
        if count:
            self.received_any = True
            if self.deadline is None:
                self.deadline = now + self.budget
        return count


class SocketWriter(io.BufferedIOBase):
    """``write`` sends everything or raises: responses are built whole, then sent once."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        super().__init__()
        self.sock = sock
        self.timeout = timeout

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)
        return len(data)


def linger(sock: socket.socket, seconds: float, max_bytes: int) -> None:
    """After an error answer: stop sending, then read and drop input for a moment.

    Closing a socket with unread input makes the kernel send a reset, which can destroy the
    answer before the client reads it (e.g. a 413 while the body is still arriving).
    """
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + seconds
        dropped = 0
        while dropped < max_bytes and (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                return
            dropped += len(chunk)
    except OSError:
        return


class Rejecter:
    """Sends a canned response to excess connections and closes them without a reset."""

    def __init__(self, response: bytes, linger_seconds: float = 1.0, max_pending: int = 512):
        self.response = response
        self.linger_seconds = linger_seconds
        self.max_pending = max_pending
        self._incoming: deque[socket.socket] = deque()
        self._lock = threading.Lock()
        self._count = 0
        self._stopping = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name="rejecter", daemon=True)
        self._thread.start()

    def reject(self, sock: socket.socket) -> None:
        """Called on the accept thread: never blocks."""
        try:
            sock.setblocking(False)
            sock.send(self.response)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            sock.close()
            return
        with self._lock:
            if self._count >= self.max_pending or self._stopping:
                sock.close()
                return
            self._count += 1
            self._incoming.append(sock)
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _run(self) -> None:
        deadlines: dict[socket.socket, float] = {}
        while not self._stopping:
            for key, _ in self._selector.select(timeout=0.2):
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    if sock.recv(65536):
                        continue
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                self._drop(sock, deadlines)
            with self._lock:
                while self._incoming:
                    sock = self._incoming.popleft()
                    deadlines[sock] = time.monotonic() + self.linger_seconds
                    self._selector.register(sock, selectors.EVENT_READ)
            now = time.monotonic()
            for sock in [s for s, d in deadlines.items() if d <= now]:
                self._drop(sock, deadlines)
        for sock in list(deadlines):
            self._drop(sock, deadlines)

    def _drop(self, sock: socket.socket, deadlines: dict[socket.socket, float]) -> None:
        if deadlines.pop(sock, None) is not None:
            self._selector.unregister(sock)
            with self._lock:
                self._count -= 1
        sock.close()

    def stop(self) -> None:
        self._stopping = True
        self._thread.join(1.0)
        with self._lock:
            while self._incoming:
                self._incoming.popleft().close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
