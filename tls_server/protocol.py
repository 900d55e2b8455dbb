"""The line protocol spoken inside the TLS tunnel, sans-IO: bytes in, reply lines out.

It exists to make the tunnel visible: ``whoami`` tells a client what TLS version, cipher, server
name and client certificate the server saw. Framing and limits follow the other lab services:
one UTF-8 line per command, ``\\n`` (or ``\\r\\n``) ends it, an overlong or undecodable line gets
one error line and the connection stays open.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

HELP = "commands: echo TEXT, whoami, time, help, quit"
# C0 controls except tab, DEL and C1 controls: never echoed back to a terminal.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class PeerInfo:
    """What the TLS layer negotiated with one client (filled in by the transport)."""

    version: str
    cipher: str
    sni: str | None
    client: str | None  # the client certificate's subject, mutual TLS only
    peer: str


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LineSession:
    """One client's conversation. ``receive`` returns the bytes to send back; once ``closed`` is
    true the transport sends them and closes the connection."""

    def __init__(
        self, info: PeerInfo, *, max_line: int = 1024, clock: Callable[[], str] = utc_now
    ) -> None:
        self.info = info
        self.max_line = max_line
        self.clock = clock
        self.closed = False
        self._buffer = bytearray()
        self._discarding = False  # inside an overlong line, dropping bytes up to the next \n

    def greeting(self) -> bytes:
        return _line(f"* tls_server {self.info.version} {self.info.cipher}; {HELP}")

    def receive(self, data: bytes) -> bytes:
        """Feed bytes from the client; returns every reply line they caused (maybe none)."""
        out = bytearray()
        if self.closed:
            return b""
        self._buffer += data
        while not self.closed:
            end = self._buffer.find(b"\n")
            if end < 0:
                if not self._discarding and self._overlong(self._buffer):
                    out += self._too_long()
                if self._discarding:
                    self._buffer.clear()
                break
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if self._discarding:
                self._discarding = False
                continue
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if len(raw) > self.max_line:
                out += self._too_long()
                self._discarding = False
                continue
            out += self.handle_line(raw)
        return bytes(out)

    def _overlong(self, pending: bytearray) -> bool:
        """An unfinished line is too long already, unless its extra byte is the "\r" of "\r\n"."""
        extra = len(pending) - self.max_line
        return extra > 1 or (extra == 1 and not pending.endswith(b"\r"))

    def _too_long(self) -> bytes:
        self._discarding = True
        return _line(f"! line too long (max {self.max_line} bytes); discarded")

    def handle_line(self, raw: bytes) -> bytes:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _line("! invalid UTF-8; line discarded")
        text = _CONTROL.sub("", text.replace("\t", " ")).strip()
        if not text:
            return b""
        command, _, arg = text.partition(" ")
        command = command.lower()
        if command == "echo":
            return _line(f"= echo {arg}")
        if command == "whoami":
            return _line("= whoami " + json.dumps(asdict(self.info), separators=(",", ":")))
        if command == "time":
            return _line(f"= time {self.clock()}")
        if command == "help":
            return _line(f"= help {HELP}")
        if command in ("quit", "exit"):
            self.closed = True
            return _line("= bye")
        return _line(f"! unknown command: {command[:40]} ({HELP})")

    def shutdown_notice(self) -> bytes:
        self.closed = True
        return _line("* server shutting down")

    def idle_notice(self) -> bytes:
        self.closed = True
        return _line("! idle timeout; closing")


def _line(text: str) -> bytes:
    return text.encode("utf-8") + b"\n"
