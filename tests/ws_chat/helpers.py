"""Test helpers: a blocking tcp_chat peer, a WebSocket peer, and starting both servers."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from websockets.sync.client import ClientConnection, connect

from tests.conftest import free_port

TIMEOUT = 5.0


class TcpPeer:
    """A raw tcp_chat member, like ``nc``; reads time out, so a missing line fails, never hangs."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.file = self.sock.makefile("rb")
        welcome = self.line()
        assert welcome.startswith("* welcome guest-"), welcome
        self.nick = welcome.split()[2].rstrip(":")

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\n")

    def line(self) -> str:
        raw = self.file.readline()
        assert raw.endswith(b"\n"), f"connection closed or partial line: {raw!r}"
        return raw[:-1].decode()

    def expect(self, prefix: str) -> str:
        """Read lines until one starts with ``prefix`` (others, e.g. join notices, skipped)."""
        seen = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            line = self.line()
            if line.startswith(prefix):
                return line
            seen.append(line)
        raise AssertionError(f"no line starting {prefix!r}; got {seen}")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def ws_expect(ws: ClientConnection, prefix: str) -> str:
    """Receive frames until one starts with ``prefix``."""
    seen = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        frame = ws.recv(timeout=TIMEOUT)
        assert isinstance(frame, str), frame
        if frame.startswith(prefix):
            return frame
        seen.append(frame)
    raise AssertionError(f"no frame starting {prefix!r}; got {seen}")


@dataclass
class Stack:
    chat_port: int
    ws_port: int
    chat: subprocess.Popen[bytes] | None
    ws: subprocess.Popen[bytes]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.ws_port}"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/ws"

    def connect(self, origin: str | None = "", **kwargs: object) -> ClientConnection:
        """A browser-like WebSocket user (allowed Origin unless told otherwise); use it in a
        ``with`` block, as websockets 17 wants."""
        kwargs.setdefault("open_timeout", TIMEOUT)
        kwargs.setdefault("close_timeout", 2)
        return connect(self.url, origin=self.origin if origin == "" else origin, **kwargs)



def welcome_nick(ws: ClientConnection) -> str:
    """Read the welcome frame; the nick tcp_chat assigned."""
    return ws_expect(ws, "* welcome guest-").split()[2].rstrip(":")


def start_stack(
    run_service: Callable[..., subprocess.Popen[bytes]],
    tmp_path: Path,
    *ws_args: str,
    with_chat: bool = True,
) -> Stack:
    """tcp_chat (unless ``with_chat`` is false: nothing listens at its port) and ws_chat."""
    chat_port, ws_port = free_port(), free_port()
    chat = None
    if with_chat:
        chat = run_service(
            "tcp_chat", "--port", str(chat_port),
            "--heartbeat-file", str(tmp_path / "tcp_chat.alive"),
            wait_port=chat_port,
        )
    ws = run_service(
        "ws_chat", "--port", str(ws_port), "--chat-addr", f"127.0.0.1:{chat_port}",
        "--origins", f"http://127.0.0.1:{ws_port},http://localhost:{ws_port}",
        *ws_args,
        wait_port=ws_port,
    )
    return Stack(chat_port, ws_port, chat, ws)
