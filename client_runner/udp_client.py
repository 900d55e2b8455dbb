"""``python -m client_runner udp``: type a line, it goes out as one datagram; replies are printed.

A background receiver prints every datagram from the service as it comes, so broadcasts from
other clients show up between replies. The round-trip time shown is measured from the oldest
datagram still waiting for an answer (UDP has no request ids; ``seq N ...`` lines let the service
echo one). Datagrams unanswered after the timeout are reported as lost.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections import deque
from typing import TextIO

from .term import Printer, input_lines

MAX_DATAGRAM = 65507  # the most UDP over IPv4 can carry


def resolve_udp(host: str, port: int) -> tuple[socket.AddressFamily, tuple]:
    """IPv4 first: ``localhost`` may list ::1 first while the service listens on 127.0.0.1."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, _, _, _, addr = infos[0]
    return family, addr


class Pending:
    """Send times of datagrams not yet answered, oldest first."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.times: deque[float] = deque()
        self.lock = threading.Lock()

    def sent(self) -> None:
        with self.lock:
            self.times.append(time.perf_counter())

    def answered(self) -> float | None:
        """Milliseconds since the oldest unanswered send, or None if nothing was waiting."""
        with self.lock:
            if not self.times:
                return None
            return (time.perf_counter() - self.times.popleft()) * 1000

    def expire(self) -> int:
        """Forget the sends older than the timeout; return how many."""
        now = time.perf_counter()
        lost = 0
        with self.lock:
            while self.times and now - self.times[0] > self.timeout:
                self.times.popleft()
                lost += 1
        return lost

    def empty(self) -> bool:
        with self.lock:
            return not self.times


def receive(sock: socket.socket, pending: Pending, printer: Printer, stop: threading.Event,
            target: str) -> None:
    while not stop.is_set():
        try:
            data = sock.recv(65536)
        except TimeoutError:
            lost = pending.expire()
            if lost:
                printer.line(f"! no reply within {pending.timeout:g} s ({lost} datagram(s))")
            continue
        except ConnectionRefusedError:  # ICMP port unreachable on our connected socket
            pending.answered()  # that datagram got its answer: nobody is there
            printer.line(f"! nothing is listening at {target} (port unreachable)")
            continue
        except OSError:
            return
        text = data.decode("utf-8", "replace")
        rtt = pending.answered()
        suffix = f"  ({rtt:.2f} ms)" if rtt is not None else ""
        printer.line(f"< {text.rstrip(chr(10))}{suffix}")


def run_udp(
    host: str,
    port: int,
    *,
    timeout: float = 5.0,
    stdin_fd: int | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Send lines as datagrams until /quit, EOF or Ctrl-C; after EOF, wait for the last replies."""
    stdin_fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
    printer = Printer(sys.stdout if out is None else out)
    notes = Printer(sys.stderr if err is None else err)
    try:
        family, addr = resolve_udp(host, port)
    except OSError as exc:
        notes.line(f"udp: cannot resolve {host}: {exc}")
        return 1
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.connect(addr)  # replies from anyone else are dropped by the kernel
    sock.settimeout(0.2)
    notes.line(f"udp: sending to {host}:{port}; one line = one datagram, /quit or Ctrl-D to leave")
    pending = Pending(timeout)
    stop = threading.Event()
    where = f"{host}:{port}"
    receiver = threading.Thread(target=receive, args=(sock, pending, printer, stop, where),
                                daemon=True)
    receiver.start()
    try:
        for line in input_lines(stdin_fd, stop):
            if line.strip() == "/quit":
                break
            if not line:
                continue
            data = line.encode("utf-8")
            if len(data) > MAX_DATAGRAM:
                notes.line(f"udp: line too long for one datagram ({len(data)} > {MAX_DATAGRAM})")
                continue
            pending.sent()
            try:
                sock.send(data)
            except OSError as exc:
                notes.line(f"udp: send failed: {exc}")
        else:  # EOF: piped input (`echo ping | ...`) still wants its replies
            deadline = time.monotonic() + timeout
            while not pending.empty() and time.monotonic() < deadline:
                time.sleep(0.02)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        receiver.join(1.0)
        sock.close()
    return 0
