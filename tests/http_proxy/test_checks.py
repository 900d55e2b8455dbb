"""The runner's http_proxy checks against a real proxy, origin and TLS server on loopback."""

from __future__ import annotations

import pytest

from client_runner.checks import http_proxy as checks
from client_runner.checks.base import CheckFailed, Context, Target

from .conftest import Origin, ProxyStarter, TlsOrigin

CHECKS = [checks.get_through, checks.miss_then_hit, checks.authorization_bypasses,
          checks.proxy_auth, checks.connect_tls, checks.blocked_host, checks.connect_22]


def context(proxy: int, origin: Origin, tls: TlsOrigin, **extra: str) -> Context:
    settings = {
        "HTTP_PROXY_PLAIN_URL": origin.url("/api/data"),
        "HTTP_PROXY_TEST_URL": origin.url("/cache/60"),
        "HTTP_PROXY_CONNECT_TARGET": f"localhost:{tls.port}",
        "TLS_CA_FILE": tls.ca_file,
        **extra,
    }
    return Context(targets={"http_proxy": Target("127.0.0.1", proxy)}, timeout=5.0,
                   settings=settings)


def lab_proxy(start_proxy: ProxyStarter, tls: TlsOrigin, *flags: str) -> int:
    return start_proxy("--connect-ports", f"443,8443,{tls.port}",
                       "--block-hosts", "blocked.example", *flags)


def test_every_check_passes_against_a_correct_proxy(
    start_proxy: ProxyStarter, origin: Origin, tls_origin: TlsOrigin
) -> None:
    proxy = lab_proxy(start_proxy, tls_origin)
    checks.probe_proxy(Target("127.0.0.1", proxy), 2.0)
    ctx = context(proxy, origin, tls_origin)
    details = [fn(ctx) for fn in CHECKS]
    assert "TLSv1." in details[4] and "verified localhost" in details[4]
    assert details[3].startswith("auth off")


def test_checks_with_auth_on(
    start_proxy: ProxyStarter, origin: Origin, tls_origin: TlsOrigin
) -> None:
    proxy = lab_proxy(start_proxy, tls_origin, "--auth-user", "lab", "--auth-pass", "p@ss:w")
    ctx = context(proxy, origin, tls_origin,
                  HTTP_PROXY_AUTH_USER="lab", HTTP_PROXY_AUTH_PASS="p@ss:w")
    for fn in CHECKS:
        fn(ctx)
    assert "407" in checks.proxy_auth(ctx)
    no_creds = context(proxy, origin, tls_origin)
    with pytest.raises(CheckFailed):  # the runner not told about auth: the 407 shows up
        checks.proxy_auth(no_creds)


def test_checks_fail_against_a_misconfigured_proxy(
    start_proxy: ProxyStarter, origin: Origin, tls_origin: TlsOrigin
) -> None:
    """No blocklist, CONNECT open to every port, caching off: those checks must fail."""
    proxy = start_proxy("--connect-ports", "1-65535", "--cache-bytes", "0",
                        "--cache-authorized", "1")
    ctx = context(proxy, origin, tls_origin, HTTP_PROXY_BLOCKED_URL=origin.url("/fine"))
    for fn in (checks.blocked_host, checks.connect_22, checks.miss_then_hit):
        with pytest.raises((CheckFailed, OSError)):
            fn(ctx)


def test_rfc_sharing_mode_is_checked_when_the_runner_is_told(
    start_proxy: ProxyStarter, origin: Origin, tls_origin: TlsOrigin
) -> None:
    proxy = lab_proxy(start_proxy, tls_origin, "--cache-authorized", "1")
    told = context(proxy, origin, tls_origin, HTTP_PROXY_CACHE_AUTHORIZED="1")
    assert "shared" in checks.authorization_bypasses(told)
    with pytest.raises(CheckFailed, match="X-Cache"):
        checks.authorization_bypasses(context(proxy, origin, tls_origin))


def test_missing_dependency_fails_instead_of_passing() -> None:
    ctx = Context(targets={"http_proxy": Target("127.0.0.1", 9)}, settings={})
    for fn in (checks.get_through, checks.miss_then_hit, checks.connect_tls):
        with pytest.raises(CheckFailed, match=r"needs \w+ in this run"):
            fn(ctx)
