"""Checks of http_proxy (docs/protocols/http_proxy.md): a lab URL fetched through the proxy with
``requests`` ``proxies=``, a cacheable URL as MISS then HIT, a request with ``Authorization``
not answered from the cache, proxy authentication (407, then accepted), a verified TLS session
through ``CONNECT`` to tls_server, a blocked host (403) and ``CONNECT`` to port 22 refused.

The proxy resolves lab names itself, so the URLs below are as the proxy sees them. Settings:
``HTTP_PROXY_PLAIN_URL`` (default ``http://http_custom:8080/api/data``), ``HTTP_PROXY_TEST_URL``
(cacheable, default ``http://flask_api:5000/cache/60``; a fresh ``?netlab=`` nonce is added so a
re-run still starts with a MISS), ``HTTP_PROXY_CONNECT_TARGET`` (default ``tls_server:8443``, its
host is the name verified), ``TLS_CA_FILE`` (default /certs/ca.crt), ``HTTP_PROXY_BLOCKED_URL``
(default ``http://blocked.example/``: the lab proxy runs with HTTP_PROXY_BLOCK_HOSTS naming it),
``HTTP_PROXY_AUTH_USER``/``HTTP_PROXY_AUTH_PASS`` (when the proxy requires credentials; the
checks then send them, and the 407 check tests without and with them) and
``HTTP_PROXY_CACHE_AUTHORIZED=1`` if the proxy shares public entries with credentialed requests.

A check that needs another service (flask_api, http_custom, tls_server) fails, never passes,
when that service is not in this run and its URL setting was not given: a check that did not
run has proven nothing, and saying "failed: needs X" is the honest report.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import urllib.parse
import uuid

import requests

from client_runner.checks.base import (
    CheckFailed,
    Context,
    Target,
    check,
    expect,
    expect_equal,
    probe,
)

SERVICE = "http_proxy"
DEFAULTS = {
    "HTTP_PROXY_PLAIN_URL": ("http://http_custom:8080/api/data", "http_custom"),
    "HTTP_PROXY_TEST_URL": ("http://flask_api:5000/cache/60", "flask_api"),
    "HTTP_PROXY_CONNECT_TARGET": ("tls_server:8443", "tls_server"),
}


def _host(target: Target) -> str:
    return f"[{target.host}]" if ":" in target.host else target.host


def _setting(ctx: Context, name: str) -> str:
    """A URL setting; its default needs its service in this run (see the module docstring)."""
    given = ctx.setting(name)
    if given:
        return given
    default, service = DEFAULTS[name]
    if service not in ctx.targets:
        raise CheckFailed(f"needs {service} in this run (or set {name})",
                          expected=f"{service} selected", got="not selected")
    return default


def _creds(ctx: Context) -> tuple[str, str]:
    return ctx.setting("HTTP_PROXY_AUTH_USER"), ctx.setting("HTTP_PROXY_AUTH_PASS")


def _session(ctx: Context, with_creds: bool = True) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # the runner's own HTTP_PROXY/NO_PROXY must not reroute these requests
    user, password = _creds(ctx)
    cred = ""
    if with_creds and user:
        cred = f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}@"
    target = ctx.target(SERVICE)
    s.proxies = {"http": f"http://{cred}{_host(target)}:{target.port}"}
    return s


def _proxy_auth_header(ctx: Context) -> str:
    user, password = _creds(ctx)
    if not user:
        return ""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Proxy-Authorization: Basic {token}\r\n"


def _with_nonce(url: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}netlab={uuid.uuid4().hex}"


def _connect(ctx: Context, authority: str) -> tuple[socket.socket, bytes]:
    """Send CONNECT and read the proxy's answer head; returns the socket and the head."""
    target = ctx.target(SERVICE)
    sock = socket.create_connection((target.host, target.port), timeout=ctx.timeout)
    try:
        sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
                     f"{_proxy_auth_header(ctx)}\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
            expect(len(head) < 65536, "CONNECT answer head too long")
    except BaseException:
        sock.close()
        raise
    return sock, head.partition(b"\r\n\r\n")[0]


@probe(SERVICE, 3128)
def probe_proxy(target: Target, timeout: float) -> None:
    with requests.Session() as s:
        s.trust_env = False  # a direct request: no proxy from the environment
        r = s.get(f"http://{_host(target)}:{target.port}/_proxy/stats", timeout=timeout)
    expect_equal(r.status_code, 200, "GET /_proxy/stats status")


@check(SERVICE, "GET a lab URL through the proxy")
def get_through(ctx: Context) -> str:
    url = _setting(ctx, "HTTP_PROXY_PLAIN_URL")
    with _session(ctx) as s:
        r = s.get(url, timeout=ctx.timeout)
    expect_equal(r.status_code, 200, f"GET {url} status")
    via = r.headers.get("Via", "")
    expect(via, "no Via header from the proxy", expected="Via: 1.1 <proxy>", got=dict(r.headers))
    expect(r.headers.get("X-Cache") in ("HIT", "MISS"), "X-Cache header",
           expected="HIT or MISS", got=r.headers.get("X-Cache"))
    return f"{url} -> 200, Via: {via}, X-Cache: {r.headers['X-Cache']}"


@check(SERVICE, "cacheable URL: MISS then HIT")
def miss_then_hit(ctx: Context) -> str:
    url = _with_nonce(_setting(ctx, "HTTP_PROXY_TEST_URL"))
    with _session(ctx) as s:
        first = s.get(url, timeout=ctx.timeout)
        second = s.get(url, timeout=ctx.timeout)
    expect_equal((first.status_code, second.status_code), (200, 200), "statuses")
    got = (first.headers.get("X-Cache"), second.headers.get("X-Cache"))
    expect_equal(got, ("MISS", "HIT"), "X-Cache of two GETs")
    expect_equal(second.content, first.content, "cached body")
    age, cc = second.headers.get("Age", "?"), first.headers.get("Cache-Control")
    return f"MISS then HIT (Age {age}, {cc})"


@check(SERVICE, "Authorization request not served from cache")
def authorization_bypasses(ctx: Context) -> str:
    url = _with_nonce(_setting(ctx, "HTTP_PROXY_TEST_URL"))
    shared = ctx.setting("HTTP_PROXY_CACHE_AUTHORIZED") in ("1", "true", "yes", "on")
    with _session(ctx) as s:
        s.get(url, timeout=ctx.timeout)
        expect_equal(s.get(url, timeout=ctx.timeout).headers.get("X-Cache"), "HIT",
                     "X-Cache of the URL without credentials")
        r = s.get(url, headers={"Authorization": "Bearer netlab-check"}, timeout=ctx.timeout)
    expect_equal(r.status_code, 200, "status with Authorization")
    public = "public" in r.headers.get("Cache-Control", "") or "s-maxage" in r.headers.get(
        "Cache-Control", "")
    if shared and public:
        expect_equal(r.headers.get("X-Cache"), "HIT", "X-Cache (RFC 9111 §3.5 sharing is on)")
        return "public entry shared with a credentialed request (HTTP_PROXY_CACHE_AUTHORIZED)"
    expect_equal(r.headers.get("X-Cache"), "MISS", "X-Cache of the request with Authorization")
    try:
        echoed = json.loads(r.content).get("headers", {})
    except (ValueError, AttributeError):
        echoed = {}
    if isinstance(echoed, dict) and echoed:
        seen = {k.lower(): v for k, v in echoed.items()}
        expect_equal(seen.get("authorization"), "Bearer netlab-check",
                     "Authorization as the origin saw it")
        return "MISS: went to the origin, which saw the credentials"
    return "MISS: went to the origin"


@check(SERVICE, "proxy authentication (407)")
def proxy_auth(ctx: Context) -> str:
    url = _setting(ctx, "HTTP_PROXY_PLAIN_URL")
    user, _ = _creds(ctx)
    with _session(ctx, with_creds=False) as s:
        bare = s.get(url, timeout=ctx.timeout)
    if not user:
        expect(bare.status_code != 407, "407 although the runner was given no credentials",
               expected="no challenge (set HTTP_PROXY_AUTH_USER/PASS if auth is on)",
               got=bare.status_code)
        return "auth off: no challenge (set HTTP_PROXY_AUTH_USER/PASS to test 407)"
    expect_equal(bare.status_code, 407, "status without credentials")
    challenge = bare.headers.get("Proxy-Authenticate", "")
    expect(challenge.lower().startswith("basic"), "Proxy-Authenticate challenge",
           expected="Basic realm=...", got=challenge)
    with _session(ctx) as s:
        ok = s.get(url, timeout=ctx.timeout)
    expect_equal(ok.status_code, 200, "status with credentials")
    return f"407 with {challenge!r}, then 200 with credentials"


@check(SERVICE, "CONNECT to tls_server: verified TLS through the tunnel")
def connect_tls(ctx: Context) -> str:
    authority = _setting(ctx, "HTTP_PROXY_CONNECT_TARGET")
    name = authority.rsplit(":", 1)[0].strip("[]")
    ca = ctx.setting("TLS_CA_FILE", "/certs/ca.crt")
    sock, head = _connect(ctx, authority)
    with sock:
        status = head.split(b"\r\n", 1)[0].decode("latin-1")
        expect(status.split(" ")[1:2] == ["200"], "CONNECT refused", expected="200", got=status)
        tls_ctx = ssl.create_default_context(cafile=ca)
        with tls_ctx.wrap_socket(sock, server_hostname=name) as tls:
            tls.settimeout(ctx.timeout)
            greeting = tls.recv(4096).decode("utf-8", "replace").strip()
            return f"{tls.version()} {tls.cipher()[0]}, verified {name}; {greeting[:60]}"


@check(SERVICE, "blocked host gets 403")
def blocked_host(ctx: Context) -> str:
    url = ctx.setting("HTTP_PROXY_BLOCKED_URL", "http://blocked.example/")
    with _session(ctx) as s:
        r = s.get(url, timeout=ctx.timeout)
    expect_equal(r.status_code, 403, f"status of {url}")
    return f"{url} -> 403"


@check(SERVICE, "CONNECT to port 22 refused")
def connect_22(ctx: Context) -> str:
    """``localhost:22`` is the classic abuse: the SSH daemon of the proxy's own host. Port 25
    (relaying mail) is tried too. The proxy must refuse both before opening any connection."""
    for authority in ("localhost:22", "localhost:25"):
        sock, head = _connect(ctx, authority)
        with sock:
            status = head.split(b"\r\n", 1)[0].decode("latin-1")
        expect(status.split(" ")[1:2] == ["403"], f"CONNECT {authority}", expected="403",
               got=status or "no answer")
    return "CONNECT localhost:22 and :25 -> 403"
