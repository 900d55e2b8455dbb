"""What the HTTP side answers, decided without I/O: the page, its assets, and the /ws gate.

Every request reaches the server as a WebSocket opening handshake; this module decides whether it
gets a plain HTTP reply (the chat page, 404, 403 for a foreign Origin, 503 when full) or goes on
to the upgrade. Refusing at the handshake is cheap and the browser sees a real status code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

WS_PATH = "/ws"
STATIC = Path(__file__).resolve().parent / "static"
# URL path -> (file in static/, content type). A fixed table: no path ever reaches the filesystem.
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/chat.css": ("chat.css", "text/css; charset=utf-8"),
    "/chat.js": ("chat.js", "text/javascript; charset=utf-8"),
}
SECURITY_HEADERS = (
    # 'self' covers ws:// and wss:// to the same host in CSP 3, which is all the page needs.
    ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "
     "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
     "frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-cache"),
)
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Reply:
    """A plain HTTP response instead of the WebSocket upgrade."""

    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def normalize_origin(text: str) -> str:
    """``scheme://host[:port]`` in lower case without a default port, as browsers send it.

    Raises ValueError for anything else (a path, no scheme, a scheme other than http/https)."""
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) origin: {text!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"an origin is scheme://host[:port] only: {text!r}")
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port  # ValueError if not a number in range
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_origins(text: str) -> frozenset[str]:
    """The allow-list flag: comma-separated origins; an empty list allows no browser at all."""
    return frozenset(normalize_origin(item) for item in text.split(",") if item.strip())


def origin_allowed(origin: str | None, allowed: frozenset[str], allow_missing: bool) -> bool:
    """Browsers always send Origin on a WebSocket handshake, which is what stops another site's
    page from joining the chat as its visitor. A request without one is not from a browser (a
    script could send any Origin anyway), so it is allowed unless ``allow_missing`` is off."""
    if origin is None:
        return allow_missing
    try:
        return normalize_origin(origin) in allowed
    except ValueError:
        return False  # "null" (sandboxed frames, file://) and garbage


def load_assets(max_message_bytes: int, directory: Path = STATIC) -> dict[str, Reply]:
    """Read the page files once at start; the page learns the message limit from a meta tag."""
    out: dict[str, Reply] = {}
    for path, (name, ctype) in ASSETS.items():
        body = (directory / name).read_bytes()
        if name == "index.html":
            body = body.replace(b"{{MAX_MESSAGE_BYTES}}", str(max_message_bytes).encode())
        out[path] = Reply(200, ctype, body, SECURITY_HEADERS)
    return out


def _text(status: int, message: str, *extra: tuple[str, str]) -> Reply:
    return Reply(status, "text/plain; charset=utf-8", (message + "\n").encode(), extra)


class Router:
    """The decision for one handshake request, given how many WebSocket users are open now."""

    def __init__(
        self,
        assets: Mapping[str, Reply],
        origins: Iterable[str],
        max_connections: int,
        allow_missing_origin: bool = True,
    ) -> None:
        self.assets = dict(assets)
        self.origins = frozenset(origins)
        self.max_connections = max_connections
        self.allow_missing_origin = allow_missing_origin

    def route(self, target: str, origin: str | None, active: int) -> Reply | None:
        """A Reply to send instead of upgrading, or None to go on with the WebSocket handshake."""
        path = urlsplit(target).path
        if path == WS_PATH:
            if not origin_allowed(origin, self.origins, self.allow_missing_origin):
                shown = origin if origin is not None else "(none)"
                return _text(403, f"Origin not allowed: {shown[:200]}")
            if active >= self.max_connections:
                return _text(503, "too many connections: try again later", ("Retry-After", "5"))
            return None
        asset = self.assets.get(path)
        if asset is not None:
            return asset
        return _text(404, f"not found: {path[:200]} (the chat is at / and its WebSocket at /ws)")
