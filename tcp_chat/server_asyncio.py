"""The default transport: one asyncio event loop, one ``Protocol`` object per connection.

Why this beats the course's thread per client: a connection costs a few kilobytes instead of a
thread stack, a broadcast is a loop of non-blocking writes, and a client that stops reading
fills only its own bounded queue and is then dropped, so nobody else ever waits for it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import signal
import time

from tcp_chat import delivery
from tcp_chat.config import Settings
from tcp_chat.heartbeat import Heartbeat
from tcp_chat.protocol import FrameError, LineFramer
from tcp_chat.room import IDLE, Outcome, Room

log = logging.getLogger("tcp_chat")

WRITE_HIGH_WATER = 64 * 1024  # bytes in the transport before lines wait in the counted queue
LINES_PER_TICK = 64  # lines handled before yielding to other connections


class ChatServer:
    """Room state plus the live connections; applies each ``Outcome`` to the transports."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.room = Room(settings.max_clients, settings.announce_limit)
        self.conns: dict[int, Connection] = {}
        self._ids = itertools.count(1)
        self._loop = asyncio.get_running_loop()
        self._dirty: list[Connection] = []  # connections with lines to write this turn

    def mark_dirty(self, conn: Connection) -> None:
        if not self._dirty:
            self._loop.call_soon(self.flush)
        self._dirty.append(conn)

    def flush(self) -> None:
        """Write each connection's lines of this loop turn in one call (one syscall, not N)."""
        dirty, self._dirty = self._dirty, []
        for conn in dirty:
            conn.flush()

    def new_connection(self) -> Connection:
        return Connection(self, next(self._ids))

    def apply(self, outcome: Outcome) -> None:
        """Deliver lines, then close; drop anyone whose queue overflowed, and announce that."""
        delivery.apply(self.room, self.conns, outcome)

    def sweep_idle(self, now: float) -> None:
        limit = self.settings.idle_timeout
        for conn in [c for c in self.conns.values() if now - c.last_line > limit]:
            if not conn.closing and conn.cid in self.room:
                log.info("dropping %s: idle", self.room.nick(conn.cid))
                self.apply(self.room.leave(conn.cid, IDLE))


class Connection(asyncio.Protocol):
    """One client: frames its input, feeds the room, and queues its output with a bound."""

    def __init__(self, server: ChatServer, cid: int) -> None:
        self.server = server
        self.cid = cid
        self.framer = LineFramer(server.settings.max_line_bytes)
        self.transport: asyncio.Transport | None = None
        self.outbox: list[bytes] = []  # lines of this loop turn, written together by flush()
        self.pending: collections.deque[bytes] = collections.deque()  # counted, while paused
        self.backlog: collections.deque[str | FrameError] = collections.deque()
        self.paused = False
        self.closing = False
        self.eof = False
        self.last_line = time.monotonic()

    # -- asyncio callbacks -----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        self.server.conns[self.cid] = self
        outcome = self.server.room.join(self.cid)
        if self.cid in self.server.room:
            log.info("%s joined from %s", self.server.room.nick(self.cid),
                     transport.get_extra_info("peername"))
        else:
            log.warning("refused %s: server full", transport.get_extra_info("peername"))
        self.server.apply(outcome)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.backlog.extend(self.framer.feed(data))
        self._process()

    def eof_received(self) -> bool:
        """The client half-closed: finish its lines, then close (keep the transport till then)."""
        self.eof = True
        self.backlog.extend(self.framer.feed_eof())
        self._process()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server.conns.pop(self.cid, None)
        if self.cid in self.server.room:
            log.info("%s disconnected", self.server.room.nick(self.cid))
            self.server.apply(self.server.room.leave(self.cid))

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        assert self.transport is not None
        if self.pending:
            lines, self.pending = self.pending, collections.deque()
            self.transport.write(b"".join(lines))  # may pause us again: then lines queue anew
        if self.backlog and not self.paused and not self.closing:
            self._process()

    # -- used by the server ----------------------------------------------------------------
    def send(self, data: bytes) -> bool:
        """Queue one line; False when this client already has ``queue_lines`` waiting.

        While the transport takes data (its buffer is under the high-water mark) lines go to
        the outbox, written at the end of this loop turn; once it pauses us, they wait in
        ``pending``, which is what the limit counts (the outbox is empty while paused).
        """
        if self.closing or self.transport is None:
            return True
        if self.paused:
            if len(self.pending) >= self.server.settings.queue_lines:
                return False
            self.pending.append(data)
            return True
        if not self.outbox:
            self.server.mark_dirty(self)
        self.outbox.append(data)
        return True

    def flush(self) -> None:
        if self.outbox and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self.outbox))
        self.outbox.clear()

    def close(self) -> None:
        """Close after the queued lines are written (the transport flushes before closing)."""
        if self.closing or self.transport is None:
            return
        self.flush()
        self.closing = True
        while self.pending:
            self.transport.write(self.pending.popleft())
        self.transport.close()
        # A peer that never reads would keep this socket (and its buffer) forever: bound the flush.
        asyncio.get_running_loop().call_later(self.server.settings.shutdown_grace, self._expire)

    def _expire(self) -> None:
        if self.server.conns.get(self.cid) is self:
            self.abort()

    def abort(self) -> None:
        self.closing = True
        self.outbox.clear()
        self.pending.clear()
        if self.transport is not None:
            self.transport.abort()

    # -- internals -------------------------------------------------------------------------
    def _process(self) -> None:
        """Handle queued lines, a bounded number per turn so a flood cannot starve others."""
        server, room = self.server, self.server.room
        for _ in range(LINES_PER_TICK):
            if not self.backlog or self.closing or self.paused:
                break
            event = self.backlog.popleft()
            self.last_line = time.monotonic()
            if isinstance(event, FrameError):
                server.apply(Outcome([(self.cid, event.reply)]))
            else:
                server.apply(room.handle_line(self.cid, event))
        assert self.transport is not None
        if self.closing:
            self.backlog.clear()
        elif self.backlog:
            # pause_reading is a no-op after EOF, which is fine: nothing more can arrive then.
            self.transport.pause_reading()
            if not self.paused:  # else resume_writing continues: its input waits for its output
                asyncio.get_running_loop().call_soon(self._process)
        elif self.eof:
            self.close()
        elif not self.transport.is_closing():
            self.transport.resume_reading()


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set or SIGTERM/SIGINT, then say goodbye and close everyone."""
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    chat = ChatServer(settings)
    server = await loop.create_server(
        chat.new_connection, settings.host, settings.port, backlog=settings.backlog
    )
    port = server.sockets[0].getsockname()[1]
    log.info("listening on %s:%d (model asyncio)", settings.host, port)
    heartbeat = Heartbeat(settings.heartbeat_file, port)
    heartbeat.beat(force=True)
    tick = min(1.0, settings.idle_timeout / 4)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick)
            heartbeat.beat()
            chat.sweep_idle(time.monotonic())
    finally:
        log.info("shutting down: %d members told", len(chat.room))
        server.close()
        chat.apply(chat.room.shutdown())
        deadline = time.monotonic() + settings.shutdown_grace
        while chat.conns and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for conn in list(chat.conns.values()):
            conn.abort()
        heartbeat.remove()


def serve(settings: Settings) -> int:
    asyncio.run(run(settings))
    log.info("stopped")
    return 0
