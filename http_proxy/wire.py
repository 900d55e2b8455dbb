"""A fast path for the common request, sans-IO: a strict request-head parser and response framing.

Most requests a proxy sees are body-less ``GET``/``HEAD`` over HTTP/1.1 keep-alive. For those,
h11's general machinery (event objects, header re-validation, state triggers) costs more than
the relaying itself, so ``parse_request_head`` accepts exactly that narrow, unambiguous subset
and raises ``Defer`` for anything else: bodies (``Content-Length``, ``Transfer-Encoding``),
``Expect``, ``Upgrade``, ``Connection: close``, HTTP/1.0, bare LF line ends, folded or odd
header lines, oversize heads. Deferred bytes go to h11 unchanged, so every malformed request
still gets h11's answer (400/431/501) exactly as before; this module never decides an error.

``ResponseFramer`` writes the response to a fast-path request the way h11 would (chunked when no
``Content-Length``, no body for HEAD/204/304, length enforced), as plain bytes that the
transport can send in one write.
"""

from __future__ import annotations

import re

Headers = list[tuple[bytes, bytes]]

_REQUEST_LINE = re.compile(rb"([A-Z]{1,20}) ([\x21-\x7e]+) HTTP/1\.1")
_HEADER = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?)[ \t]*"
)
# Headers that mean a body, a protocol switch or the end of keep-alive: h11 handles those.
_DEFER_NAMES = frozenset({b"content-length", b"transfer-encoding", b"expect", b"upgrade"})
_NO_BODY_STATUS = frozenset({204, 304})


class Defer(Exception):
    """Not for the fast path: hand the bytes to the general (h11) parser."""


class FramingError(Exception):
    """The proxy tried to send a body that contradicts its own framing (a bug, never input)."""


class RequestHead:
    """A parsed request head, with the attribute names of ``h11.Request`` that the proxy uses."""

    __slots__ = ("headers", "http_version", "method", "target")

    def __init__(self, method: bytes, target: bytes, headers: Headers) -> None:
        self.method = method
        self.target = target
        self.headers = headers  # names lower case, values without surrounding whitespace
        self.http_version = b"1.1"


def parse_request_head(buf: bytes | bytearray, max_bytes: int) -> tuple[RequestHead, int] | None:
    """``(head, length consumed)`` for a complete fast-path head at the start of ``buf``, None
    if more bytes are needed; ``Defer`` for anything the fast path does not take."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > max_bytes or (buf and buf[0] in b"\r\n") or b"\n\n" in buf:
            raise Defer("oversize, leading blank line or bare LF")
        return None
    if end + 4 > max_bytes:
        raise Defer("head over the limit")
    lines = bytes(buf[:end]).split(b"\r\n")
    m = _REQUEST_LINE.fullmatch(lines[0])
    if m is None:
        raise Defer("request line")
    if m.group(1) == b"CONNECT":
        raise Defer("CONNECT")
    headers: Headers = []
    hosts = 0
    for line in lines[1:]:
        h = _HEADER.fullmatch(line)
        if h is None:
            raise Defer("header line")
        name = h.group(1).lower()
        value = h.group(2)
        if name in _DEFER_NAMES:
            raise Defer(name.decode())
        if name == b"host":
            hosts += 1
        elif name == b"connection" and b"close" in value.lower():
            raise Defer("connection close")
        headers.append((name, value))
    if hosts != 1:
        raise Defer("Host missing or repeated")
    return RequestHead(m.group(1), m.group(2), headers), end + 4


def serialize_head(status: int, reason: bytes, headers: Headers) -> bytes:
    """``HTTP/1.1 <status> <reason>`` and the header lines, ending with the blank line."""
    lines = [b"HTTP/1.1 %d %s" % (status, reason)]
    lines += [n + b": " + v for n, v in headers]
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


class ResponseFramer:
    """Frames one response to a fast-path (HTTP/1.1, keep-alive, body-less) request."""

    __slots__ = ("chunked", "done", "head_request", "remaining", "started")

    def __init__(self, method: bytes) -> None:
        self.head_request = method == b"HEAD"
        self.remaining: int | None = None  # bytes still owed under Content-Length
        self.chunked = False
        self.started = False
        self.done = False

    def head(self, status: int, reason: bytes, headers: Headers) -> bytes:
        """The head bytes; adds ``transfer-encoding: chunked`` when the length is unknown."""
        if self.started:
            raise FramingError("response head sent twice")
        self.started = True
        length = next((v for n, v in headers if n == b"content-length"), None)
        if status in _NO_BODY_STATUS:
            self.remaining = 0
        elif length is not None:
            if not length.isdigit():
                raise FramingError(f"bad content-length {length!r}")
            self.remaining = 0 if self.head_request else int(length)
        else:
            headers = [*headers, (b"Transfer-Encoding", b"chunked")]
            self.chunked = not self.head_request
            self.remaining = 0 if self.head_request else None
        return serialize_head(status, reason, headers)

    def data(self, data: bytes) -> bytes:
        if not self.started or self.done:
            raise FramingError("body outside a response")
        if not data:
            return b""
        if self.chunked:
            return b"%x\r\n" % len(data) + data + b"\r\n"
        if self.remaining is None or len(data) > self.remaining:
            raise FramingError("body longer than its content-length")
        self.remaining -= len(data)
        return data

    def end(self) -> bytes:
        if not self.started or self.done:
            raise FramingError("end outside a response")
        self.done = True
        if self.chunked:
            return b"0\r\n\r\n"
        if self.remaining:
            raise FramingError("body shorter than its content-length")
        return b""


# --- the origin side: body-less requests out, Content-Length responses in ----------------------

_STATUS_LINE = re.compile(rb"HTTP/1\.1 ([2-5][0-9][0-9]) ([\t\x20-\x7e]*)")


def serialize_request(method: bytes, target: bytes, headers: Headers) -> bytes:
    """A body-less request head as h11 writes it (``Host`` first, then the others in order)."""
    host = [(n, v) for n, v in headers if n == b"host"]
    lines = [method + b" " + target + b" HTTP/1.1"]
    lines += [n + b": " + v for n, v in host + [(n, v) for n, v in headers if n != b"host"]]
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


class ResponseHead:
    """A parsed response head, with the attribute names of ``h11.Response`` the proxy uses."""

    __slots__ = ("headers", "http_version", "reason", "status_code")

    def __init__(self, status_code: int, reason: bytes, headers: Headers) -> None:
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.http_version = b"1.1"


NEED_DATA = object()  # ResponseReader.next(): more bytes needed
END = object()  # ResponseReader.next(): the response is complete


class ResponseReader:
    """Reads one response to a body-less request: a strict HTTP/1.1 head with one
    ``Content-Length`` (none needed for HEAD, 204, 304), then exactly that many body bytes.

    Anything else (chunked or close-delimited bodies, 1xx, ``Connection: close``, HTTP/1.0,
    odd lines) raises ``Defer`` before any event was returned; the caller then gives
    ``buffer`` to h11. ``reusable`` tells whether the connection may carry another request."""

    __slots__ = ("buffer", "head_request", "max_bytes", "remaining", "state")

    def __init__(self, method: bytes, max_bytes: int) -> None:
        self.head_request = method == b"HEAD"
        self.max_bytes = max_bytes
        self.buffer = bytearray()
        self.remaining = 0
        self.state = "head"  # head, body, done

    def feed(self, data: bytes) -> None:
        self.buffer += data

    @property
    def reusable(self) -> bool:
        return self.state == "done" and not self.buffer

    def next(self) -> object:
        """A ``ResponseHead``, then body chunks (bytes), then ``END``; ``NEED_DATA`` between."""
        if self.state == "head":
            return self._head()
        if self.state == "body":
            if not self.remaining:
                self.state = "done"
                return END
            if not self.buffer:
                return NEED_DATA
            take = min(self.remaining, len(self.buffer))
            chunk = bytes(self.buffer[:take])
            del self.buffer[:take]
            self.remaining -= take
            return chunk
        raise FramingError("response already complete")

    def _head(self) -> object:
        buf = self.buffer
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > self.max_bytes or b"\n\n" in buf or (buf and buf[0] in b"\r\n"):
                raise Defer("oversize or odd response head")
            return NEED_DATA
        if end + 4 > self.max_bytes:
            raise Defer("response head over the limit")
        lines = bytes(buf[:end]).split(b"\r\n")
        m = _STATUS_LINE.fullmatch(lines[0])
        if m is None:
            raise Defer("status line")
        status = int(m.group(1))
        headers: Headers = []
        length: bytes | None = None
        for line in lines[1:]:
            h = _HEADER.fullmatch(line)
            if h is None:
                raise Defer("header line")
            name, value = h.group(1).lower(), h.group(2)
            if name == b"content-length":
                if length is not None or not value.isdigit() or len(value) > 18:
                    raise Defer("content-length")
                length = value
            elif name == b"transfer-encoding" or name == b"upgrade":
                raise Defer(name.decode())
            elif name == b"connection" and b"close" in value.lower():
                raise Defer("connection close")
            headers.append((name, value))
        if self.head_request or status in _NO_BODY_STATUS:
            self.remaining = 0
        elif length is None:
            raise Defer("no content-length")
        else:
            self.remaining = int(length)
        del buf[: end + 4]
        self.state = "body"
        return ResponseHead(status, m.group(2), headers)
