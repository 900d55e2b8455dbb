"""tls_server over real sockets: a server process on 127.0.0.1 with certificates from
make_certs.sh, and standard-library TLS clients that verify it."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tls_server.context import TLS12_CIPHERS

pytestmark = pytest.mark.timeout(60)


def verified(ca: Path, version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


@contextmanager
def tls(port: int, ctx: ssl.SSLContext, name: str = "localhost") -> Iterator[ssl.SSLSocket]:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=name) as sock,
    ):
        yield sock


def read_line(sock: ssl.SSLSocket | socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data.decode()


def ask(sock: ssl.SSLSocket, line: bytes) -> str:
    sock.sendall(line + b"\n")
    return read_line(sock)


def whoami(sock: ssl.SSLSocket) -> dict[str, object]:
    reply = ask(sock, b"whoami")
    assert reply.startswith("= whoami "), reply
    return json.loads(reply.removeprefix("= whoami "))


def healthy(port: int, ca: Path) -> bool:
    with tls(port, verified(ca)) as sock:
        read_line(sock)
        return ask(sock, b"echo alive") == "= echo alive\n"


def wait_for_log(server: object, needle: str) -> str:
    """The log line comes from another process; wait for it a bounded while (not a timing test)."""
    for _ in range(100):
        text = server.log_text()  # type: ignore[attr-defined]
        if needle in text:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not in log:\n{server.log_text()}")  # type: ignore[attr-defined]


def test_tls13_verified_and_whoami(server, certs: Path) -> None:
    with tls(server.port, verified(certs / "ca.crt")) as sock:
        assert sock.version() == "TLSv1.3"
        assert read_line(sock).startswith("* tls_server TLSv1.3 ")
        info = whoami(sock)
        assert info["version"] == "TLSv1.3" and info["cipher"] == sock.cipher()[0]
        assert info["sni"] == "localhost" and info["client"] is None
        assert info["peer"] == f"127.0.0.1:{sock.getsockname()[1]}"
        assert ask(sock, b"quit") == "= bye\n"
        assert sock.recv(10) == b""


def test_tls12_forced_verified_with_a_mozilla_cipher(server, certs: Path) -> None:
    with tls(server.port, verified(certs / "ca.crt", ssl.TLSVersion.TLSv1_2)) as sock:
        read_line(sock)
        info = whoami(sock)
    assert info["version"] == "TLSv1.2" and info["cipher"] in TLS12_CIPHERS


def test_wrong_hostname_fails_verification(server, certs: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"), tls(
        server.port, verified(certs / "ca.crt"), name="www.example.org"
    ):
        pass


def test_foreign_ca_does_not_verify(server, foreign_certs: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError), tls(
        server.port, verified(foreign_certs / "ca.crt")
    ):
        pass


def test_tls11_refused_with_a_log_line(server, certs: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = verified(certs / "ca.crt")
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError) as err, tls(server.port, old):
        pass
    assert err.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"
    wait_for_log(server, "older than 1.2")


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "plaintext HTTP"),
     (b"whoami\n", "not TLS (plaintext)"),
     (bytes(range(256)) * 4, "not TLS (garbage)"),
     (b"\x16\x03\x01\x00\x05hello" * 50, "UNEXPECTED_MESSAGE")],
)
def test_plaintext_or_garbage_is_closed_and_server_stays_healthy(
    server, certs: Path, data: bytes, reason: str
) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(data)
        got = b""
        try:
            while chunk := raw.recv(4096):
                got += chunk
        except ConnectionResetError:
            pass
    assert b"=" not in got and b"tls_server" not in got
    if data[0] != 0x16:
        assert got.startswith(b"! this port speaks TLS")
    assert wait_for_log(server, "handshake failed").count(reason) == 1
    assert healthy(server.port, certs / "ca.crt")


def test_silent_client_is_dropped_after_the_handshake_timeout(start_server, certs: Path) -> None:
    server = start_server("--handshake-timeout", "0.3")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        assert raw.recv(10) == b""  # closed by the server, not by our 10 s timeout
    wait_for_log(server, "handshake timeout")
    assert healthy(server.port, certs / "ca.crt")


def test_bad_lines_inside_tls_keep_the_connection(start_server, certs: Path) -> None:
    server = start_server("--max-line", "64")
    with tls(server.port, verified(certs / "ca.crt")) as sock:
        read_line(sock)
        assert ask(sock, b"echo " + b"x" * 200).startswith("! line too long (max 64")
        assert ask(sock, b"echo \xff") == "! invalid UTF-8; line discarded\n"
        assert ask(sock, b"nope") .startswith("! unknown command: nope")
        assert ask(sock, b"time").startswith("= time 20")


def test_mtls_refuses_no_certificate(server, certs: Path) -> None:
    # TLS 1.3: the client's handshake ends first; the server's alert comes on the first read.
    with (
        tls(server.mtls_port, verified(certs / "ca.crt")) as sock,
        pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"),
    ):
        read_line(sock)
    wait_for_log(server, "client sent no certificate")


def test_mtls_refuses_a_foreign_client_certificate(
    server, certs: Path, foreign_certs: Path
) -> None:
    ctx = verified(certs / "ca.crt", ssl.TLSVersion.TLSv1_2)  # TLS 1.2: refused in the handshake
    ctx.load_cert_chain(foreign_certs / "client.crt", foreign_certs / "client.key")
    with pytest.raises(ssl.SSLError, match="UNKNOWN_CA"), tls(server.mtls_port, ctx):
        pass
    wait_for_log(server, "client certificate not trusted")


def test_mtls_accepts_the_demo_client_and_shows_its_subject(server, certs: Path) -> None:
    ctx = verified(certs / "ca.crt")
    ctx.load_cert_chain(certs / "client.crt", certs / "client.key")
    with tls(server.mtls_port, ctx) as sock:
        read_line(sock)
        info = whoami(sock)
    assert info["client"] == "CN=netlab-demo-client,O=netlab"
    wait_for_log(server, "client=CN=netlab-demo-client,O=netlab")


def test_max_connections(start_server, certs: Path) -> None:
    server = start_server("--max-connections", "1")
    first = None
    for _ in range(100):  # the fixture's readiness probe may still hold the one slot
        try:
            raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            first = verified(certs / "ca.crt").wrap_socket(raw, server_hostname="localhost")
            break
        except (ConnectionResetError, ssl.SSLError):
            raw.close()
            time.sleep(0.05)
    assert first is not None
    try:
        read_line(first)
        with (
            socket.create_connection(("127.0.0.1", server.port), timeout=5) as second,
            suppress(ConnectionResetError),
        ):
            assert second.recv(10) == b""
        assert ask(first, b"echo still here") == "= echo still here\n"
    finally:
        first.close()
    wait_for_log(server, "connections already")


def test_share_dir_gets_fresh_copies(start_server, certs: Path, tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "ca.crt").write_text("stale CA from an older build")
    start_server("--share-dir", str(share))
    assert (share / "ca.crt").read_bytes() == (certs / "ca.crt").read_bytes()
    assert (share / "client.crt").read_bytes() == (certs / "client.crt").read_bytes()
    assert (share / "client.key").stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in share.iterdir()) == ["ca.crt", "client.crt", "client.key"]


def test_sigterm_says_goodbye_and_exits_cleanly(
    start_server: Callable[..., object], certs: Path
) -> None:
    server = start_server()
    with tls(server.port, verified(certs / "ca.crt")) as sock:  # type: ignore[attr-defined]
        read_line(sock)
        server.proc.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
        assert read_line(sock) == "* server shutting down\n"
        assert server.proc.wait(timeout=10) == 0  # type: ignore[attr-defined]
    assert "stopped" in server.log_text()  # type: ignore[attr-defined]


def test_missing_certificate_is_a_clear_startup_error(run_service, tmp_path: Path) -> None:
    proc = run_service("tls_server", "--port", "0", "--mtls-port", "0",
                       "--cert-file", str(tmp_path / "none.crt"))
    assert proc.wait(timeout=20) == 2
    log = next(tmp_path.glob("tls_server-*.log")).read_text()
    assert "cannot load certificate" in log and "make_certs.sh" in log


def test_idle_client_gets_a_notice_and_is_closed(start_server, certs: Path) -> None:
    server = start_server("--idle-timeout", "0.3")
    with tls(server.port, verified(certs / "ca.crt")) as sock:
        read_line(sock)
        assert read_line(sock) == "! idle timeout; closing\n"
        assert sock.recv(10) == b""


def test_a_client_that_never_reads_does_not_block_others(server, certs: Path) -> None:
    """It floods echo lines and reads nothing: the server stops reading it, serves others."""
    with tls(server.port, verified(certs / "ca.crt")) as hog:
        hog.settimeout(0.5)
        sent = 0
        with suppress(TimeoutError):
            while sent < 64 * 1024 * 1024:  # stops when both sides' buffers are full
                hog.sendall(b"echo " + b"x" * 1000 + b"\n")
                sent += 1006
        assert sent < 64 * 1024 * 1024, "the server kept reading without anyone reading replies"
        assert healthy(server.port, certs / "ca.crt")


def test_sni_with_control_characters_cannot_forge_log_lines(server, certs: Path) -> None:
    """The SNI is the client's text: a line break in it must not start a fake log line."""
    ctx = verified(certs / "ca.crt")
    ctx.check_hostname = False  # the name is the attack; the chain is still verified
    forged = "evil\nhandshake failed 6.6.6.6:1 on tls: forged"
    with tls(server.port, ctx, name=forged) as sock:
        read_line(sock)
        assert whoami(sock)["sni"] == forged  # JSON in the reply keeps it exact
    text = wait_for_log(server, " sni=evil")
    assert not any(line.startswith("handshake failed 6.6.6.6") for line in text.splitlines())
