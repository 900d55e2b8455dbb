"""Line framing for the chat: bytes in, text lines or errors out (sans-IO, no sockets here).

Why a framer at all: TCP is a byte stream, so one ``recv`` may hold half a line or ten lines. The
course's server treats each ``recv`` as one message; this splits on ``\\n`` instead, bounds what it
buffers, and turns bad input into one error reply rather than a crash or a stuck client.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_LINE_BYTES = 4096

# C0 controls except tab, DEL and C1 controls are removed; a tab becomes a space.
_SCRUB_TABLE: dict[int, str | None] = {c: None for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
_SCRUB_TABLE[0x09] = " "


def scrub(text: str) -> str:
    """Remove control characters so no client can move another's cursor or ring its bell."""
    return text.translate(_SCRUB_TABLE)


@dataclass(frozen=True, slots=True)
class FrameError:
    """A line that was dropped; ``reply`` is the one error line its sender gets."""

    reply: str


INVALID_UTF8 = FrameError("! invalid UTF-8: line dropped")


def too_long(max_line_bytes: int) -> FrameError:
    return FrameError(f"! line too long: max {max_line_bytes} bytes")


class LineFramer:
    """Split a byte stream into UTF-8 lines of at most ``max_line_bytes`` bytes.

    ``feed`` returns, in order, a ``str`` per good line (terminator and a trailing ``\\r``
    removed, not yet scrubbed) and a ``FrameError`` per dropped line. At most
    ``max_line_bytes + 1`` bytes of an unfinished line are kept between calls: a longer line is
    reported at once and the rest of it is skipped up to its ``\\n``.
    """

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be at least 1")
        self.max_line_bytes = max_line_bytes
        self._too_long = too_long(max_line_bytes)
        self._buffer = b""
        self._skipping = False  # inside an overlong line already reported

    def feed(self, data: bytes) -> list[str | FrameError]:
        events: list[str | FrameError] = []
        buffer = self._buffer + data if self._buffer else data
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            if self._skipping:
                self._skipping = False
            else:
                events.append(self._decode(buffer[start:end]))
            start = end + 1
        rest = buffer[start:]
        if self._skipping:
            rest = b""
        elif len(rest) > self.max_line_bytes + 1 or (
            len(rest) == self.max_line_bytes + 1 and not rest.endswith(b"\r")
        ):
            events.append(self._too_long)
            self._skipping = True
            rest = b""
        self._buffer = rest
        return events

    def feed_eof(self) -> list[str | FrameError]:
        """The peer closed: an unfinished last line (``nc`` then Ctrl-D) still counts."""
        rest, self._buffer = self._buffer, b""
        if self._skipping or not rest:
            self._skipping = False
            return []
        return [self._decode(rest)]

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line held now (bounded by ``max_line_bytes + 1``)."""
        return len(self._buffer)

    def _decode(self, raw: bytes) -> str | FrameError:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) > self.max_line_bytes:
            return self._too_long
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return INVALID_UTF8


def encode_line(line: str) -> bytes:
    """A server line on the wire: UTF-8 and ``\\n``."""
    return (line + "\n").encode("utf-8")
