"""A tiny blocking test client for the chat line protocol (tests only)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


class Peer:
    """One chat connection; every read has a timeout, so a missing line fails, never hangs."""

    def __init__(self, port: int, timeout: float = 5.0, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")
        self.nick = ""

    def welcome(self) -> str:
        line = self.line()
        assert line.startswith("* welcome guest-"), line
        self.nick = line.split()[2].rstrip(":")
        return line

    def send(self, data: str | bytes) -> None:
        self.sock.sendall(data.encode() + b"\n" if isinstance(data, str) else data)

    def line(self) -> str:
        raw = self.file.readline()
        assert raw.endswith(b"\n"), f"connection closed or partial line: {raw!r}"
        return raw[:-1].decode()

    def ask(self, data: str | bytes) -> str:
        self.send(data)
        return self.line()

    def at_eof(self) -> bool:
        """True when the server closed the connection (after any unread lines are consumed)."""
        try:
            return self.file.readline() == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def wait_heartbeat(path: Path, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    """The bound port, read from the heartbeat file once the server wrote it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            return int(path.read_text().split()[1])
        except (OSError, IndexError, ValueError):
            time.sleep(0.05)
    raise TimeoutError(f"no heartbeat file {path} after {timeout} s")
