"""client_runner's tls_server checks against a real server: all pass with the right CA, and
they fail when the client trusts another CA or the server is not there."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from client_runner.checks import tls_server as checks
from client_runner.checks.base import Context, Target

pytestmark = pytest.mark.timeout(60)


def context(server, ca: Path, **settings: str) -> Context:
    return Context(
        targets={"tls_server": Target("127.0.0.1", server.port)},
        timeout=5.0,
        settings={
            "TLS_CA_FILE": str(ca),
            "TLS_CLIENT_CERT": str(server.certs / "client.crt"),
            "TLS_CLIENT_KEY": str(server.certs / "client.key"),
            "TLS_SERVER_MTLS_ADDR": f"127.0.0.1:{server.mtls_port}",
            "TLS_SERVER_NAME": "localhost",
            **settings,
        },
    )


CHECKS = [
    checks.tls13, checks.tls12, checks.wrong_name, checks.tls11, checks.plaintext,
    checks.whoami, checks.mtls_without_cert, checks.mtls_with_cert,
]


@pytest.mark.parametrize("fn", CHECKS, ids=lambda f: f.__name__)
def test_check_passes_against_the_real_server(server, certs: Path, fn) -> None:
    detail = fn(context(server, certs / "ca.crt"))
    assert detail


def test_compose_name_tls_server_verifies(server, certs: Path) -> None:
    """In compose the runner verifies the name ``tls_server`` (underscore and all)."""
    assert checks.whoami(context(server, certs / "ca.crt", TLS_SERVER_NAME="tls_server"))


def test_probe(server, certs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLS_CA_FILE", str(certs / "ca.crt"))
    monkeypatch.setenv("TLS_SERVER_NAME", "localhost")
    checks.ready(Target("127.0.0.1", server.port), 5.0)
    monkeypatch.setenv("TLS_CA_FILE", str(certs / "missing.crt"))
    with pytest.raises(OSError):
        checks.ready(Target("127.0.0.1", server.port), 5.0)


@pytest.mark.parametrize("fn", [checks.tls13, checks.tls12, checks.whoami, checks.mtls_with_cert],
                         ids=lambda f: f.__name__)
def test_checks_fail_when_the_ca_is_another_one(server, foreign_certs: Path, fn) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        fn(context(server, foreign_certs / "ca.crt"))


def test_mtls_check_fails_with_a_foreign_client_certificate(
    server, certs: Path, foreign_certs: Path
) -> None:
    ctx = context(server, certs / "ca.crt", TLS_CLIENT_CERT=str(foreign_certs / "client.crt"),
                  TLS_CLIENT_KEY=str(foreign_certs / "client.key"))
    with pytest.raises(ssl.SSLError):
        checks.mtls_with_cert(ctx)


def test_mtls_refusal_check_fails_when_the_port_serves_anyone(server, certs: Path) -> None:
    """Point the mTLS check at the plain port: it must notice that no certificate was needed."""
    ctx = context(server, certs / "ca.crt", TLS_SERVER_MTLS_ADDR=f"127.0.0.1:{server.port}")
    with pytest.raises(checks.CheckFailed, match="without a client certificate"):
        checks.mtls_without_cert(ctx)


def test_checks_fail_when_nothing_listens(certs: Path) -> None:
    from tests.conftest import free_port

    ctx = Context(targets={"tls_server": Target("127.0.0.1", free_port())},
                  settings={"TLS_CA_FILE": str(certs / "ca.crt")})
    with pytest.raises(ConnectionRefusedError):
        checks.tls13(ctx)
