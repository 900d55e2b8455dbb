"""``--model threads``: the course's thread-per-client design, kept as an honest baseline.

Like the course, every client gets a thread that blocks in ``recv``. Unlike it, the room (the
same sans-IO ``Room`` as the asyncio server) is guarded by one lock, and every client also gets
a writer thread fed by a bounded queue: a broadcast only enqueues, so a client that stops
reading fills its own queue and is dropped instead of blocking everybody's ``sendall``.
The price is two threads per client, which the benchmark in ``bench/chat_fanout.py`` measures.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import signal
import socket
import threading
import time

from tcp_chat import delivery
from tcp_chat.config import Settings
from tcp_chat.heartbeat import Heartbeat
from tcp_chat.protocol import FrameError, LineFramer
from tcp_chat.room import IDLE, Outcome, Room

log = logging.getLogger("tcp_chat")

_CLOSE = b""  # sentinel in a writer queue (real lines are never empty): flush, then close
RECV_BYTES = 65536
WRITE_BATCH = 64
OWN_REPLY_WAIT = 2.0  # seconds a reader waits for its own queue before going on


class Client:
    """One connection: its socket, its bounded outbound queue and its writer thread."""

    def __init__(self, cid: int, sock: socket.socket, queue_lines: int) -> None:
        self.cid = cid
        self.sock = sock
        self.limit = queue_lines
        # One slot more than the limit, kept for the close sentinel so closing never blocks.
        self.queue: queue.Queue[bytes] = queue.Queue(queue_lines + 1)
        self.closing = False
        self.writer = threading.Thread(target=self._write_loop, name=f"w{cid}", daemon=True)

    def send(self, data: bytes) -> bool:
        """Queue one line (caller holds the server lock); False when the queue is full."""
        if self.closing:
            return True
        if self.queue.qsize() >= self.limit:
            return False
        self.queue.put_nowait(data)
        return True

    def close(self) -> None:
        """Close once the queued lines are written."""
        if self.closing:
            return
        self.closing = True
        self.queue.put_nowait(_CLOSE)

    def abort(self) -> None:
        self.closing = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(_CLOSE)

    def _write_loop(self) -> None:
        """Send what is queued, several lines per ``sendall`` when they piled up."""
        try:
            while True:
                lines = [self.queue.get()]
                with contextlib.suppress(queue.Empty):
                    while lines[-1] and len(lines) < WRITE_BATCH:
                        lines.append(self.queue.get_nowait())
                if lines[-1]:
                    self.sock.sendall(b"".join(lines))
                    continue
                self.sock.sendall(b"".join(lines[:-1]))
                break
        except OSError:
            self.closing = True  # a dead writer: its reader must not keep the member in the room
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader thread


class ThreadedChatServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.room = Room(settings.max_clients, settings.announce_limit)
        self.lock = threading.Lock()  # guards room and clients
        self.clients: dict[int, Client] = {}
        self.stop = threading.Event()
        self._ids = itertools.count(1)

    def apply(self, outcome: Outcome) -> None:
        """Enqueue deliveries (never blocks); call with ``self.lock`` held."""
        delivery.apply(self.room, self.clients, outcome)

    def handle(self, client: Client) -> None:
        """The reader thread of one client: the course's recv loop, framed and bounded."""
        sock, cid = client.sock, client.cid
        framer = LineFramer(self.settings.max_line_bytes)
        deadline = time.monotonic() + self.settings.idle_timeout
        try:
            while not client.closing:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data = sock.recv(RECV_BYTES)
                except TimeoutError:
                    if time.monotonic() < deadline:
                        continue
                    with self.lock:
                        log.info("dropping %s: idle", self.room.nick(cid))
                        self.apply(self.room.leave(cid, IDLE))
                    break
                events = framer.feed(data) if data else framer.feed_eof()
                if events:
                    deadline = time.monotonic() + self.settings.idle_timeout
                for event in events:
                    self._wait_for_room(client)
                    with self.lock:
                        if client.closing:
                            break
                        if isinstance(event, FrameError):
                            self.apply(Outcome([(cid, event.reply)]))
                        else:
                            self.apply(self.room.handle_line(cid, event))
                if not data:
                    break
        except OSError:
            pass
        with self.lock:
            if cid in self.room:
                log.info("%s disconnected", self.room.nick(cid))
                self.apply(self.room.leave(cid))
            client.close()
        client.writer.join(self.settings.shutdown_grace)
        with self.lock:
            self.clients.pop(cid, None)
        sock.close()

    @staticmethod
    def _wait_for_room(client: Client) -> None:
        """Back-pressure on a client's own input: a burst of commands waits (briefly) while
        its writer catches up, instead of overflowing its queue with the replies."""
        deadline = time.monotonic() + OWN_REPLY_WAIT
        while (client.queue.qsize() > client.limit // 2 and not client.closing
               and time.monotonic() < deadline):
            time.sleep(0.001)

    def accept(self, sock: socket.socket, peer: object) -> None:
        cid = next(self._ids)
        client = Client(cid, sock, self.settings.queue_lines)
        with self.lock:
            self.clients[cid] = client
            client.writer.start()
            outcome = self.room.join(cid)
            joined = cid in self.room
            self.apply(outcome)
        if joined:
            log.info("%s joined from %s", self.room.nick(cid), peer)
            reader = threading.Thread(target=self.handle, args=(client,), name=f"r{cid}")
            reader.daemon = True
            reader.start()
        else:
            log.warning("refused %s: server full", peer)
            threading.Thread(target=self._finish_refusal, args=(client,), daemon=True).start()

    def _finish_refusal(self, client: Client) -> None:
        client.writer.join(self.settings.shutdown_grace)
        with self.lock:
            self.clients.pop(client.cid, None)
        client.sock.close()

    def serve_forever(self, listener: socket.socket, heartbeat: Heartbeat) -> None:
        listener.settimeout(0.25)
        while not self.stop.is_set():
            heartbeat.beat()
            try:
                sock, peer = listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:  # e.g. EMFILE: keep serving the members we have
                log.warning("accept failed: %s", exc)
                time.sleep(0.1)
                continue
            sock.settimeout(None)
            self.accept(sock, peer)

    def shutdown(self) -> None:
        with self.lock:
            log.info("shutting down: %d members told", len(self.room))
            self.apply(self.room.shutdown())
            clients = list(self.clients.values())
        deadline = time.monotonic() + self.settings.shutdown_grace
        for client in clients:
            client.writer.join(max(0.0, deadline - time.monotonic()))
        for client in clients:
            with contextlib.suppress(OSError):
                client.sock.shutdown(socket.SHUT_RDWR)


def serve(settings: Settings) -> int:
    server = ThreadedChatServer(settings)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.stop.set())
    threading.stack_size(256 * 1024)  # thousands of threads: keep their stacks small
    listener = socket.create_server((settings.host, settings.port), backlog=settings.backlog)
    port = listener.getsockname()[1]
    log.info("listening on %s:%d (model threads)", settings.host, port)
    heartbeat = Heartbeat(settings.heartbeat_file, port)
    heartbeat.beat(force=True)
    try:
        server.serve_forever(listener, heartbeat)
    finally:
        listener.close()
        server.shutdown()
        heartbeat.remove()
    log.info("stopped")
    return 0
