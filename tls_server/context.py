"""The TLS configuration, built in one place so that tests can inspect it without a socket.

Mozilla's "intermediate" profile (v5.7): TLS 1.2 and 1.3 only; for TLS 1.2 only ECDHE key
exchange with AES-GCM or ChaCha20-Poly1305 (the optional DHE suites are left out: they would need
a DH parameter file and add nothing for modern clients); no compression (CRIME) and no
renegotiation (a DoS lever and the source of past attacks). The key-exchange groups are limited
to X25519, P-256 and P-384 by ``openssl.cnf`` (see there), since Python cannot set them itself.
"""

from __future__ import annotations

import ssl
from pathlib import Path

# Mozilla intermediate, TLS 1.2 part, in Mozilla's order (OpenSSL names).
TLS12_CIPHERS: tuple[str, ...] = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)
# TLS 1.3 suites are all AEAD and all allowed by Mozilla; OpenSSL's default set is kept.
TLS13_CIPHERS: tuple[str, ...] = (
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
)
GROUPS = "X25519:P-256:P-384"  # what openssl.cnf sets; documented here for the reader and tests
REQUIRED_OPTIONS = ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
SNI_ATTRIBUTE = "netlab_sni"


class CertificateFilesError(Exception):
    """A certificate or key file is missing or unusable; the message says which and what to do."""


def _remember_sni(
    sslobj: ssl.SSLObject | ssl.SSLSocket, name: str | None, _ctx: ssl.SSLContext
) -> None:
    """Keep the name the client asked for (SNI): the server side cannot read it back otherwise."""
    setattr(sslobj, SNI_ATTRIBUTE, name)


def server_context(
    cert_file: str | Path, key_file: str | Path, *, client_ca_file: str | Path | None = None
) -> ssl.SSLContext:
    """A server context for the lab; with ``client_ca_file`` it requires a client certificate
    signed by that CA (mutual TLS)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_ciphers(":".join(TLS12_CIPHERS))
    ctx.options |= REQUIRED_OPTIONS
    # Mozilla intermediate: every offered cipher is strong, so let the client pick (ChaCha20 on
    # phones without AES hardware).
    ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.sni_callback = _remember_sni
    try:
        ctx.load_cert_chain(str(cert_file), str(key_file))
    except (OSError, ssl.SSLError) as exc:
        raise CertificateFilesError(
            f"cannot load certificate {cert_file} with key {key_file}: {exc}"
            " (make a set with: tls_server/make_certs.sh DIR)"
        ) from exc
    if client_ca_file is not None:
        try:
            ctx.load_verify_locations(cafile=str(client_ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise CertificateFilesError(f"cannot load client CA {client_ca_file}: {exc}") from exc
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def tls12_cipher_names(ctx: ssl.SSLContext) -> list[str]:
    """The TLS 1.2 suites a context would accept (its TLS 1.3 suites left out)."""
    return [c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"]


def sni_of(sslobj: ssl.SSLObject | ssl.SSLSocket | None) -> str | None:
    return getattr(sslobj, SNI_ATTRIBUTE, None)


def subject_of(peercert: dict | None) -> str | None:
    """A certificate subject as ``CN=...,O=...`` (most specific first, as RFC 4514 writes it)."""
    if not peercert:
        return None
    parts = []
    for rdn in reversed(peercert.get("subject", ())):
        for key, value in rdn:
            short = _SHORT_NAMES.get(key, key)
            escaped = value.replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+")
            parts.append(f"{short}={escaped}")
    return ",".join(parts) or None


_SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
}

# What an OpenSSL error reason means when a handshake fails, in words for the log line.
_REASONS = {
    "HTTP_REQUEST": "plaintext HTTP request on a TLS port",
    "HTTPS_PROXY_REQUEST": "plaintext proxy request on a TLS port",
    "WRONG_VERSION_NUMBER": "not TLS (plaintext or garbage)",
    "UNEXPECTED_RECORD": "not TLS (unexpected record)",
    "RECORD_LAYER_FAILURE": "not TLS (record layer failure)",
    "UNSUPPORTED_PROTOCOL": "client offered only TLS versions older than 1.2",
    "NO_SHARED_CIPHER": "no cipher suite in common",
    "NO_SUITABLE_KEY_SHARE": "no key-exchange group in common",
    "PEER_DID_NOT_RETURN_A_CERTIFICATE": "client sent no certificate (mutual TLS required)",
    "CERTIFICATE_VERIFY_FAILED": "client certificate not trusted",
    "TLSV1_ALERT_UNKNOWN_CA": "client does not trust our CA",
    "SSLV3_ALERT_BAD_CERTIFICATE": "client rejected our certificate",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "client rejected our certificate",
}


_HTTP_METHODS = (
    b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"CONNECT ", b"PATCH ",
)


def not_tls(first: bytes) -> str | None:
    """Why the first bytes of a connection cannot be a TLS ClientHello, or None if they can be.
    A TLS handshake record starts with 0x16, which no text protocol sends first."""
    if not first or first[0] == 0x16:
        return None
    if first.upper().startswith(_HTTP_METHODS):
        return "plaintext HTTP request on a TLS port"
    if all(32 <= b < 127 or b in b"\r\n\t" for b in first[:64]):
        return "not TLS (plaintext)"
    return "not TLS (garbage)"


def explain_handshake_error(exc: BaseException) -> str:
    """One short phrase for the log: what went wrong, for a person reading it."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason in _REASONS:
        return f"{_REASONS[reason]} ({reason})"
    if isinstance(exc, TimeoutError) or "longer than" in str(exc):
        return "handshake timeout"
    if isinstance(exc, ConnectionError | EOFError):
        return f"client went away during the handshake ({type(exc).__name__})"
    if reason:
        return str(reason)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
