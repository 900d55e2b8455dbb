"""The transport: TCP from asyncio, TLS from an ``ssl.SSLObject`` over memory buffers, lines from
``LineSession``.

Driving OpenSSL through ``MemoryBIO`` (TLS is sans-IO too) instead of ``create_server(ssl=...)``
lets the server do what asyncio's built-in TLS does not: send the alert that says why a handshake
failed (protocol_version, certificate_required, ...) before closing, log one line per failed
handshake, and answer a plaintext client with one plaintext hint line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import ssl
from pathlib import Path

from tls_server.cli import Config
from tls_server.context import (
    CertificateFilesError,
    explain_handshake_error,
    not_tls,
    server_context,
    sni_of,
    subject_of,
)
from tls_server.protocol import LineSession, PeerInfo

log = logging.getLogger("tls_server")
HIGH_WATER = 64 * 1024  # bytes queued for a client before we stop reading from it
READ_CHUNK = 64 * 1024
PLAINTEXT_HINT = (
    b"! this port speaks TLS: try openssl s_client -connect HOST:PORT -CAfile ca.crt\n"
)


def _addr(peer: object) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        host = str(peer[0])
        return f"[{host}]:{peer[1]}" if ":" in host else f"{host}:{peer[1]}"
    return str(peer)


def _printable(text: str | None) -> str | None:
    """Client-chosen text (SNI) for a log line: control characters escaped, so a line break
    in it cannot start a forged log line."""
    if text is None or text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")


class Connection(asyncio.Protocol):
    """One client: handshake within the deadline, then lines in and out through TLS."""

    def __init__(self, server: TLSServer, listener: str, ctx: ssl.SSLContext) -> None:
        self.server, self.listener = server, listener
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.incoming, self.outgoing, server_side=True)
        self.raw: asyncio.Transport | None = None
        self.peer = "?"
        self.session: LineSession | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._first = True
        self._failed = False

    # --- asyncio callbacks ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.raw = transport
        self.peer = _addr(transport.get_extra_info("peername"))
        if not self.server.admit(self):
            transport.abort()
            return
        transport.set_write_buffer_limits(high=HIGH_WATER)
        self._arm(self.server.config.handshake_timeout, self._handshake_timeout)

    def data_received(self, data: bytes) -> None:
        if self._failed:
            return
        if self._first:
            self._first = False
            why = not_tls(data)
            if why is not None:  # not a TLS ClientHello: say so in plaintext
                self._fail(why, hint=True)
                return
        self.incoming.write(data)
        if self.session is None:
            self._handshake()
        else:
            self._arm(self.server.config.idle_timeout, self._idle_timeout)
            self._read()

    def eof_received(self) -> bool:
        if self.session is None:
            self._fail(ConnectionResetError("client closed during the handshake"))
        return False  # asyncio closes our side

    def pause_writing(self) -> None:
        if self.raw is not None:
            self.raw.pause_reading()  # a client that does not read stops being read

    def resume_writing(self) -> None:
        if self.raw is not None:
            self.raw.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.server.forget(self)

    # --- TLS -----------------------------------------------------------------------------
    def _flush(self) -> None:
        data = self.outgoing.read()
        if data and self.raw is not None and not self.raw.is_closing():
            self.raw.write(data)

    def _handshake(self) -> None:
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return
        except (ssl.SSLError, OSError) as exc:
            self._fail(exc)
            return
        self._flush()
        info = PeerInfo(
            version=self.tls.version() or "?",
            cipher=(self.tls.cipher() or ("?",))[0],
            sni=sni_of(self.tls),
            client=subject_of(self.tls.getpeercert()),
            peer=self.peer,
        )
        log.info("tls %s on %s: %s %s sni=%s client=%s", self.peer, self.listener,
                 info.version, info.cipher, _printable(info.sni),
                 _printable(info.client) or "-")
        self.session = LineSession(info, max_line=self.server.config.max_line)
        self._send(self.session.greeting())
        self._arm(self.server.config.idle_timeout, self._idle_timeout)
        self._read()  # bytes that came with the client's last handshake flight

    def _read(self) -> None:
        assert self.session is not None
        while self.raw is not None and not self.raw.is_closing():
            try:
                data = self.tls.read(READ_CHUNK)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:  # the client's close_notify
                self.close()
                break
            except (ssl.SSLError, OSError) as exc:
                # TLS 1.3 mutual TLS: a bad client certificate shows up after the handshake.
                self._fail(exc)
                break
            if not data:
                break
            self._send(self.session.receive(data))
        self._flush()  # session tickets, key updates, alerts

    def _send(self, data: bytes) -> None:
        assert self.session is not None
        if data and self.raw is not None and not self.raw.is_closing():
            self.tls.write(data)
            self._flush()
        if self.session.closed:
            self.close()

    def _fail(self, why: BaseException | str, *, hint: bool = False) -> None:
        """A handshake that cannot succeed: one log line, the alert OpenSSL queued, close."""
        if self._failed:
            return
        self._failed = True
        if self._timer is not None:
            self._timer.cancel()
        if not isinstance(why, str):
            why = explain_handshake_error(why)
        log.warning("handshake failed %s on %s: %s", self.peer, self.listener, why)
        if self.raw is None or self.raw.is_closing():
            return
        if hint:
            self.raw.write(PLAINTEXT_HINT)
        else:
            self._flush()
        self.raw.close()

    # --- closing -------------------------------------------------------------------------
    def _arm(self, delay: float, callback: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay, callback)  # type: ignore[arg-type]

    def _handshake_timeout(self) -> None:
        self._fail(TimeoutError())

    def _idle_timeout(self) -> None:
        if self.session is not None:
            log.info("idle timeout %s on %s", self.peer, self.listener)
            self._send(self.session.idle_notice())

    def say_goodbye(self) -> None:
        if self.session is not None:
            self._send(self.session.shutdown_notice())
        elif self.raw is not None:
            self.raw.abort()

    def close(self) -> None:
        """close_notify, then close once the queued bytes are out."""
        if self._timer is not None:
            self._timer.cancel()
        if self.raw is None or self.raw.is_closing():
            return
        with contextlib.suppress(ssl.SSLError, ValueError):
            self.tls.unwrap()  # queues our close_notify; we do not wait for the client's
        self._flush()
        self.raw.close()

    def abort(self) -> None:
        if self.raw is not None:
            self.raw.abort()


class TLSServer:
    def __init__(self, config: Config, contexts: dict[int, ssl.SSLContext]) -> None:
        self.config = config
        self.contexts = contexts
        self.servers: list[asyncio.Server] = []
        self.connections: set[Connection] = set()
        self.ports: dict[str, int] = {}
        self._all_gone = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for port, ctx in self.contexts.items():
            listener = "mtls" if ctx.verify_mode == ssl.CERT_REQUIRED else "tls"
            server = await loop.create_server(
                lambda listener=listener, ctx=ctx: Connection(self, listener, ctx),
                self.config.host, port, reuse_address=True, backlog=128,
            )
            self.servers.append(server)
            self.ports[listener] = server.sockets[0].getsockname()[1]
            log.info("listening on %s:%d (%s)", self.config.host, self.ports[listener], listener)

    def admit(self, conn: Connection) -> bool:
        if len(self.connections) >= self.config.max_connections:
            log.warning("refused %s on %s: %d connections already", conn.peer, conn.listener,
                        len(self.connections))
            return False
        self.connections.add(conn)
        return True

    def forget(self, conn: Connection) -> None:
        self.connections.discard(conn)
        if not self.connections:
            self._all_gone.set()

    async def stop(self) -> None:
        """Stop accepting, say goodbye, give clients ``shutdown_timeout`` s, then cut the rest."""
        for server in self.servers:
            server.close()
        self._all_gone.clear()
        for conn in list(self.connections):
            conn.say_goodbye()
        if self.connections:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_gone.wait(), self.config.shutdown_timeout)
        for conn in list(self.connections):
            conn.abort()
        await asyncio.sleep(0)


def share_files(config: Config) -> None:
    """Copy the CA and the demo client certificate into the shared volume, replacing old copies
    (a rebuilt image has a new CA, and clients must get it). Written then renamed: a reader never
    sees half a file."""
    if not config.share_dir:
        return
    target = Path(config.share_dir)
    target.mkdir(parents=True, exist_ok=True)
    files = {
        "ca.crt": (config.ca_file, 0o644),
        "client.crt": (config.client_cert_file, 0o644),
        "client.key": (config.client_key_file, 0o600),
    }
    for name, (source, mode) in files.items():
        tmp = target / f".{name}.tmp"
        shutil.copyfile(source, tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, target / name)
    log.info("shared ca.crt, client.crt, client.key in %s", target)


async def run(config: Config) -> int:
    try:
        contexts = {
            config.port: server_context(config.cert_file, config.key_file),
            config.mtls_port: server_context(
                config.cert_file, config.key_file, client_ca_file=config.ca_file
            ),
        }
        share_files(config)
    except (CertificateFilesError, OSError) as exc:
        log.error("%s", exc)
        return 2
    server = TLSServer(config, contexts)
    try:
        await server.start()
    except OSError as exc:
        log.error("cannot listen: %s", exc)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping: %d clients", len(server.connections))
    await server.stop()
    log.info("stopped")
    return 0
