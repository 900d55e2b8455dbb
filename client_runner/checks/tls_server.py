"""Checks of tls_server (docs/protocols/tls_server.md): verified handshakes with TLS 1.3 and with
TLS 1.2 forced, a wrong hostname failing verification, TLS 1.1 and plaintext refused, ``whoami``
telling the truth, and the mutual-TLS port. Standard library ``ssl`` only.

Settings: ``TLS_CA_FILE`` (the lab CA, default /certs/ca.crt from the shared volume),
``TLS_CLIENT_CERT`` / ``TLS_CLIENT_KEY`` (the demo client certificate), ``TLS_SERVER_MTLS_ADDR``
(default: the tls_server host, port 8444) and ``TLS_SERVER_NAME`` (the name to verify, default
the target host: ``tls_server`` in compose, ``localhost`` on the host; both are in the SAN).
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import warnings

from client_runner.checks.base import CheckFailed, Context, Target, check, expect, probe

SERVICE = "tls_server"
MOZILLA_TLS12 = frozenset({
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
})
DEMO_CLIENT_CN = "CN=netlab-demo-client"


def _verified_context(ca_file: str, version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """What every client should do: trust the lab CA, check chain and hostname."""
    ctx = ssl.create_default_context(cafile=ca_file)
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


class _Session:
    """A TLS connection speaking the line protocol; the greeting is read on open."""

    def __init__(self, target: Target, ctx: ssl.SSLContext, name: str, timeout: float) -> None:
        raw = socket.create_connection((target.host, target.port), timeout=timeout)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=name)
        except BaseException:
            raw.close()
            raise
        self.reader = self.sock.makefile("rb")
        try:
            self.greeting = self.line()
        except BaseException:
            self.reader.close()
            self.sock.close()
            raise

    def line(self) -> str:
        data = self.reader.readline(8192)
        if not data:
            raise CheckFailed("the server closed the connection", expected="a line", got="EOF")
        return data.decode("utf-8", "replace").rstrip("\r\n")

    def ask(self, line: str) -> str:
        self.sock.sendall(line.encode() + b"\n")
        return self.line()

    def whoami(self) -> dict[str, object]:
        reply = self.ask("whoami")
        expect(reply.startswith("= whoami {"), "whoami reply", expected="= whoami {...}", got=reply)
        return json.loads(reply.removeprefix("= whoami "))

    def close(self) -> None:
        try:
            self.sock.sendall(b"quit\n")
            self.line()
        except (OSError, CheckFailed):
            pass
        self.reader.close()
        self.sock.close()

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ca(ctx: Context) -> str:
    return ctx.setting("TLS_CA_FILE", "/certs/ca.crt")


def _name(ctx: Context) -> str:
    return ctx.setting("TLS_SERVER_NAME") or ctx.target(SERVICE).host


def _mtls_target(ctx: Context) -> Target:
    text = ctx.setting("TLS_SERVER_MTLS_ADDR")
    if not text:
        return Target(ctx.target(SERVICE).host, 8444)
    host, _, port = text.rpartition(":")
    return Target(host.strip("[]") or ctx.target(SERVICE).host, int(port))


@probe(SERVICE, 8443)
def ready(target: Target, timeout: float) -> None:
    """Ready = a verified handshake and the greeting (the CA comes from the shared volume, which
    the server fills at start, so a missing file just means "not yet")."""
    ca = os.environ.get("TLS_CA_FILE", "/certs/ca.crt")
    name = os.environ.get("TLS_SERVER_NAME") or target.host
    with _Session(target, _verified_context(ca), name, timeout) as s:
        expect(s.greeting.startswith("* tls_server"), "greeting", expected="* tls_server ...",
               got=s.greeting)


def _handshake(ctx: Context, version: ssl.TLSVersion) -> str:
    with _Session(ctx.target(SERVICE), _verified_context(_ca(ctx), version), _name(ctx),
                  ctx.timeout) as s:
        got = s.sock.version()
        cipher = s.sock.cipher()
        echo = s.ask("echo verified")
    expect(got == version.name.replace("_", "."), "negotiated version", expected=version.name,
           got=got)
    expect(echo == "= echo verified", "echo inside TLS", expected="= echo verified", got=echo)
    return f"{got} {cipher[0] if cipher else '?'}"


@check(SERVICE, "TLS 1.3 handshake, chain and hostname verified")
def tls13(ctx: Context) -> str:
    return _handshake(ctx, ssl.TLSVersion.TLSv1_3)


@check(SERVICE, "TLS 1.2 forced: verified, Mozilla intermediate cipher")
def tls12(ctx: Context) -> str:
    detail = _handshake(ctx, ssl.TLSVersion.TLSv1_2)
    cipher = detail.split()[-1]
    expect(cipher in MOZILLA_TLS12, "TLS 1.2 cipher", expected="a Mozilla intermediate cipher",
           got=cipher)
    return detail


@check(SERVICE, "a name not in the certificate fails verification")
def wrong_name(ctx: Context) -> str:
    bad = "not-in-the-san.invalid"
    try:
        with _Session(ctx.target(SERVICE), _verified_context(_ca(ctx)), bad, ctx.timeout):
            pass
    except ssl.SSLCertVerificationError as exc:
        return f"rejected: {exc.verify_message}"
    raise CheckFailed("the certificate was accepted for a foreign name", expected="rejected",
                      got=f"verified as {bad}")


@check(SERVICE, "TLS 1.1 refused")
def tls11(ctx: Context) -> str:
    # Our own OpenSSL must be allowed to offer TLS 1.1 (SECLEVEL 0) to see the server refuse it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.load_verify_locations(_ca(ctx))
        client.set_ciphers("DEFAULT:@SECLEVEL=0")
        client.minimum_version = client.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        with _Session(ctx.target(SERVICE), client, _name(ctx), ctx.timeout) as s:
            got = s.sock.version()
    except ssl.SSLError as exc:
        expect(exc.reason in ("TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"),
               "the server's refusal", expected="protocol_version alert", got=exc.reason)
        return f"refused: {exc.reason}"
    raise CheckFailed("TLS 1.1 was accepted", expected="refused", got=got)


@check(SERVICE, "a plaintext client is refused and the server stays healthy")
def plaintext(ctx: Context) -> str:
    target = ctx.target(SERVICE)
    with socket.create_connection((target.host, target.port), timeout=ctx.timeout) as raw:
        raw.sendall(b"whoami\r\n\r\n")
        data = b""
        try:
            while chunk := raw.recv(4096):
                data += chunk
        except ConnectionResetError:
            pass
    # Closed with at most a plaintext hint ("! this port speaks TLS ..."), never served.
    expect(not data.startswith((b"*", b"=")) and b"whoami" not in data, "a plaintext reply",
           expected="connection closed, no service", got=data[:60])
    detail = _handshake(ctx, ssl.TLSVersion.TLSv1_3)
    return f"closed after {len(data)} bytes; then {detail}"


@check(SERVICE, "whoami reports the negotiated version and cipher")
def whoami(ctx: Context) -> str:
    with _Session(ctx.target(SERVICE), _verified_context(_ca(ctx)), _name(ctx),
                  ctx.timeout) as s:
        info = s.whoami()
        version, cipher = s.sock.version(), (s.sock.cipher() or ("?",))[0]
    expect(info.get("version") == version, "whoami version", expected=version,
           got=info.get("version"))
    expect(info.get("cipher") == cipher, "whoami cipher", expected=cipher, got=info.get("cipher"))
    expect(info.get("sni") == _name(ctx), "whoami sni", expected=_name(ctx), got=info.get("sni"))
    return f"{version} {cipher}"


@check(SERVICE, "mutual TLS: no client certificate is refused")
def mtls_without_cert(ctx: Context) -> str:
    try:
        with _Session(_mtls_target(ctx), _verified_context(_ca(ctx)), _name(ctx),
                      ctx.timeout) as s:
            got = s.greeting
    except ssl.SSLError as exc:  # TLS 1.3: the refusal arrives after the client's handshake
        return f"refused: {exc.reason}"
    except CheckFailed:
        return "refused: connection closed"
    raise CheckFailed("served without a client certificate", expected="refused", got=got)


@check(SERVICE, "mutual TLS: the demo client certificate is accepted")
def mtls_with_cert(ctx: Context) -> str:
    client = _verified_context(_ca(ctx))
    client.load_cert_chain(ctx.setting("TLS_CLIENT_CERT", "/certs/client.crt"),
                           ctx.setting("TLS_CLIENT_KEY", "/certs/client.key"))
    with _Session(_mtls_target(ctx), client, _name(ctx), ctx.timeout) as s:
        info = s.whoami()
    subject = str(info.get("client"))
    expect(subject.startswith(DEMO_CLIENT_CN), "client subject seen by the server",
           expected=DEMO_CLIENT_CN + ",...", got=subject)
    return f"client {subject}"
