"""The TLS context builder, checked without sockets: options, versions, ciphers, and real
handshakes between two in-memory TLS endpoints (ssl.MemoryBIO)."""

from __future__ import annotations

import ssl
import warnings
from pathlib import Path

import pytest

from tls_server.context import (
    REQUIRED_OPTIONS,
    TLS12_CIPHERS,
    CertificateFilesError,
    explain_handshake_error,
    not_tls,
    server_context,
    sni_of,
    subject_of,
    tls12_cipher_names,
)

MOZILLA_INTERMEDIATE_TLS12 = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
}


def handshake(
    server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, name: str | None = "localhost"
) -> tuple[ssl.SSLObject, ssl.SSLObject]:
    """Run a TLS handshake between two in-memory endpoints; raises what either side raises."""
    s_in, s_out, c_in, c_out = (ssl.MemoryBIO() for _ in range(4))
    srv = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    cli = client_ctx.wrap_bio(c_in, c_out, server_hostname=name)
    done = {"srv": False, "cli": False}
    for _ in range(20):
        for side, obj in (("cli", cli), ("srv", srv)):
            if not done[side]:
                try:
                    obj.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            # TLS 1.3: the server learns of a client-side failure (or a missing client
            # certificate) only from the client's next flight; exchange data once.
            cli.write(b"x")
            s_in.write(c_out.read())
            srv.read(1)
            return srv, cli
    raise AssertionError("handshake did not finish")


def client(ca: Path, version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def test_versions_and_options(certs: Path) -> None:
    ctx = server_context(certs / "server.crt", certs / "server.key")
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.maximum_version == ssl.TLSVersion.TLSv1_3
    assert ctx.options & REQUIRED_OPTIONS == REQUIRED_OPTIONS
    assert ctx.options & ssl.OP_NO_COMPRESSION and ctx.options & ssl.OP_NO_RENEGOTIATION
    assert not ctx.options & ssl.OP_CIPHER_SERVER_PREFERENCE
    assert ctx.verify_mode == ssl.CERT_NONE


def test_tls12_ciphers_are_exactly_mozilla_intermediate_ecdhe(certs: Path) -> None:
    ctx = server_context(certs / "server.crt", certs / "server.key")
    names = tls12_cipher_names(ctx)
    assert set(names) == set(TLS12_CIPHERS)
    assert set(names) <= MOZILLA_INTERMEDIATE_TLS12
    assert not [n for n in names if "CBC" in n or n[-3:] == "SHA" or not n.startswith("ECDHE")]
    tls13 = {c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.3"}
    assert tls13 == {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                     "TLS_AES_128_GCM_SHA256"}


def test_mutual_tls_context_requires_a_client_certificate(certs: Path) -> None:
    ctx = server_context(
        certs / "server.crt", certs / "server.key", client_ca_file=certs / "ca.crt"
    )
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert next(c["subject"] for c in ctx.get_ca_certs())[0][0][0] == "organizationName"


def test_missing_files_give_a_clear_error(tmp_path: Path, certs: Path) -> None:
    with pytest.raises(CertificateFilesError, match=r"server\.crt.*make_certs\.sh"):
        server_context(tmp_path / "server.crt", tmp_path / "server.key")
    with pytest.raises(CertificateFilesError, match="client CA"):
        server_context(certs / "server.crt", certs / "server.key",
                       client_ca_file=tmp_path / "nope.crt")


def test_tls13_handshake_records_sni(certs: Path) -> None:
    srv, cli = handshake(server_context(certs / "server.crt", certs / "server.key"),
                         client(certs / "ca.crt"))
    assert cli.version() == srv.version() == "TLSv1.3"
    assert sni_of(srv) == "localhost"
    assert srv.getpeercert() is None


def test_tls12_forced_uses_an_ecdsa_mozilla_cipher(certs: Path) -> None:
    _srv, cli = handshake(server_context(certs / "server.crt", certs / "server.key"),
                         client(certs / "ca.crt", ssl.TLSVersion.TLSv1_2))
    assert cli.version() == "TLSv1.2"
    assert cli.cipher()[0] in TLS12_CIPHERS and "ECDSA" in cli.cipher()[0]


def test_tls12_client_with_only_cbc_ciphers_is_refused(certs: Path) -> None:
    weak = client(certs / "ca.crt", ssl.TLSVersion.TLSv1_2)
    weak.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384")
    with pytest.raises(ssl.SSLError) as err:
        handshake(server_context(certs / "server.crt", certs / "server.key"), weak)
    assert err.value.reason in ("NO_SHARED_CIPHER", "SSLV3_ALERT_HANDSHAKE_FAILURE")


def test_tls11_is_refused(certs: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = client(certs / "ca.crt")
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError) as err:
        handshake(server_context(certs / "server.crt", certs / "server.key"), old)
    assert err.value.reason in ("UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION")


def test_wrong_hostname_fails_verification(certs: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        handshake(server_context(certs / "server.crt", certs / "server.key"),
                  client(certs / "ca.crt"), name="example.org")


@pytest.mark.parametrize("name", ["localhost", "tls_server", "127.0.0.1"])
def test_every_san_name_verifies(certs: Path, name: str) -> None:
    _, cli = handshake(server_context(certs / "server.crt", certs / "server.key"),
                       client(certs / "ca.crt"), name=name)
    assert cli.getpeercert()["subject"]


def test_mutual_tls_shows_the_client_subject(certs: Path) -> None:
    mtls = server_context(certs / "server.crt", certs / "server.key",
                          client_ca_file=certs / "ca.crt")
    cli_ctx = client(certs / "ca.crt")
    cli_ctx.load_cert_chain(certs / "client.crt", certs / "client.key")
    srv, _ = handshake(mtls, cli_ctx)
    assert subject_of(srv.getpeercert()) == "CN=netlab-demo-client,O=netlab"


def test_mutual_tls_refuses_no_certificate_and_a_foreign_one(
    certs: Path, foreign_certs: Path
) -> None:
    mtls = server_context(certs / "server.crt", certs / "server.key",
                          client_ca_file=certs / "ca.crt")
    with pytest.raises(ssl.SSLError) as err:
        handshake(mtls, client(certs / "ca.crt"))
    assert "CERTIFICATE" in str(err.value.reason)
    foreign = client(certs / "ca.crt")
    foreign.load_cert_chain(foreign_certs / "client.crt", foreign_certs / "client.key")
    with pytest.raises(ssl.SSLError) as err:
        handshake(mtls, foreign)
    assert err.value.reason == "CERTIFICATE_VERIFY_FAILED"


def test_subject_escaping_and_absence() -> None:
    cert = {"subject": ((("organizationName", "a,b"),), (("commonName", "x+y"),))}
    assert subject_of(cert) == "CN=x\\+y,O=a\\,b"
    assert subject_of(None) is None and subject_of({}) is None


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (ssl.SSLError(1, "x"), "SSLError"),
        (TimeoutError(), "handshake timeout"),
        (ConnectionAbortedError("SSL handshake is taking longer than 1 seconds"), "timeout"),
        (ConnectionResetError(), "went away"),
    ],
)
def test_explain_handshake_error(exc: BaseException, words: str) -> None:
    assert words in explain_handshake_error(exc)


def test_explain_known_reasons() -> None:
    err = ssl.SSLError(1, "http request")
    err.reason = "HTTP_REQUEST"
    assert explain_handshake_error(err) == "plaintext HTTP request on a TLS port (HTTP_REQUEST)"


@pytest.mark.parametrize(
    ("first", "why"),
    [
        (b"\x16\x03\x01\x02\x00", None),
        (b"", None),
        (b"GET / HTTP/1.1\r\n", "plaintext HTTP request on a TLS port"),
        (b"whoami\n", "not TLS (plaintext)"),
        (b"\x00\xff\x10", "not TLS (garbage)"),
    ],
)
def test_not_tls(first: bytes, why: str | None) -> None:
    assert not_tls(first) == why
