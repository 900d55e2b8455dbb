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

READ_SIZE = 64 * 1024


class UpstreamClosed(ConnectionError):
    """The origin closed or broke the connection before a complete response head."""


class Upstream:
    """One connection to an origin with its h11 client state."""

    def __init__(
        self, key: tuple[str, int], reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter, max_header: int,
    ) -> None:
        self.key = key
        self.reader = reader
        self.writer = writer
        self.conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_header)
        self.reused = False
        self.idle_since = time.monotonic()

    async def send(self, event: h11.Event, flush: bool = True) -> None:
        data = self.conn.send(event)
        if data:
            self.writer.write(data)
        if flush:
            await self.writer.drain()

    async def next_event(self, idle_timeout: float) -> h11.Event:
        """The next h11 event from the origin; ``TimeoutError`` after ``idle_timeout`` silent."""
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            async with asyncio.timeout(idle_timeout):
                data = await self.reader.read(READ_SIZE)
            self.conn.receive_data(data)

    @property
    def reusable(self) -> bool:
        return self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE

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
        up.conn.start_next_cycle()
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
