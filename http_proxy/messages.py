"""HTTP message helpers for a proxy, sans-IO: request targets, hop-by-hop headers, Via, errors.

h11 does the framing (it is sans-IO too); this module decides what a proxy changes in each
message it forwards. RFC 9110 §7.6.1: ``Connection`` and every header it names apply to one hop
only and are removed, as are the fixed hop-by-hop headers below; the proxy then adds its own
``Via`` (§7.6.3) and sets ``Host`` from the target URI (§7.2).
"""

from __future__ import annotations

import functools
import html
import json
import re
from dataclasses import dataclass

Headers = list[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"proxy-authorization",
     b"proxy-authenticate", b"te", b"trailer", b"transfer-encoding", b"upgrade"}
)
METHODS = frozenset({b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS"})
_LABEL = r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$|^\[[0-9A-Fa-f:.]+\]$")

REASONS = {
    400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    407: "Proxy Authentication Required", 413: "Content Too Large", 414: "URI Too Long",
    431: "Request Header Fields Too Large", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 508: "Loop Detected",
}


class BadTarget(ValueError):
    """A request target the proxy cannot forward; ``status`` is what to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    """Where a request goes: ``http://host:port/path?query`` split into parts."""

    host: str  # lower case, IPv6 without brackets
    port: int
    path: str  # origin-form: "/path?query"

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 80 else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The normalised absolute URI: the cache key and what the log shows."""
        return f"http://{self.authority}{self.path}"


def _split_authority(authority: str, default_port: int | None) -> tuple[str, int]:
    if authority.startswith("["):
        end = authority.find("]")
        host, rest = authority[: end + 1], authority[end + 1 :]
        if end < 0 or (rest and not rest.startswith(":")):
            raise BadTarget(f"bad authority {authority!r}")
        port_text = rest[1:]
    else:
        host, _, port_text = authority.partition(":")
    if not host or len(host) > 255 or not _HOST.match(host) or "@" in authority:
        raise BadTarget(f"bad host in {authority!r}")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise BadTarget(f"bad port in {authority!r}")
        port = int(port_text)
    elif default_port is None:
        raise BadTarget(f"CONNECT needs host:port, got {authority!r}")
    else:
        port = default_port
    return host.strip("[]").lower().rstrip("."), port


def parse_absolute(target: bytes) -> Target:
    """An absolute-form target (``http://host[:port]/path``) -> ``Target``.

    ``https://`` is refused with a hint: a client reaches TLS origins through ``CONNECT``.
    Short targets are remembered (a proxy sees the same URLs again and again; ``Target`` is
    immutable, and refusals are not remembered)."""
    if len(target) <= 512:
        return _parse_absolute_cached(target)
    return _parse_absolute(target)


@functools.lru_cache(maxsize=512)
def _parse_absolute_cached(target: bytes) -> Target:
    return _parse_absolute(target)


def _parse_absolute(target: bytes) -> Target:
    try:
        text = target.decode("ascii")
    except UnicodeDecodeError:
        raise BadTarget("request target is not ASCII") from None
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise BadTarget("expected an absolute URI (http://host/path)")
    if scheme.lower() == "https":
        raise BadTarget("https:// URIs go through CONNECT, not a plain request", 501)
    if scheme.lower() != "http":
        raise BadTarget(f"scheme {scheme!r} is not supported", 501)
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, path = rest[:cut], rest[cut:]
    if "#" in path:
        path = path.split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    host, port = _split_authority(authority, 80)
    return Target(host, port, path)


def parse_authority(target: bytes) -> tuple[str, int]:
    """A CONNECT target ``host:port`` -> (host, port)."""
    try:
        return _split_authority(target.decode("ascii"), None)
    except UnicodeDecodeError:
        raise BadTarget("CONNECT target is not ASCII") from None


def get(headers: Headers, name: bytes) -> bytes | None:
    """The value of the first ``name`` header (names are lower case, as h11 gives them)."""
    for n, v in headers:
        if n == name:
            return v
    return None


def get_all(headers: Headers, name: bytes) -> list[bytes]:
    """Every comma-separated element of every ``name`` header, stripped and lower case."""
    out: list[bytes] = []
    for n, v in headers:
        if n == name:
            out += [p.strip().lower() for p in v.split(b",") if p.strip()]
    return out


def strip_hop_by_hop(headers: Headers) -> Headers:
    """``headers`` without hop-by-hop fields and without the ones ``Connection`` names."""
    # Content-Length frames the message: a Connection naming it must not unframe a body.
    named = set(get_all(headers, b"connection")) - {b"content-length"}
    return [(n, v) for n, v in headers if n not in HOP_BY_HOP and n not in named]


def via_value(http_version: bytes, name: str) -> bytes:
    """``1.1 netlab-proxy``: the protocol version received, then our pseudonym."""
    return http_version + b" " + name.encode()


def seen_by(headers: Headers, name: str) -> bool:
    """True if a ``Via`` element already names this proxy: the request looped back to us."""
    me = name.lower().encode()
    return any(elem.split(b" ")[1:2] == [me] for elem in get_all(headers, b"via"))


def upstream_request_headers(
    headers: Headers, target: Target, http_version: bytes, via_name: str, chunked: bool
) -> Headers:
    """What goes to the origin: hop-by-hop removed, ``Host`` from the URI, our ``Via``; a
    chunked client body stays chunked (h11 needs the framing header to send it)."""
    # With chunked, a received Content-Length is wrong and must go (RFC 9112 §6.1): an origin
    # that trusted it would read the rest of the body as another request.
    drop = (b"host", b"expect", b"content-length") if chunked else (b"host", b"expect")
    out = [(n, v) for n, v in strip_hop_by_hop(headers) if n not in drop]
    out.insert(0, (b"host", target.authority.encode()))
    out.append((b"via", via_value(http_version, via_name)))
    if chunked:
        out.append((b"transfer-encoding", b"chunked"))
    return out


def downstream_response_headers(
    headers: Headers, http_version: bytes, via_name: str, cache: str
) -> Headers:
    """What goes to the client: hop-by-hop removed (h11 re-frames), our ``Via``, ``X-Cache``."""
    out = [(n, v) for n, v in strip_hop_by_hop(headers) if n != b"x-cache"]
    out.append((b"via", via_value(http_version, via_name)))
    out.append((b"x-cache", cache.encode()))
    return out


def cached_head_parts(
    status: int, reason: bytes, stored: Headers, via: bytes, drop: frozenset[bytes],
    add: tuple[tuple[bytes, bytes], ...],
) -> tuple[bytes, bool, bytes]:
    """A cache hit's head, serialised once: (status line and stored headers, whether ``Age``
    survives the rules, the closing headers). Only ``Age`` and ``Content-Length`` go between
    them per request; the result is byte for byte what the general path sends for the hit:
    ``stored`` + age + content-length, hop-by-hop stripped, then via, ``X-Cache: HIT``, and
    the response rules (``drop`` names removed, ``add`` appended)."""
    reason = reason or REASONS.get(status, "").encode()
    kept = [(n, v) for n, v in strip_hop_by_hop(stored) if n != b"x-cache" and n not in drop]
    prefix = b"".join([b"HTTP/1.1 %d %s\r\n" % (status, reason),
                       *(n + b": " + v + b"\r\n" for n, v in kept)])
    tail = [(b"via", via), (b"x-cache", b"HIT"), *add]
    return prefix, b"age" not in drop, b"".join(n + b": " + v + b"\r\n" for n, v in tail)


def error_response(
    status: int, detail: str, *, via_name: str, extra: Headers | None = None
) -> tuple[Headers, bytes]:
    """Headers and an escaped HTML body for an answer the proxy itself gives."""
    reason = REASONS.get(status, "Error")
    body = (
        "<!doctype html><html><head><meta charset=\"utf-8\">"
        f"<title>{status} {html.escape(reason)}</title></head><body>"
        f"<h1>{status} {html.escape(reason)}</h1><p>{html.escape(detail)}</p>"
        f"<hr><p>{html.escape(via_name)}</p></body></html>\n"
    ).encode()
    headers: Headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-cache", b"MISS"),
        *(extra or []),
    ]
    return headers, body


def json_response(doc: object) -> tuple[Headers, bytes]:
    body = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-cache", b"MISS"),
    ], body


_PLAIN = re.compile(r'[!#-<>-\[\]-~]+')  # printable ASCII but space, quote, "=" and backslash


def log_value(value: object) -> str:
    """One log value: floats to 0.1, text with spaces, quotes or ``=`` JSON-quoted."""
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    if _PLAIN.fullmatch(text):
        return text
    if not text or any(c in text for c in ' "=\\') or not text.isprintable():
        return json.dumps(text)
    return text


def log_line(**fields: object) -> str:
    """``key=value`` pairs, values with spaces or quotes JSON-quoted: one greppable line."""
    return " ".join(f"{key}={log_value(value)}" for key, value in fields.items())


def access_line(
    client: str, method: str, target: str, status: int, nbytes: int, cache: str, ms: float,
    detail: str = "",
) -> str:
    """The access-log line of one request: what ``log_line`` gives for these fields, built
    with one format (this runs once per request)."""
    q = log_value
    line = (f"client={q(client)} method={q(method)} target={q(target[:2000])} status={status}"
            f" bytes={nbytes} cache={q(cache)} ms={ms:.1f}")
    return line + " detail=" + q(detail[:300]) if detail else line
