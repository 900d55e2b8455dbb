"""A shared HTTP cache (RFC 9111) bounded in bytes and entries, least recently used first out.

Pure: no I/O and no clock of its own. Every call takes ``now`` (wall-clock seconds, as
``time.time()`` gives), so tests move time by passing a number.

What it does, and what it leaves out on purpose (a lab proxy should be right before clever):
- Stores only responses to GET with explicit freshness (``s-maxage``, ``max-age`` or
  ``Expires``) and a status cacheable by default; serves them to GET and HEAD while fresh.
- Never stores ``no-store``, ``private``, ``no-cache`` (it does not revalidate), ``Vary: *``,
  or a response carrying ``Set-Cookie``.
- Requests with ``Authorization`` bypass the cache by default (as Varnish does: another user's
  copy is never the right answer to a credentialed request). With ``share_authorized`` it
  follows RFC 9111 §3.5 instead: such a response is stored, and such a request served, only
  when ``public``, ``s-maxage`` or ``must-revalidate`` allows it.
- Requests with ``no-store``, ``no-cache``, ``max-age=0`` or ``Pragma: no-cache`` go to the origin;
  ``max-age=N`` and ``min-fresh=N`` in a request narrow what counts as fresh.
- ``Vary`` selects among variants of one URL; a successful unsafe request invalidates the URL.
- No heuristic freshness, no stale serving, no conditional revalidation.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

Headers = list[tuple[bytes, bytes]]

CACHEABLE_STATUS = frozenset({200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501})
UNSAFE = frozenset({b"POST", b"PUT", b"PATCH", b"DELETE"})
_DIRECTIVE = re.compile(rb'\s*([^\s=,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?\s*(?:,|$)')
_NOT_STORED = (b"content-length", b"transfer-encoding", b"age", b"x-cache", b"connection")


def cache_control(headers: Headers) -> dict[str, str | None]:
    """All ``Cache-Control`` directives of ``headers``: lower-case name -> value or None."""
    out: dict[str, str | None] = {}
    for name, value in headers:
        if name != b"cache-control":
            continue
        pos = 0
        while pos < len(value):
            m = _DIRECTIVE.match(value, pos)
            if not m or m.end() == pos:
                break
            pos = m.end()
            key = m.group(1).decode("latin-1").lower()
            arg = m.group(2)
            text = None if arg is None else arg.strip().strip(b'"').decode("latin-1")
            out.setdefault(key, text)
    return out


def seconds(value: str | None) -> int | None:
    """A delta-seconds value, or None if absent or malformed (RFC 9111 §1.2.2)."""
    if value is None or not value.isdigit():
        return None
    return min(int(value), 2**31)


def http_date(value: bytes | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value.decode("latin-1")).timestamp()
    except (ValueError, TypeError, IndexError, OverflowError):
        return None


def _header(headers: Headers, name: bytes) -> bytes | None:
    return next((v for n, v in headers if n == name), None)


def freshness_lifetime(headers: Headers, response_time: float) -> float:
    """Seconds the response stays fresh in a shared cache (0 = not explicitly fresh)."""
    cc = cache_control(headers)
    for key in ("s-maxage", "max-age"):
        if key in cc:
            return float(seconds(cc[key]) or 0)
    expires_raw = _header(headers, b"expires")
    if expires_raw is None:
        return 0.0
    expires = http_date(expires_raw)  # an invalid Expires means "already expired"
    date = http_date(_header(headers, b"date")) or response_time
    return max(0.0, expires - date) if expires is not None else 0.0


def vary_names(headers: Headers) -> tuple[bytes, ...]:
    names = []
    for n, v in headers:
        if n == b"vary":
            names += [p.strip().lower() for p in v.split(b",") if p.strip()]
    return tuple(sorted(set(names)))


def vary_values(request: Headers, names: tuple[bytes, ...]) -> tuple[bytes | None, ...]:
    out = []
    for name in names:
        values = [v.strip() for n, v in request if n == name]
        out.append(b", ".join(values) if values else None)
    return tuple(out)


def request_bypasses(request: Headers) -> bool:
    """True when the client asks for a response from the origin, not from a cache."""
    cc = cache_control(request)
    if "no-store" in cc or "no-cache" in cc or seconds(cc.get("max-age")) == 0:
        return True
    has_cc = any(n == b"cache-control" for n, _ in request)
    pragma = _header(request, b"pragma") or b""
    return not has_cc and b"no-cache" in pragma.lower()


def why_not_storable(
    method: bytes, status: int, request: Headers, response: Headers, now: float,
    share_authorized: bool = False,
) -> str | None:
    """The reason a response may not be stored, or None if it may (size is checked apart)."""
    if method != b"GET":
        return "method"
    if status not in CACHEABLE_STATUS:
        return "status"
    req_cc, cc = cache_control(request), cache_control(response)
    for directive in ("no-store", "private", "no-cache"):
        if directive in cc:
            return directive
    if "no-store" in req_cc:
        return "request no-store"
    if _header(request, b"authorization") is not None and not (
        share_authorized and auth_allowed(cc)
    ):
        return "authorization"
    if b"*" in vary_names(response):
        return "vary *"
    if _header(response, b"set-cookie") is not None:
        return "set-cookie"
    if freshness_lifetime(response, now) <= 0:
        return "no freshness"
    return None


def auth_allowed(cc: dict[str, str | None]) -> bool:
    """RFC 9111 §3.5: a response to a request with Authorization is shared only if it says so."""
    return "public" in cc or "s-maxage" in cc or "must-revalidate" in cc


@dataclass
class Entry:
    url: str
    status: int
    reason: bytes
    headers: Headers
    body: bytes
    vary: tuple[bytes, ...]
    response_time: float
    initial_age: float
    lifetime: float
    shareable_with_auth: bool
    size: int = 0
    wire: tuple[bytes, bool, bytes] | None = None  # the serialised head, built at first hit

    def age(self, now: float) -> float:
        return self.initial_age + max(0.0, now - self.response_time)

    def served_headers(self, now: float) -> Headers:
        """The stored headers with a current ``Age`` and the body's ``Content-Length``."""
        return [
            *self.headers,
            (b"age", str(int(self.age(now))).encode()),
            (b"content-length", str(len(self.body)).encode()),
        ]


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stores: int = 0
    not_stored: int = 0
    evictions: int = 0
    invalidations: int = 0


@dataclass
class Cache:
    max_bytes: int = 64 * 1024 * 1024
    max_object_bytes: int = 4 * 1024 * 1024
    max_entries: int = 10_000
    share_authorized: bool = False
    stats: CacheStats = field(default_factory=CacheStats)
    _entries: OrderedDict[tuple[str, tuple[bytes | None, ...]], Entry] = field(
        default_factory=OrderedDict
    )
    _vary: dict[str, tuple[bytes, ...]] = field(default_factory=dict)
    _variants: dict[str, set[tuple[str, tuple[bytes | None, ...]]]] = field(default_factory=dict)
    bytes_used: int = 0

    def lookup(self, method: bytes, url: str, request: Headers, now: float) -> Entry | None:
        """A fresh entry that may answer this GET/HEAD request, or None (counted as a miss)."""
        entry = self._find(method, url, request, now)
        if entry is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return entry

    def _find(self, method: bytes, url: str, request: Headers, now: float) -> Entry | None:
        if method not in (b"GET", b"HEAD") or request_bypasses(request):
            return None
        names = self._vary.get(url)
        if names is None:
            return None
        key = (url, vary_values(request, names))
        entry = self._entries.get(key)
        if entry is None:
            return None
        age = entry.age(now)
        if age >= entry.lifetime:
            self._remove(key)
            return None
        req_cc = cache_control(request)
        max_age, min_fresh = seconds(req_cc.get("max-age")), seconds(req_cc.get("min-fresh"))
        if max_age is not None and age > max_age:
            return None
        if min_fresh is not None and entry.lifetime - age < min_fresh:
            return None
        if _header(request, b"authorization") is not None and not (
            self.share_authorized and entry.shareable_with_auth
        ):
            return None
        self._entries.move_to_end(key)
        return entry

    def may_store(
        self, method: bytes, status: int, request: Headers, response: Headers, now: float
    ) -> bool:
        """Decide before the body streams whether to keep a copy of it (size checked apart)."""
        length = _header(response, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_object_bytes:
            return False
        return (
            why_not_storable(method, status, request, response, now, self.share_authorized)
            is None
        )

    def store(
        self,
        url: str,
        request: Headers,
        status: int,
        reason: bytes,
        response: Headers,
        body: bytes,
        now: float,
    ) -> bool:
        """Keep a complete GET response if it is storable and fits; True if stored."""
        if (
            len(body) > self.max_object_bytes
            or why_not_storable(b"GET", status, request, response, now, self.share_authorized)
            is not None
        ):
            self.stats.not_stored += 1
            return False
        names = vary_names(response)
        if self._vary.get(url, names) != names:
            self.invalidate(url)  # the origin changed what it varies on: old variants are moot
        kept = [(n, v) for n, v in response if n not in _NOT_STORED]
        date = http_date(_header(response, b"date"))
        age_header = seconds((_header(response, b"age") or b"").decode("latin-1") or None)
        apparent = max(0.0, now - date) if date is not None else 0.0
        entry = Entry(
            url=url,
            status=status,
            reason=reason,
            headers=kept,
            body=body,
            vary=names,
            response_time=now,
            initial_age=max(apparent, float(age_header or 0)),
            lifetime=freshness_lifetime(response, now),
            shareable_with_auth=auth_allowed(cache_control(response)),
            size=len(body) + sum(len(n) + len(v) + 4 for n, v in kept) + len(url),
        )
        if entry.size > self.max_bytes:
            self.stats.not_stored += 1
            return False
        key = (url, vary_values(request, names))
        if key in self._entries:
            self._remove(key)
        self._vary[url] = names
        self._variants.setdefault(url, set()).add(key)
        self._entries[key] = entry
        self.bytes_used += entry.size
        self.stats.stores += 1
        while self.bytes_used > self.max_bytes or len(self._entries) > self.max_entries:
            oldest = next(iter(self._entries))
            self._remove(oldest)
            self.stats.evictions += 1
        return True

    def invalidate(self, url: str) -> int:
        """Drop every variant of ``url`` (after a successful unsafe request); how many."""
        keys = list(self._variants.get(url, ()))
        for key in keys:
            self._remove(key)
        self._vary.pop(url, None)
        self.stats.invalidations += len(keys)
        return len(keys)

    def _remove(self, key: tuple[str, tuple[bytes | None, ...]]) -> None:
        entry = self._entries.pop(key)
        self.bytes_used -= entry.size
        variants = self._variants.get(key[0], set())
        variants.discard(key)
        if not variants:
            self._variants.pop(key[0], None)
            self._vary.pop(key[0], None)

    def snapshot(self) -> dict[str, int | bool]:
        s = self.stats
        return {
            "share_authorized": self.share_authorized,
            "entries": len(self._entries),
            "bytes": self.bytes_used,
            "max_bytes": self.max_bytes,
            "max_object_bytes": self.max_object_bytes,
            "hits": s.hits,
            "misses": s.misses,
            "stores": s.stores,
            "not_stored": s.not_stored,
            "evictions": s.evictions,
            "invalidations": s.invalidations,
        }
