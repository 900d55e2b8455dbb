"""HTTP/1.1 message rules, sans-IO: bytes of a request head in, a Request or an HttpError out.

The transport reads lines and hands them here; everything that decides what a request means
(request line, header syntax, body framing, keep-alive, limits) lives in plain functions so each
rule is unit-tested without a socket, and a Response value becomes bytes with ``serialize``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus

TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
TARGET = re.compile(rb"^[\x21-\x7e]+$")  # visible ASCII, no spaces or controls
VERSION = re.compile(rb"^HTTP/(\d)\.(\d)$")
FIELD_VALUE_BAD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # controls other than tab
SUPPORTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class Limits:
    """Every size and count a client controls; each is a CLI flag (see ``cli``)."""

    max_url: int = 8192  # bytes of the request target
    max_header_bytes: int = 16384  # bytes of all header lines together
    max_headers: int = 100  # header lines
    max_body: int = 65536  # bytes of a request body
    max_fields: int = 200  # fields of a urlencoded form

    @property
    def max_request_line(self) -> int:
        """Longest request line worth reading: method + target + version, with room to spare."""
        return self.max_url + 64


class HttpError(Exception):
    """A request the server answers with ``status`` and then closes (its framing is unsure)."""

    def __init__(
        self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


@dataclass
class Headers:
    """Header fields in arrival order; names compared case-insensitively."""

    items: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.items:
            if key.lower() == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.items if key.lower() == name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


@dataclass(frozen=True)
class RequestLine:
    method: str
    target: str
    version: tuple[int, int]


@dataclass
class Request:
    """One parsed request as the routes see it."""

    method: str
    target: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: tuple[int, int] = (1, 1)
    client: str = "-"

    @property
    def path(self) -> str:
        """The target without its query string (still percent-encoded)."""
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


def parse_request_line(line: bytes, limits: Limits) -> RequestLine:
    """``GET /path HTTP/1.1`` -> RequestLine; 400, 414, 501 or 505 as an HttpError."""
    if len(line) > limits.max_request_line or not line.endswith(b"\n"):
        raise HttpError(414, f"request line longer than {limits.max_request_line} bytes")
    line = line.rstrip(b"\r\n")
    parts = line.split(b" ")
    if len(parts) != 3:
        raise HttpError(400, "request line must be METHOD SP TARGET SP HTTP-VERSION")
    method_b, target_b, version_b = parts
    if not TOKEN.match(method_b):
        raise HttpError(400, "bad method")
    if len(target_b) > limits.max_url:
        raise HttpError(414, f"URL longer than {limits.max_url} bytes")
    if not TARGET.match(target_b):
        raise HttpError(400, "bad request target")
    match = VERSION.match(version_b)
    if not match:
        raise HttpError(400, "bad HTTP version")
    version = (int(match[1]), int(match[2]))
    if version[0] != 1:
        raise HttpError(505, "only HTTP/1.0 and HTTP/1.1 are spoken here")
    method = method_b.decode("ascii")
    if method not in SUPPORTED_METHODS:
        raise HttpError(501, f"method {method} not implemented")
    target = target_b.decode("ascii")
    if target != "*" and not target.startswith("/"):
        target = _origin_form(target)
    return RequestLine(method, target, version)


def _origin_form(target: str) -> str:
    """Absolute-form (``http://host/path``) is reduced to its path; anything else is a 400."""
    match = re.match(r"^https?://[^/?#]+(/[^#]*)?$", target, re.IGNORECASE)
    if not match:
        raise HttpError(400, "request target must be a path")
    return match[1] or "/"


def parse_header_line(line: bytes) -> tuple[str, str]:
    """``Name: value`` -> (name, value); obs-fold, spaces before the colon and controls are 400."""
    line = line.rstrip(b"\r\n")
    if line[:1] in (b" ", b"\t"):
        raise HttpError(400, "obsolete header line folding")
    name, sep, value = line.partition(b":")
    if not sep or not TOKEN.match(name):
        raise HttpError(400, "malformed header line")
    text = value.strip(b" \t").decode("latin-1")
    if FIELD_VALUE_BAD.search(text):
        raise HttpError(400, "control character in header value")
    return name.decode("ascii"), text


def parse_headers(lines: list[bytes], limits: Limits) -> Headers:
    """Header lines (without the blank end line) -> Headers, within the size and count limits."""
    if len(lines) > limits.max_headers:
        raise HttpError(431, f"more than {limits.max_headers} header lines")
    if sum(len(line) for line in lines) > limits.max_header_bytes:
        raise HttpError(431, f"headers larger than {limits.max_header_bytes} bytes")
    return Headers([parse_header_line(line) for line in lines])


def body_length(line: RequestLine, headers: Headers, limits: Limits) -> int:
    """Bytes of body to read, from Content-Length only.

    Transfer-Encoding is refused: ``chunked`` with 411 (send a Content-Length instead), any other
    coding with 501; both at once with Content-Length is a 400 (a request-smuggling shape).
    """
    te = headers.get_all("Transfer-Encoding")
    lengths = headers.get_all("Content-Length")
    if te:
        if lengths:
            raise HttpError(400, "both Transfer-Encoding and Content-Length")
        codings = [c.strip().lower() for v in te for c in v.split(",")]
        if codings == ["chunked"]:
            raise HttpError(411, "chunked request bodies are not accepted; send Content-Length")
        raise HttpError(501, f"transfer coding {', '.join(codings)} not implemented")
    values = {v.strip() for value in lengths for v in value.split(",")}
    if not values:
        if line.method in ("POST", "PUT", "PATCH"):
            raise HttpError(411, f"{line.method} needs a Content-Length")
        return 0
    if len(values) > 1:
        raise HttpError(400, "conflicting Content-Length values")
    text = values.pop()
    if not text.isdigit() or not text.isascii() or len(text) > 18:
        raise HttpError(400, "Content-Length must be a decimal number")
    length = int(text)
    if length > limits.max_body:
        raise HttpError(413, f"body larger than {limits.max_body} bytes")
    return length


def expects_continue(line: RequestLine, headers: Headers) -> bool:
    """True when the client waits for ``100 Continue``; an unknown expectation is a 417."""
    expect = headers.get("Expect")
    if expect is None or line.version < (1, 1):
        return False
    if expect.strip().lower() != "100-continue":
        raise HttpError(417, "only Expect: 100-continue is understood")
    return True


def wants_keep_alive(version: tuple[int, int], headers: Headers) -> bool:
    """HTTP/1.1 keeps the connection unless told ``close``; HTTP/1.0 only with ``keep-alive``."""
    tokens = {t.strip().lower() for v in headers.get_all("Connection") for t in v.split(",")}
    if "close" in tokens:
        return False
    return version >= (1, 1) or "keep-alive" in tokens


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def serialize(
    response: Response, *, keep_alive: bool, head_only: bool, date: str, server: str
) -> bytes:
    """Status line, headers with an exact Content-Length and Connection, then the body.

    A HEAD response carries the headers its GET would have (Content-Length included) and no body.
    """
    lines = [f"HTTP/1.1 {response.status} {reason(response.status)}", f"Date: {date}"]
    lines.append(f"Server: {server}")
    skip = {"content-length", "connection", "date", "server"}
    lines += [f"{k}: {v}" for k, v in response.headers if k.lower() not in skip]
    if response.status >= 200 and response.status not in (204, 304):
        lines.append(f"Content-Length: {len(response.body)}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if head_only or response.status in (204, 304):
        return head
    return head + response.body
