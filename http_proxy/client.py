"""The client side of one proxy connection, over an asyncio stream.

Two parsers share the connection. Each request head is first offered to ``wire`` (the fast
path: body-less HTTP/1.1 keep-alive requests, answered with plain bytes); anything else, and
every malformed byte, goes to h11, which answers it as it always did. After each response the
connection goes back to the fast path with whatever pipelined bytes are left.

Writes are coalesced: a head, a small body and the end of the message leave in one
``transport.write`` (one syscall, one TCP segment) when the caller flushes.
"""

from __future__ import annotations

import asyncio
import contextlib

import h11

from http_proxy import messages, wire

READ_SIZE = 64 * 1024
Request = h11.Request | wire.RequestHead


class ClientGone(ConnectionError):
    """The client closed or broke the connection."""


class ClientConnection:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_header: int,
        via_name: str,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.max_header = max_header
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=max_header)
        self.via_name = via_name
        self.bytes_sent = 0
        self.buf = bytearray()  # received bytes not yet given to either parser
        self.fed = False  # h11 owns this request cycle
        self.framer: wire.ResponseFramer | None = None  # set while a fast-path request runs
        self.pending: list[bytes] = []

    async def next_event(self, timeout: float | None) -> h11.Event | wire.RequestHead:
        """The next event from the client; ``TimeoutError`` after ``timeout`` s without bytes
        (None: the caller bounds the whole wait)."""
        while not self.fed:
            if self.buf:
                try:
                    parsed = wire.parse_request_head(self.buf, self.max_header)
                except wire.Defer:
                    self._feed_h11()
                    break
                if parsed is not None:
                    head, used = parsed
                    del self.buf[:used]
                    self.framer = wire.ResponseFramer(head.method)
                    return head
            data = await self._read(timeout)
            if not data:
                self._feed_h11()  # h11 tells a clean close from a truncated head
                self.conn.receive_data(b"")
                break
            self.buf += data
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            if self.conn.they_are_waiting_for_100_continue:
                await self.send(h11.InformationalResponse(status_code=100, headers=[]))
            self.conn.receive_data(await self._read(timeout))

    async def _read(self, timeout: float | None) -> bytes:
        if timeout is None:
            return await self.reader.read(READ_SIZE)
        async with asyncio.timeout(timeout):  # cheaper than wait_for: no extra task
            return await self.reader.read(READ_SIZE)

    def _feed_h11(self) -> None:
        self.fed = True
        if self.buf:
            self.conn.receive_data(bytes(self.buf))
            self.buf.clear()

    @property
    def response_started(self) -> bool:
        """True once a response head has been queued for the current request."""
        if self.framer is not None:
            return self.framer.started
        return self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE)

    @property
    def response_done(self) -> bool:
        """True when the whole response went out and the connection may carry another."""
        if self.framer is not None:
            return self.framer.done
        return self.conn.our_state is h11.DONE

    @property
    def may_answer(self) -> bool:
        """True while an error response can still be sent for the current request."""
        return not self.response_started

    def next_cycle(self) -> bool:
        """Get ready for the next request; False if this connection cannot carry one."""
        if self.framer is not None:
            self.framer = None
            return True
        try:
            self.conn.start_next_cycle()
        except h11.LocalProtocolError:
            return False  # the request body was never read: this connection cannot go on
        data, closed = self.conn.trailing_data
        if closed:
            return True  # stay with h11: it reports the close
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.max_header)
        self.buf = bytearray(data)
        self.fed = False
        return True

    def write_raw(self, data: bytes) -> None:
        """Queue bytes already framed for a fast-path request (a pre-serialised cache hit)."""
        assert self.framer is not None
        self.framer.started = self.framer.done = True
        self.pending.append(data)
        self.bytes_sent += len(data)

    def head(self, status: int, headers: messages.Headers, reason: bytes = b"") -> None:
        """Queue a response head (sent with the next flush)."""
        reason = reason or messages.REASONS.get(status, "").encode()
        if self.framer is not None:
            self._queue(self.framer.head(status, reason, headers))
        else:
            self._queue(self.conn.send(h11.Response(status_code=status, headers=headers,
                                                    reason=reason)))

    def data(self, data: bytes) -> None:
        if self.framer is not None:
            self._queue(self.framer.data(data))
        else:
            self._queue(self.conn.send(h11.Data(data=data)))

    def end(self) -> None:
        if self.framer is not None:
            self._queue(self.framer.end())
        else:
            self._queue(self.conn.send(h11.EndOfMessage()))

    def _queue(self, data: bytes | None) -> None:
        if data:
            self.pending.append(data)
            self.bytes_sent += len(data)

    async def send(self, event: h11.Event, flush: bool = True) -> None:
        """An h11 event outside the fast path (100 Continue, the CONNECT answer)."""
        if self.framer is not None:
            raise wire.FramingError(f"cannot send {type(event).__name__} on the fast path")
        self._queue(self.conn.send(event))
        if flush:
            await self.flush()

    async def flush(self) -> None:
        """Write what is queued in one piece and wait for the kernel to take it."""
        try:
            if self.pending:
                data = self.pending[0] if len(self.pending) == 1 else b"".join(self.pending)
                self.pending.clear()
                self.writer.write(data)
            await self.writer.drain()
        except OSError as exc:
            raise ClientGone(str(exc)) from exc

    @property
    def body_pending(self) -> bool:
        """True while the client may still be sending a request body we did not read."""
        return self.framer is None and self.conn.their_state is h11.SEND_BODY

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
        self.head(status, headers, reason)
        if body:
            self.data(body)
        self.end()
        await self.flush()

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
