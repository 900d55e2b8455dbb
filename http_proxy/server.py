"""The transport: accept connections, apply the policy to each request, hand it to ``relay``.

Order of refusals for a proxied request, cheapest and least revealing first: client network
(403, before any parsing), connection cap (503), malformed request (400/431), target (400/501),
credentials (407), method (501), destination port (403), blocklist (403), a loop through this
proxy (508), declared body size (413). Only then does the proxy resolve a name or open a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import TextIO

import h11

from http_proxy import messages
from http_proxy.access import client_allowed
from http_proxy.accesslog import AccessLog
from http_proxy.client import ClientConnection, Request
from http_proxy.config import Config
from http_proxy.relay import Outcome, forward, serve_cached, tunnel
from http_proxy.state import State
from http_proxy.wire import RequestHead

log = logging.getLogger("http_proxy")
STATS_PATH = b"/_proxy/stats"


def _raw_response(status: int, text: str) -> bytes:
    body = (text + "\n").encode()
    reason = messages.REASONS.get(status, "Error")
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nX-Cache: MISS\r\n\r\n"
    ).encode() + body


async def _linger_close(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, linger: bool = True
) -> None:
    """Send what is queued, half-close, and discard what the client still sends (at most 64 KiB
    or 1 s): closing with unread bytes makes the kernel reset the connection, and the reset can
    destroy an error response the client has not read yet."""
    try:
        if linger and not writer.is_closing():
            await asyncio.wait_for(writer.drain(), 1.0)
            if writer.can_write_eof():
                writer.write_eof()
            async with asyncio.timeout(1.0):
                left = 64 * 1024
                while left > 0 and (data := await reader.read(left)):
                    left -= len(data)
    except (OSError, TimeoutError, RuntimeError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class Proxy:
    def __init__(self, config: Config, access_stream: TextIO | None = None) -> None:
        self.config = config
        self.access = AccessLog(log, access_stream)
        self.state = State.from_config(config)
        self.tasks: set[asyncio.Task[None]] = set()
        self.busy: set[asyncio.Task[None]] = set()  # those inside a request, not idle
        self.stopping = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)  # type: ignore[arg-type]
        peer = writer.get_extra_info("peername") or ("?", 0)
        c = self.state.counters
        c.connections += 1
        try:
            if not client_allowed(str(peer[0]), self.state.networks):
                c.refused_network += 1
                log.warning(messages.log_line(client=peer[0], event="refused",
                                              reason="client network not allowed"))
                writer.write(_raw_response(403, "403 Forbidden: your network may not use me"))
                return
            if c.active >= self.config.max_connections:
                c.refused_busy += 1
                writer.write(_raw_response(503, "503 Service Unavailable: too many connections"))
                return
            c.active += 1
            client = ClientConnection(reader, writer, self.config.max_header_bytes,
                                      self.config.via_name)
            try:
                await self._session(client, f"{peer[0]}:{peer[1]}", task)
            finally:
                c.active -= 1
        except (ConnectionError, h11.ProtocolError, TimeoutError):
            pass
        except Exception:
            log.exception("unexpected error with client %s", peer)
        finally:
            await _linger_close(reader, writer, linger=not self.stopping)
            if task is not None:
                self.tasks.discard(task)  # type: ignore[arg-type]
                self.busy.discard(task)  # type: ignore[arg-type]

    async def _session(
        self, client: ClientConnection, peer: str, task: asyncio.Task[None] | None
    ) -> None:
        """Requests of one keep-alive connection, one after another."""
        cfg = self.config
        while True:
            try:
                async with asyncio.timeout(cfg.keepalive_timeout):  # the whole head, not per read
                    event = await client.next_event(None)
            except TimeoutError:
                return
            except h11.RemoteProtocolError as exc:
                status = exc.error_status_hint
                if client.may_answer:
                    await client.error(status, f"malformed request: {exc}")
                self._log(peer, "-", "-", status, 0, "MISS", time.perf_counter(), str(exc))
                return
            if not isinstance(event, (h11.Request, RequestHead)):
                return  # ConnectionClosed
            start, sent = time.perf_counter(), client.bytes_sent
            self.busy.add(task)  # type: ignore[arg-type]
            try:
                outcome, extra = await self._dispatch(client, event)
            finally:
                self.busy.discard(task)  # type: ignore[arg-type]
            target = event.target.decode("ascii", "replace")
            nbytes = extra if extra is not None else client.bytes_sent - sent
            self._log(peer, event.method.decode("ascii", "replace"), target, outcome.status,
                      nbytes, outcome.cache, start, outcome.detail)
            if not outcome.keep_alive or not client.response_done or not client.next_cycle():
                return

    async def _dispatch(
        self, client: ClientConnection, req: Request
    ) -> tuple[Outcome, int | None]:
        """Answer one request; the byte count is given apart only for tunnels."""
        cfg, state = self.config, self.state
        state.counters.requests += 1
        headers = list(req.headers)
        if req.method == b"CONNECT":
            return await self._connect(client, req, headers)
        if req.target.startswith(b"/"):
            return await self._local(client, req), None
        try:
            target = messages.parse_absolute(req.target)
        except messages.BadTarget as exc:
            return await self._refuse(client, exc.status, str(exc)), None
        if not state.auth.check(messages.get(headers, b"proxy-authorization")):
            return await self._challenge(client), None
        if req.method not in messages.METHODS:
            detail = f"method {req.method.decode()} is not relayed"
            return await self._refuse(client, 501, detail), None
        if target.port not in cfg.http_ports:
            return await self._refuse(client, 403, f"port {target.port} is not allowed"), None
        reason = cfg.rules.blocked(target.host, target.path)
        if reason:
            return await self._refuse(client, 403, f"blocked by proxy policy: {reason}"), None
        if messages.seen_by(headers, cfg.via_name):
            return await self._refuse(client, 508, "request looped back to this proxy"), None
        length = messages.get(headers, b"content-length")
        if length is not None and length.isdigit() and int(length) > cfg.max_request_body:
            return await self._refuse(client, 413, f"body over {cfg.max_request_body} bytes"), None
        if req.method in (b"GET", b"HEAD"):
            entry = state.cache.lookup(req.method, target.url, headers, time.time())
            if entry is not None:
                return self._count(await serve_cached(client, req, entry, state)), None
        return self._count(await forward(client, req, target, state)), None

    async def _connect(
        self, client: ClientConnection, req: Request, headers: messages.Headers
    ) -> tuple[Outcome, int | None]:
        cfg, state = self.config, self.state
        try:
            host, port = messages.parse_authority(req.target)
        except messages.BadTarget as exc:
            return await self._refuse(client, exc.status, str(exc)), None
        if not state.auth.check(messages.get(headers, b"proxy-authorization")):
            return await self._challenge(client), None
        if port not in cfg.connect_ports:
            allowed = ", ".join(map(str, sorted(cfg.connect_ports))) or "none"
            detail = f"CONNECT to port {port} is not allowed (allowed: {allowed})"
            return await self._refuse(client, 403, detail), None
        reason = cfg.rules.blocked(host)
        if reason:
            return await self._refuse(client, 403, f"blocked by proxy policy: {reason}"), None
        client.finish_bodyless()
        if client.body_pending:
            return await self._refuse(client, 400, "CONNECT must not carry a body"), None
        state.counters.tunnels += 1
        outcome, up, down = await tunnel(client, host, port, state)
        outcome.detail = outcome.detail or f"up={up} down={down}"
        return self._count(outcome), up + down

    async def _local(self, client: ClientConnection, req: Request) -> Outcome:
        """Origin-form requests are for the proxy itself: only the stats page exists."""
        path = req.target.split(b"?", 1)[0]
        if messages.seen_by(list(req.headers), self.config.via_name):
            return await self._refuse(client, 508, "request looped back to this proxy")
        if path == STATS_PATH and req.method in (b"GET", b"HEAD"):
            headers, body = messages.json_response(self.state.stats())
            client.finish_bodyless()
            await client.respond(200, headers, b"" if req.method == b"HEAD" else body)
            return self._count(Outcome(200))
        detail = ("this is a forward proxy: send absolute-form requests (curl -x "
                  "http://HOST:3128 http://example/), or GET /_proxy/stats")
        return await self._refuse(client, 404, detail)

    async def _refuse(self, client: ClientConnection, status: int, detail: str) -> Outcome:
        client.finish_bodyless()
        await client.error(status, detail)
        return self._count(Outcome(status, detail=detail, keep_alive=not client.body_pending))

    async def _challenge(self, client: ClientConnection) -> Outcome:
        client.finish_bodyless()
        extra = [(b"proxy-authenticate", self.state.auth.challenge.encode())]
        await client.error(407, "proxy credentials required", extra)
        return self._count(Outcome(407, keep_alive=not client.body_pending))

    def _count(self, outcome: Outcome) -> Outcome:
        self.state.counters.status[str(outcome.status)] += 1
        return outcome

    def _log(self, peer: str, method: str, target: str, status: int, nbytes: int, cache: str,
             start: float, detail: str = "") -> None:
        self.state.counters.bytes_out += nbytes
        ms = (time.perf_counter() - start) * 1000
        self.access.write(messages.access_line(peer, method, target, status, nbytes, cache, ms,
                                               detail))


async def serve(
    config: Config, ready: asyncio.Event | None = None, access_stream: TextIO | None = None
) -> Proxy:
    """Run until SIGTERM/SIGINT or cancellation; exit within ``shutdown_timeout`` + a little."""
    loop = asyncio.get_running_loop()
    proxy = Proxy(config, access_stream)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # before listening: a probe may signal at once
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    server = await asyncio.start_server(
        proxy.handle, config.host, config.port, limit=config.max_header_bytes,
        backlog=min(config.max_connections, 1024),
    )
    for sock in server.sockets:
        host, port = sock.getsockname()[:2]
        log.info("listening on %s:%d (CONNECT ports %s, auth %s)", host, port,
                 ",".join(map(str, sorted(config.connect_ports))),
                 "on" if proxy.state.auth.enabled else "off")
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
        log.info("shutting down: %s", messages.log_line(
            requests=proxy.state.counters.requests, active=proxy.state.counters.active))
    finally:
        server.close()
        proxy.stopping = True
        for t in proxy.tasks - proxy.busy:
            t.cancel()  # idle keep-alive connections: nothing to finish
        if proxy.busy:  # requests in flight get the grace period, then are cut
            await asyncio.wait(set(proxy.busy), timeout=config.shutdown_timeout)
        for t in proxy.tasks:
            t.cancel()
        if proxy.tasks:
            await asyncio.wait(set(proxy.tasks), timeout=0.3)
        proxy.state.pool.close_all()
        proxy.access.flush()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return proxy
