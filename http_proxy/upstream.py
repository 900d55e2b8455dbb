"""Connections to origin servers, kept alive in a bounded pool and reused per host:port.

A pooled connection can be closed by the origin while idle; the relay notices this on first use
and retries a body-less request once on a fresh connection (``Upstream.reused`` tells it when a
failure may be that race rather than a real error).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import h11

from http_proxy import wire

READ_SIZE = 64 * 1024


class UpstreamClosed(ConnectionError):
    """The origin closed or broke the connection before a complete response head."""


_END = h11.EndOfMessage()


class Upstream:
    """One connection to an origin. A body-less request goes through ``wire`` (serialised head
    out, strict Content-Length response in); a request with a body, and any response the fast
    reader does not take, goes through h11, which then sees the exchange from the start."""

    def __init__(
        self, key: tuple[str, int], reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter, max_header: int,
    ) -> None:
        self.key = key
        self.reader = reader
        self.writer = writer
        self.max_header = max_header
        self.conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_header)
        self.fast: wire.ResponseReader | None = None
        # the request, replayed into h11 if the fast reader defers
        self.fast_request: tuple[bytes, bytes, list[tuple[bytes, bytes]]] | None = None
        self.reused = False
        self.idle_since = time.monotonic()

    def send_bodyless(self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
                      ) -> None:
        """Write a complete body-less request in one piece; the response comes by the fast
        reader unless it defers to h11."""
        self.fast = wire.ResponseReader(method, self.max_header)
        self.fast_request = (method, target, headers)
        self.writer.write(wire.serialize_request(method, target, headers))

    async def send(self, event: h11.Event, flush: bool = True) -> None:
        data = self.conn.send(event)
        if data:
            self.writer.write(data)
        if flush:
            await self.writer.drain()

    async def drain(self) -> None:
        await self.writer.drain()

    def _to_h11(self) -> None:
        """The fast reader gave up before its first event: let h11 read the same bytes."""
        assert self.fast is not None
        assert self.fast_request is not None
        method, target, headers = self.fast_request
        self.conn.send(h11.Request(method=method, target=target, headers=headers))
        self.conn.send(h11.EndOfMessage())
        self.conn.receive_data(bytes(self.fast.buffer))
        self.fast = None
        self.fast_request = None

    def next_event_nowait(self) -> object:
        """The next event from bytes already received, or ``h11.NEED_DATA``."""
        fast = self.fast
        if fast is not None:
            try:
                event = fast.next()
            except wire.Defer:
                self._to_h11()
                return self.conn.next_event()
            if event is wire.NEED_DATA:
                return h11.NEED_DATA
            if event is wire.END:
                return _END
            if type(event) is bytes:
                return h11.Data(data=event)
            return event  # the ResponseHead
        return self.conn.next_event()

    async def next_event(self, idle_timeout: float) -> h11.Event:
        """The next event from the origin; ``TimeoutError`` after ``idle_timeout`` silent."""
        while True:
            event = self.next_event_nowait()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            async with asyncio.timeout(idle_timeout):
                data = await self.reader.read(READ_SIZE)
            fast = self.fast
            if fast is None:
                self.conn.receive_data(data)
            elif not data:
                if fast.state != "head":
                    raise UpstreamClosed("origin closed the connection mid-body")
                self._to_h11()  # h11 tells a clean close from a truncated head
                self.conn.receive_data(b"")
            else:
                fast.feed(data)

    @property
    def reusable(self) -> bool:
        if self.fast is not None:
            return self.fast.reusable
        return self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE

    def next_cycle(self) -> None:
        if self.fast is not None:
            self.fast = None
            self.fast_request = None
        else:
            self.conn.start_next_cycle()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


@dataclass
class Pool:
    """Idle origin connections: at most ``per_host`` for one host:port and ``size`` in all."""

    size: int = 256
    per_host: int = 32
    idle_timeout: float = 30.0
    connect_timeout: float = 5.0
    max_header: int = 32 * 1024
    created: int = 0
    reused: int = 0
    _idle: dict[tuple[str, int], list[Upstream]] = field(default_factory=dict)
    _count: int = 0

    async def acquire(self, host: str, port: int) -> Upstream:
        """A live idle connection to host:port, else a new one (``TimeoutError``/``OSError``)."""
        key = (host, port)
        idle = self._idle.get(key, [])
        now = time.monotonic()
        while idle:
            up = idle.pop()
            self._count -= 1
            if (
                now - up.idle_since < self.idle_timeout
                and not up.reader.at_eof()
                and not up.writer.is_closing()
            ):
                up.reused = True
                self.reused += 1
                return up
            up.close()
        if not idle:
            self._idle.pop(key, None)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, limit=READ_SIZE), self.connect_timeout
        )
        self.created += 1
        return Upstream(key, reader, writer, self.max_header)

    def release(self, up: Upstream) -> None:
        """Keep ``up`` for the next request if its exchange ended cleanly and there is room."""
        idle = self._idle.get(up.key, [])
        if not up.reusable or len(idle) >= self.per_host or up.writer.is_closing():
            up.close()
            return
        if self._count >= self.size:
            self._evict_oldest()
        idle = self._idle.setdefault(up.key, [])
        up.next_cycle()
        up.reused = False
        up.idle_since = time.monotonic()
        idle.append(up)
        self._count += 1

    def _evict_oldest(self) -> None:
        key, pos = min(
            ((k, i) for k, lst in self._idle.items() for i in range(len(lst))),
            key=lambda ki: self._idle[ki[0]][ki[1]].idle_since,
        )
        self._idle[key].pop(pos).close()
        if not self._idle[key]:
            del self._idle[key]
        self._count -= 1

    def close_all(self) -> None:
        for idle in self._idle.values():
            for up in idle:
                up.close()
        self._idle.clear()
        self._count = 0

    def snapshot(self) -> dict[str, int]:
        return {"idle": self._count, "created": self.created, "reused": self.reused,
                "size": self.size, "per_host": self.per_host}
