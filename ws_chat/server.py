"""The transport: websockets' asyncio server and one TCP connection to tcp_chat per user.

Three tasks per user move data and nothing else: tcp_chat -> bridge -> outbox, outbox ->
WebSocket, WebSocket -> bridge -> tcp_chat. Every decision (what a frame means, which close code)
is in ``bridge.Bridge``; which requests get the page or a refusal is in ``routes.Router``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import signal
from collections.abc import Callable

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ws_chat.bridge import TRY_AGAIN, Action, Bridge, Close, SendText, ToChat
from ws_chat.config import Settings
from ws_chat.routes import Reply, Router, load_assets

log = logging.getLogger("ws_chat")


def to_response(reply: Reply) -> Response:
    headers = Headers(
        [
            ("Content-Type", reply.content_type),
            ("Content-Length", str(len(reply.body))),
            ("Connection", "close"),
            *reply.headers,
        ]
    )
    return Response(reply.status, http.HTTPStatus(reply.status).phrase, headers, reply.body)


class Service:
    """Handshake gate and per-user bridging for one server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.router = Router(
            load_assets(settings.max_message_bytes),
            settings.origins,
            settings.max_connections,
            settings.allow_no_origin,
        )
        self.active: set[ServerConnection] = set()

    def process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        origins = request.headers.get_all("Origin")
        # Two Origin headers are no browser's doing: "" is never on the allow-list.
        origin = None if not origins else origins[0] if len(origins) == 1 else ""
        reply = self.router.route(request.path, origin, len(self.active))
        if reply is None:
            return None
        level = logging.DEBUG if reply.status == 200 else logging.INFO
        path = request.path[:200]
        if not path.isprintable():  # the client's text: no ESC or CR raw in the log
            path = path.encode("unicode_escape", "backslashreplace").decode("ascii")
        log.log(level, "%s %s -> %d from %s", "GET", path, reply.status, _peer(ws))
        return to_response(reply)

    async def handler(self, ws: ServerConnection) -> None:
        peer = _peer(ws)
        if len(self.active) >= self.settings.max_connections:  # handshakes that raced the gate
            await ws.close(TRY_AGAIN, "too many connections: try again later")
            return
        self.active.add(ws)
        log.info("open %s (%d users)", peer, len(self.active))
        try:
            await self._bridge(ws, Bridge(self.settings.max_chat_line_bytes))
        finally:
            self.active.discard(ws)
            log.info("closed %s: %s %s", peer, ws.close_code, ws.close_reason or "")

    async def _bridge(self, ws: ServerConnection, bridge: Bridge) -> None:
        s = self.settings
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(s.chat_host, s.chat_port, limit=2**16),
                s.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            log.warning("tcp_chat %s:%d unavailable: %s", s.chat_host, s.chat_port, exc)
            with contextlib.suppress(ConnectionClosed):
                for action in bridge.chat_unavailable():
                    if isinstance(action, SendText):
                        await ws.send(action.text)
                    elif isinstance(action, Close):
                        await ws.close(action.code, action.reason)
            return
        bridge.chat_connected()
        try:
            await self._session(ws, bridge, reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _session(
        self,
        ws: ServerConnection,
        bridge: Bridge,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        outbox: asyncio.Queue[SendText | Close] = asyncio.Queue()
        abort = asyncio.Event()
        abort_with: list[Close] = []
        limit = self.settings.queue_lines

        def emit(actions: list[Action]) -> None:
            for action in actions:
                if isinstance(action, ToChat):
                    writer.write(action.data)
                elif isinstance(action, SendText) and outbox.qsize() >= limit:
                    abort_with.extend(a for a in bridge.too_slow() if isinstance(a, Close))
                    abort.set()
                    return
                else:
                    outbox.put_nowait(action)

        async def chat_to_outbox() -> None:
            while not abort.is_set():
                try:
                    data = await reader.read(65536)
                except OSError:
                    data = b""
                if not data:
                    emit(bridge.chat_eof())
                    return
                emit(bridge.chat_data(data))

        async def outbox_to_ws() -> None:
            while True:
                item = await outbox.get()
                if isinstance(item, Close):
                    await ws.close(item.code, item.reason)
                    return
                await ws.send(item.text)

        async def ws_to_chat() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for message in ws:
                    emit(bridge.browser_message(message))
                    with contextlib.suppress(OSError):  # tcp_chat gone: chat_to_outbox sees it
                        await writer.drain()
            emit(bridge.browser_closed())

        tasks = [
            asyncio.create_task(ws_to_chat()),
            asyncio.create_task(outbox_to_ws()),
            asyncio.create_task(abort.wait()),
            asyncio.create_task(chat_to_outbox()),
        ]
        try:
            await asyncio.wait(tasks[:3], return_when=asyncio.FIRST_COMPLETED)
            if abort.is_set() and abort_with:
                tasks[1].cancel()
                # Leave the room first: the close below may wait close_timeout on a full buffer,
                # and tcp_chat must not see an unread member meanwhile.
                writer.close()
                log.info("dropping %s: %s", _peer(ws), abort_with[0].reason)
                await ws.close(abort_with[0].code, abort_with[0].reason)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _peer(ws: ServerConnection) -> str:
    try:
        host, port = ws.remote_address[:2]
    except (TypeError, ValueError):
        return "?"
    return f"{host}:{port}"


async def start(settings: Settings) -> tuple[Server, Service]:
    """Listen; the caller closes the server (tests use this directly)."""
    service = Service(settings)
    server = await serve(
        service.handler,
        settings.host,
        settings.port,
        process_request=service.process_request,
        max_size=settings.max_message_bytes,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        open_timeout=settings.open_timeout,
        close_timeout=settings.close_timeout,
        compression=None,  # small chat lines gain little; no per-user inflate state to bound
        server_header=None,
    )
    return server, service


async def run(settings: Settings, on_ready: Callable[[int], None] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then close every WebSocket with 1001 within 2 s."""
    server, _ = await start(settings)
    port = server.sockets[0].getsockname()[1]
    log.info("ws_chat listening on %s:%d, bridging to tcp_chat at %s:%d", settings.host, port,
             settings.chat_host, settings.chat_port)
    if on_ready is not None:
        on_ready(port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: closing %d WebSockets with 1001", len(server.connections))
    server.close()  # 1001 going away to every open WebSocket; 503 to handshakes in progress
    try:
        await asyncio.wait_for(server.wait_closed(), 1.5)
    except TimeoutError:
        log.warning("some connections did not close in time; exiting anyway")
    log.info("stopped")
