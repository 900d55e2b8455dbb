"""The client side of one proxy connection: h11 server state over an asyncio stream."""

from __future__ import annotations

import asyncio
import contextlib

import h11

from http_proxy import messages

READ_SIZE = 64 * 1024


class ClientGone(ConnectionError):
    """The client closed or broke the connection."""


class ClientConnection:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_header: int,
        via_name: str,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=max_header)
        self.via_name = via_name
        self.bytes_sent = 0

    async def next_event(self, timeout: float) -> h11.Event:
        """The next event from the client; ``TimeoutError`` after ``timeout`` s without bytes."""
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            if self.conn.they_are_waiting_for_100_continue:
                await self.send(h11.InformationalResponse(status_code=100, headers=[]))
            async with asyncio.timeout(timeout):  # cheaper than wait_for: no extra task
                data = await self.reader.read(READ_SIZE)
            self.conn.receive_data(data)

    async def send(self, event: h11.Event, flush: bool = True) -> None:
        """Queue ``event``; with ``flush`` wait until the kernel takes it (backpressure). A head
        sent with ``flush=False`` leaves with the first body bytes, in one segment."""
        try:
            data = self.conn.send(event)
            if data:
                self.writer.write(data)
                self.bytes_sent += len(data)
            if flush:
                await self.writer.drain()
        except OSError as exc:
            raise ClientGone(str(exc)) from exc

    @property
    def body_pending(self) -> bool:
        """True while the client may still be sending a request body we did not read."""
        return self.conn.their_state is h11.SEND_BODY

    def finish_bodyless(self) -> None:
        """Consume the end of a request that declared no body, so the connection can be reused
        after an answer that did not read it; a request with a body keeps ``body_pending``."""
        if self.body_pending:
            with contextlib.suppress(h11.RemoteProtocolError):
                self.conn.next_event()

    async def respond(
        self, status: int, headers: messages.Headers, body: bytes = b"", reason: bytes = b""
    ) -> None:
        """A complete response; ``Connection: close`` if an unread request body is in the way."""
        if self.body_pending:
            headers = [*headers, (b"connection", b"close")]
        reason = reason or messages.REASONS.get(status, "").encode()
        await self.send(h11.Response(status_code=status, headers=headers, reason=reason), False)
        if body:
            await self.send(h11.Data(data=body), False)
        await self.send(h11.EndOfMessage())

    async def error(
        self, status: int, detail: str, extra: messages.Headers | None = None
    ) -> None:
        headers, body = messages.error_response(
            status, detail, via_name=self.via_name, extra=extra
        )
        await self.respond(status, headers, body)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
