"""The shared cache with injected time: storability, freshness, Vary, Authorization, LRU."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from http_proxy import cache as c
from http_proxy.cache import Cache

URL = "http://origin:8080/x"
T0 = 1_800_000_000.0


def resp(cc: str | None = "max-age=60", **extra: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
    if cc is not None:
        headers.append((b"cache-control", cc.encode()))
    headers += [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in extra.items()]
    return headers


def stored(cache: Cache, response: list[tuple[bytes, bytes]], request=(), now=T0) -> bool:
    return cache.store(URL, list(request), 200, b"OK", response, b"hello", now)


def test_cache_control_parsing_handles_quotes_case_and_repeats() -> None:
    headers = [(b"cache-control", b'Max-Age=60, no-cache="set-cookie, x", private'),
               (b"cache-control", b"s-maxage=\"5\"")]
    assert c.cache_control(headers) == {
        "max-age": "60", "no-cache": "set-cookie, x", "private": None, "s-maxage": "5"
    }
    assert c.seconds("12") == 12 and c.seconds("-1") is None and c.seconds("1.5") is None


def test_miss_then_hit_until_max_age_then_miss() -> None:
    cache = Cache()
    assert cache.lookup(b"GET", URL, [], T0) is None
    assert stored(cache, resp("public, max-age=60"))
    entry = cache.lookup(b"GET", URL, [], T0 + 59)
    assert entry is not None and entry.body == b"hello"
    assert (b"age", b"59") in entry.served_headers(T0 + 59)
    assert (b"content-length", b"5") in entry.served_headers(T0 + 59)
    assert cache.lookup(b"HEAD", URL, [], T0 + 10) is not None  # a GET answer serves HEAD
    assert cache.lookup(b"GET", URL, [], T0 + 60) is None  # stale: gone
    assert cache.snapshot()["entries"] == 0
    assert (cache.stats.hits, cache.stats.misses) == (2, 2)


def test_s_maxage_wins_over_max_age_and_expires_needs_date() -> None:
    assert c.freshness_lifetime(resp("max-age=10, s-maxage=100"), T0) == 100
    expires = [(b"date", formatdate(T0, usegmt=True).encode()),
               (b"expires", formatdate(T0 + 30, usegmt=True).encode())]
    assert c.freshness_lifetime(expires, T0 + 5) == 30
    assert c.freshness_lifetime([(b"expires", b"0")], T0) == 0  # invalid = already expired
    assert c.freshness_lifetime([], T0) == 0


def test_age_from_upstream_counts() -> None:
    cache = Cache()
    assert stored(cache, resp("max-age=60", age="50"))
    assert cache.lookup(b"GET", URL, [], T0 + 9) is not None
    assert cache.lookup(b"GET", URL, [], T0 + 10) is None


@pytest.mark.parametrize(
    ("response", "request_headers", "reason"),
    [
        (resp("no-store, max-age=60"), [], "no-store"),
        (resp("private, max-age=60"), [], "private"),
        (resp("no-cache, max-age=60"), [], "no-cache"),
        (resp(None), [], "no freshness"),
        (resp("max-age=0"), [], "no freshness"),
        (resp("max-age=60", vary="*"), [], "vary *"),
        (resp("max-age=60", set_cookie="a=1"), [], "set-cookie"),
        (resp("max-age=60"), [(b"cache-control", b"no-store")], "request no-store"),
        (resp("max-age=60"), [(b"authorization", b"Basic x")], "authorization"),
    ],
)
def test_not_storable(response, request_headers, reason) -> None:
    assert c.why_not_storable(b"GET", 200, request_headers, response, T0) == reason
    cache = Cache()
    assert not stored(cache, response, request_headers)
    assert cache.lookup(b"GET", URL, [], T0) is None


def test_only_get_and_default_cacheable_statuses_are_stored() -> None:
    assert c.why_not_storable(b"HEAD", 200, [], resp(), T0) == "method"
    assert c.why_not_storable(b"POST", 200, [], resp(), T0) == "method"
    assert c.why_not_storable(b"GET", 206, [], resp(), T0) == "status"
    assert c.why_not_storable(b"GET", 500, [], resp(), T0) == "status"
    assert c.why_not_storable(b"GET", 404, [], resp(), T0) is None


@pytest.mark.parametrize("cc", ["public, max-age=60", "s-maxage=60", "max-age=60, must-revalidate"])
def test_authorization_shared_only_when_enabled_and_the_response_says_so(cc: str) -> None:
    auth = [(b"authorization", b"Basic dTpw")]
    strict = Cache()
    assert not stored(strict, resp(cc), auth)
    assert stored(strict, resp(cc))
    assert strict.lookup(b"GET", URL, auth, T0 + 1) is None  # default: credentials bypass
    rfc = Cache(share_authorized=True)
    assert stored(rfc, resp(cc), auth)
    assert rfc.lookup(b"GET", URL, auth, T0 + 1) is not None


def test_rfc_mode_still_refuses_unshareable_authorized_responses() -> None:
    auth = [(b"authorization", b"Basic dTpw")]
    rfc = Cache(share_authorized=True)
    assert not stored(rfc, resp("max-age=60"), auth)
    assert stored(rfc, resp("max-age=60"))
    assert rfc.lookup(b"GET", URL, auth, T0 + 1) is None


def test_authorization_request_not_served_a_plain_entry() -> None:
    cache = Cache()
    assert stored(cache, resp("max-age=60"))
    assert cache.lookup(b"GET", URL, [], T0 + 1) is not None
    assert cache.lookup(b"GET", URL, [(b"authorization", b"Bearer t")], T0 + 1) is None


@pytest.mark.parametrize(
    "request_headers",
    [
        [(b"cache-control", b"no-cache")],
        [(b"cache-control", b"no-store")],
        [(b"cache-control", b"max-age=0")],
        [(b"pragma", b"no-cache")],
        [(b"cache-control", b"max-age=5")],  # entry is 10 s old
        [(b"cache-control", b"min-fresh=55")],  # only 50 s left
    ],
)
def test_request_directives_bypass(request_headers) -> None:
    cache = Cache()
    assert stored(cache, resp("max-age=60"))
    assert cache.lookup(b"GET", URL, request_headers, T0 + 10) is None
    assert cache.lookup(b"GET", URL, [], T0 + 10) is not None


def test_vary_selects_variants() -> None:
    cache = Cache()
    gzip = [(b"accept-encoding", b"gzip")]
    plain = [(b"accept-encoding", b"identity")]
    response = resp("max-age=60", vary="Accept-Encoding")
    assert cache.store(URL, gzip, 200, b"OK", response, b"GZIP!", T0)
    assert cache.lookup(b"GET", URL, plain, T0) is None
    assert cache.lookup(b"GET", URL, [], T0) is None
    assert cache.store(URL, plain, 200, b"OK", response, b"plain", T0)
    hit_gzip = cache.lookup(b"GET", URL, gzip, T0)
    hit_plain = cache.lookup(b"GET", URL, plain, T0)
    assert hit_gzip is not None and hit_gzip.body == b"GZIP!"
    assert hit_plain is not None and hit_plain.body == b"plain"


def test_invalidate_drops_every_variant() -> None:
    cache = Cache()
    response = resp("max-age=60", vary="Accept")
    for accept in (b"a", b"b"):
        cache.store(URL, [(b"accept", accept)], 200, b"OK", response, b"x", T0)
    assert cache.invalidate(URL) == 2
    assert cache.snapshot()["entries"] == 0 and cache.bytes_used == 0


def test_lru_bounded_in_bytes_evicts_least_recently_used() -> None:
    probe = Cache()  # measures the size of one entry
    probe.store("http://h/0", [], 200, b"OK", resp(), b"x" * 100, T0)
    size = probe.bytes_used
    cache = Cache(max_bytes=size * 2 + 10)
    for i in range(2):
        assert cache.store(f"http://h/{i}", [], 200, b"OK", resp(), b"x" * 100, T0)
    assert cache.lookup(b"GET", "http://h/0", [], T0) is not None  # 0 is now most recent
    assert cache.store("http://h/2", [], 200, b"OK", resp(), b"x" * 100, T0)
    assert cache.lookup(b"GET", "http://h/1", [], T0) is None
    assert cache.lookup(b"GET", "http://h/0", [], T0) is not None
    assert cache.bytes_used <= cache.max_bytes and cache.stats.evictions == 1


def test_limits_on_object_size_and_entries() -> None:
    cache = Cache(max_object_bytes=4, max_entries=2)
    assert not cache.store(URL, [], 200, b"OK", resp(), b"12345", T0)
    assert not cache.may_store(b"GET", 200, [], resp(), T0)  # content-length 5 > 4
    for i in range(3):
        cache.store(f"http://h/{i}", [], 200, b"OK", resp(), b"1", T0)
    assert cache.snapshot()["entries"] == 2


def test_stored_headers_drop_framing_and_age() -> None:
    cache = Cache()
    response = resp("max-age=60", age="3", x_cache="HIT", etag='"v1"')
    assert stored(cache, [*response, (b"transfer-encoding", b"chunked")])
    entry = cache.lookup(b"GET", URL, [], T0)
    assert entry is not None
    names = [n for n, _ in entry.headers]
    assert b"age" not in names and b"x-cache" not in names and b"transfer-encoding" not in names
    assert b"content-length" not in names and (b"etag", b'"v1"') in entry.headers
