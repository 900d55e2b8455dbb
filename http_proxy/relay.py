"""Moving one request through the proxy: from the cache, to an origin, or through a tunnel.

Bodies stream in both directions in chunks of at most 64 KiB with backpressure (``drain``); a
response is copied for the cache only while it stays under the per-object limit. Failures before
the response head reaches the client become 502 (connection refused, reset, bad response) or 504
(connect or idle timeout); after that, the client connection is aborted so a truncated body is
never mistaken for a complete one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import h11

from http_proxy import messages, wire
from http_proxy.cache import UNSAFE, Entry
from http_proxy.client import ClientConnection, ClientGone, Request
from http_proxy.state import State
from http_proxy.upstream import READ_SIZE, Upstream, UpstreamClosed

log = logging.getLogger("http_proxy")


@dataclass
class Outcome:
    """What the access log says about one request."""

    status: int = 0
    cache: str = "MISS"
    keep_alive: bool = True
    detail: str = ""


class UpstreamError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


async def serve_cached(
    client: ClientConnection, req: Request, entry: Entry, state: State
) -> Outcome:
    now = time.time()
    if client.framer is not None:  # fast path: the head was serialised at the first hit
        if entry.wire is None:
            rules = state.config.rules.response
            entry.wire = messages.cached_head_parts(
                entry.status, entry.reason, entry.headers,
                messages.via_value(b"1.1", state.config.via_name),
                rules.drop_names, rules.add)
        prefix, with_age, tail = entry.wire
        parts = [prefix]
        if with_age:
            parts.append(b"age: %d\r\n" % int(entry.age(now)))
        parts += [b"content-length: %d\r\n" % len(entry.body), tail, b"\r\n"]
        if req.method != b"HEAD" and entry.status not in (204, 304):
            parts.append(entry.body)
        client.write_raw(b"".join(parts))
        await client.flush()
        return Outcome(entry.status, "HIT")
    headers = messages.downstream_response_headers(
        entry.served_headers(now), req.http_version, state.config.via_name, "HIT"
    )
    headers = state.config.rules.response.apply(headers)
    body = b"" if req.method == b"HEAD" else entry.body
    client.finish_bodyless()
    await client.respond(entry.status, headers, body, entry.reason)
    return Outcome(entry.status, "HIT")


async def _open_exchange(
    client: ClientConnection, req: Request, target: messages.Target, state: State,
    headers: messages.Headers, has_body: bool,
) -> tuple[Upstream, h11.Response | wire.ResponseHead]:
    """Send the request (streaming its body) and return the origin's final response head."""
    cfg = state.config
    for attempt in (1, 2):
        try:
            up = await state.pool.acquire(target.host, target.port)
        except TimeoutError:
            raise UpstreamError(504, f"connecting to {target.authority} timed out") from None
        except OSError as exc:
            raise UpstreamError(502, f"cannot connect to {target.authority}: {exc}") from None
        try:
            if has_body:
                await up.send(h11.Request(method=req.method, target=target.path.encode(),
                                          headers=headers), flush=False)
                await _stream_request_body(client, up, cfg.idle_timeout, cfg.max_request_body)
            else:
                up.send_bodyless(req.method, target.path.encode(), headers)
                await up.drain()
            while True:
                event = await up.next_event(cfg.idle_timeout)
                if isinstance(event, (h11.Response, wire.ResponseHead)):
                    return up, event
                if isinstance(event, h11.ConnectionClosed):
                    raise UpstreamClosed("origin closed the connection before answering")
                # InformationalResponse (e.g. a stray 100 Continue): the client never asked
        except ClientGone:
            up.close()
            raise
        except (UpstreamClosed, ConnectionError, h11.RemoteProtocolError) as exc:
            up.close()
            if attempt == 1 and up.reused and not has_body:
                continue  # a pooled connection the origin had closed meanwhile: try a fresh one
            if isinstance(exc, h11.RemoteProtocolError):
                raise UpstreamError(502, f"bad response from {target.authority}: {exc}") from None
            raise UpstreamError(502, f"{target.authority} closed the connection: {exc}") from None
        except TimeoutError:
            up.close()
            raise UpstreamError(504, f"{target.authority} did not answer in time") from None
        except BaseException:
            up.close()
            raise
    raise AssertionError("unreachable")


async def _stream_request_body(
    client: ClientConnection, up: Upstream, idle: float, limit: int
) -> None:
    sent = 0
    while True:
        try:
            event = await client.next_event(idle)
        except TimeoutError:
            raise ClientGone("client body stalled") from None
        if isinstance(event, h11.Data):
            sent += len(event.data)
            if sent > limit:
                raise RequestTooLarge(f"request body over {limit} bytes")
            await up.send(h11.Data(data=event.data))
        elif isinstance(event, h11.EndOfMessage):
            await up.send(h11.EndOfMessage())
            return
        else:
            raise ClientGone("client closed the connection during the request body")


class RequestTooLarge(Exception):
    pass


async def forward(
    client: ClientConnection, req: Request, target: messages.Target, state: State
) -> Outcome:
    """Relay one absolute-form request to its origin and the response back, streaming both."""
    cfg = state.config
    req_headers = list(req.headers)
    chunked = b"chunked" in messages.get_all(req_headers, b"transfer-encoding")
    length = messages.get(req_headers, b"content-length")
    has_body = chunked or (length is not None and length.strip() not in (b"", b"0"))
    headers = messages.upstream_request_headers(
        req_headers, target, req.http_version, cfg.via_name, chunked
    )
    headers = cfg.rules.request.apply(headers)
    if not has_body:
        client.finish_bodyless()
    try:
        async with asyncio.timeout(cfg.total_timeout):
            try:
                up, resp = await _open_exchange(client, req, target, state, headers, has_body)
            except UpstreamError as exc:
                await client.error(exc.status, exc.detail)
                return Outcome(exc.status, detail=exc.detail, keep_alive=not client.body_pending)
            except RequestTooLarge as exc:
                await client.error(413, str(exc))
                return Outcome(413, keep_alive=False)
            return await _relay_response(client, req, target, state, up, resp)
    except TimeoutError:
        if client.may_answer:
            await client.error(504, f"no complete answer within {cfg.total_timeout:g} s")
            return Outcome(504, keep_alive=False)
        return Outcome(0, keep_alive=False, detail="total timeout mid-body")


async def _relay_response(
    client: ClientConnection, req: Request, target: messages.Target, state: State,
    up: Upstream, resp: h11.Response | wire.ResponseHead,
) -> Outcome:
    cfg = state.config
    now = time.time()
    req_headers = list(req.headers)
    resp_headers = list(resp.headers)
    keep = (
        req.method == b"GET"
        and state.cache.may_store(req.method, resp.status_code, req_headers, resp_headers, now)
    )
    out_headers = messages.downstream_response_headers(
        resp_headers, resp.http_version, cfg.via_name, "MISS"
    )
    out_headers = cfg.rules.response.apply(out_headers)
    length = messages.get(resp_headers, b"content-length")
    hold = (req.method != b"HEAD" and length is not None and length.isdigit()
            and 0 < int(length) <= READ_SIZE)
    body = bytearray()
    try:
        client.head(resp.status_code, out_headers, resp.reason)
        while True:
            event = up.next_event_nowait()
            if event is h11.NEED_DATA:
                # Flush before waiting on the origin (backpressure, and the client sees bytes
                # as they come), except a head announcing a small body: that body follows at
                # once, and leaves with the head in one segment.
                if not hold:
                    await client.flush()
                hold = False
                try:
                    event = await up.next_event(cfg.idle_timeout)
                except TimeoutError:
                    raise UpstreamClosed("origin went silent mid-body") from None
            if isinstance(event, h11.Data):
                if keep:
                    body += event.data
                    if len(body) > state.cache.max_object_bytes:
                        keep = False
                        body = bytearray()
                client.data(event.data)
                hold = False
            elif isinstance(event, h11.EndOfMessage):
                client.end()  # trailers are dropped (TE is hop-by-hop)
                await client.flush()
                break
            else:
                raise UpstreamClosed("origin closed the connection mid-body")
    except (UpstreamClosed, h11.RemoteProtocolError, ConnectionError) as exc:
        up.close()
        if isinstance(exc, ClientGone):
            return Outcome(resp.status_code, keep_alive=False, detail="client went away")
        with contextlib.suppress(ConnectionError):
            await client.flush()  # what did arrive goes out; the close then marks it cut short
        return Outcome(resp.status_code, keep_alive=False, detail=f"aborted: {exc}")
    except BaseException:
        up.close()
        raise
    state.pool.release(up)
    if keep:
        state.cache.store(target.url, req_headers, resp.status_code, resp.reason, resp_headers,
                          bytes(body), now)
    elif req.method in UNSAFE and 200 <= resp.status_code < 400:
        state.cache.invalidate(target.url)
    elif req.method == b"GET":
        state.cache.stats.not_stored += 1
    return Outcome(resp.status_code)


async def tunnel(
    client: ClientConnection, host: str, port: int, state: State
) -> tuple[Outcome, int, int]:
    """Answer CONNECT with 200 and copy bytes both ways until both sides finish or go idle."""
    cfg = state.config
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, limit=READ_SIZE), cfg.connect_timeout
        )
    except TimeoutError:
        await client.error(504, f"connecting to {host}:{port} timed out")
        return Outcome(504), 0, 0
    except OSError as exc:
        await client.error(502, f"cannot connect to {host}:{port}: {exc}")
        return Outcome(502), 0, 0
    counts = [len(client.conn.trailing_data[0]), 0]
    opened = False
    try:
        established = h11.Response(status_code=200, headers=[], reason=b"Connection established")
        await client.send(established)
        if client.conn.trailing_data[0]:
            writer.write(client.conn.trailing_data[0])  # bytes the client sent right after CONNECT
        opened = True
        state.counters.active_tunnels += 1
        await _splice(client.reader, writer, reader, client.writer, cfg.idle_timeout,
                      cfg.tunnel_timeout, counts)
        return Outcome(200, "TUNNEL", keep_alive=False), counts[0], counts[1]
    finally:
        if opened:
            state.counters.active_tunnels -= 1
        with contextlib.suppress(Exception):
            writer.close()


async def _splice(
    a_reader: asyncio.StreamReader, a_writer: asyncio.StreamWriter,
    b_reader: asyncio.StreamReader, b_writer: asyncio.StreamWriter,
    idle: float, lifetime: float, counts: list[int],
) -> None:
    """Copy a->a_writer and b->b_writer concurrently, counting bytes into ``counts``. The tunnel
    is idle only when no byte moved either way for ``idle`` seconds; a half-close is passed on."""
    last = [time.monotonic()]

    async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter, i: int) -> None:
        while True:
            try:
                async with asyncio.timeout(idle):
                    data = await src.read(READ_SIZE)
            except TimeoutError:
                if time.monotonic() - last[0] < idle:
                    continue
                raise
            if not data:
                if dst.can_write_eof():
                    with contextlib.suppress(OSError):
                        dst.write_eof()
                return
            last[0] = time.monotonic()
            counts[i] += len(data)
            dst.write(data)
            await dst.drain()

    tasks = [asyncio.ensure_future(copy(a_reader, a_writer, 0)),
             asyncio.ensure_future(copy(b_reader, b_writer, 1))]
    try:
        async with asyncio.timeout(lifetime):
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except TimeoutError:
        pass
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
