"""The bridge between one browser user and one tcp_chat membership, without any I/O.

The transport feeds in what happened (a frame from the browser, bytes or EOF from tcp_chat, a full
outbound queue) and gets back actions to perform: send a text frame, write bytes to tcp_chat,
close the WebSocket with a code. Keeping it sans-IO lets the tests cover every state and edge
(partial lines, invalid UTF-8, line breaks inside frames, quit versus crash) without sockets.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# Lines the bridge itself sends to the browser (docs/protocols/ws_chat.md). They use tcp_chat's
# "! " error prefix so a page or a script handles them like any other error line.
UNAVAILABLE_LINE = "! chat server unavailable: retrying"
LOST_LINE = "! chat server connection lost: retrying"
BINARY_LINE = "! binary frames not supported: send one line as text"
LINE_BREAK_LINE = "! one line per message: line breaks not allowed"

# WebSocket close codes (RFC 6455 section 7.4.1) the bridge uses.
NORMAL = 1000  # the user left (/quit) or tcp_chat dropped them for idling: do not reconnect
POLICY = 1008  # the browser did not read fast enough: its outbound queue filled
TRY_AGAIN = 1013  # tcp_chat is down, full or went away: reconnect later

DEFAULT_MAX_CHAT_LINE = 16 * 1024


class State(enum.Enum):
    CONNECTING = "connecting"  # WebSocket open, TCP connection to tcp_chat not yet made
    ONLINE = "online"  # both sides open: lines flow both ways
    CLOSED = "closed"  # one side is gone; nothing more flows


@dataclass(frozen=True)
class SendText:
    """Send ``text`` to the browser as one text frame."""

    text: str


@dataclass(frozen=True)
class ToChat:
    """Write ``data`` (one line, newline-terminated) to the tcp_chat connection."""

    data: bytes


@dataclass(frozen=True)
class Close:
    """Close the WebSocket with ``code`` and ``reason`` (after the frames queued before it) and
    the TCP connection with it."""

    code: int
    reason: str


Action = SendText | ToChat | Close


def is_quit(line: str) -> bool:
    """tcp_chat's own rule (``Room.handle_line``): ``exit`` in any case as the whole line, or
    the ``/quit`` command in any case, with or without an argument (`` /quit`` is a message)."""
    if line.strip().casefold() == "exit":
        return True
    return line.startswith("/") and line.partition(" ")[0].casefold() == "/quit"


class Bridge:
    """State of one browser user's bridge: which side is up, partial TCP input, why it ended."""

    def __init__(self, max_chat_line: int = DEFAULT_MAX_CHAT_LINE) -> None:
        self.state = State.CONNECTING
        self.max_chat_line = max_chat_line
        self._buf = bytearray()
        self._discarding = False  # inside an overlong tcp_chat line, dropping up to its newline
        self._quit_sent = False
        self._last_line = ""

    # tcp_chat connection -------------------------------------------------------------------

    def chat_connected(self) -> list[Action]:
        if self.state is State.CONNECTING:
            self.state = State.ONLINE
        return []

    def chat_unavailable(self) -> list[Action]:
        """The TCP connection to tcp_chat could not be made (refused, timed out, no DNS)."""
        if self.state is State.CLOSED:
            return []
        self.state = State.CLOSED
        return [SendText(UNAVAILABLE_LINE), Close(TRY_AGAIN, "chat server unavailable")]

    def chat_data(self, data: bytes) -> list[Action]:
        """Bytes from tcp_chat: each complete line becomes one text frame."""
        if self.state is not State.ONLINE:
            return []
        out: list[Action] = []
        self._buf += data
        while True:
            end = self._buf.find(b"\n")
            if end < 0:
                if len(self._buf) > self.max_chat_line:
                    # A server line this long is not tcp_chat's protocol; show its start only.
                    if not self._discarding:
                        out.append(self._line(bytes(self._buf[: self.max_chat_line])))
                    self._discarding = True
                    self._buf.clear()
                return out
            raw = bytes(self._buf[:end])
            del self._buf[: end + 1]
            if self._discarding:
                self._discarding = False
                continue
            out.append(self._line(raw[: self.max_chat_line]))

    def chat_eof(self) -> list[Action]:
        """tcp_chat closed the connection (or it broke): close the WebSocket with the reason."""
        if self.state is not State.ONLINE:
            return []
        out: list[Action] = []
        if self._buf and not self._discarding:
            out.append(self._line(bytes(self._buf)))
        self._buf.clear()
        self.state = State.CLOSED
        if self._quit_sent:
            out.append(Close(NORMAL, "bye"))
        elif self._last_line.startswith("! idle too long"):
            out.append(Close(NORMAL, "idle too long"))
        elif self._last_line.startswith("! server full"):
            out.append(Close(TRY_AGAIN, "chat server full: try again later"))
        else:
            out.append(SendText(LOST_LINE))
            out.append(Close(TRY_AGAIN, "chat server closed the connection: try again later"))
        return out

    def _line(self, raw: bytes) -> SendText:
        text = raw.decode("utf-8", "replace").removesuffix("\r")
        self._last_line = text
        return SendText(text)

    # browser side -------------------------------------------------------------------------

    def browser_message(self, message: str | bytes) -> list[Action]:
        """One WebSocket message from the browser: one tcp_chat line, or an error line back."""
        if self.state is not State.ONLINE:
            return []
        if isinstance(message, bytes):
            return [SendText(BINARY_LINE)]
        if "\n" in message or "\r" in message:
            return [SendText(LINE_BREAK_LINE)]
        if not message:
            return []  # tcp_chat ignores empty lines without a reply; save the round trip
        if is_quit(message):
            self._quit_sent = True
        return [ToChat(message.encode("utf-8") + b"\n")]

    def browser_closed(self) -> list[Action]:
        """The browser went away: the transport closes the TCP side, so tcp_chat says 'left'."""
        self.state = State.CLOSED
        return []

    def too_slow(self) -> list[Action]:
        """The browser's outbound queue is full: drop it rather than let it hold memory."""
        if self.state is State.CLOSED:
            return []
        self.state = State.CLOSED
        return [Close(POLICY, "too slow: outbound queue full")]
