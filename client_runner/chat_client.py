"""``python -m client_runner chat``: a terminal client of tcp_chat, like the course's.

A receiving thread prints server lines as they arrive while the main thread sends what the person
types. It ends cleanly on ``/quit`` or ``exit`` (sent, then the server's goodbye is awaited), on
EOF or Ctrl-C (a ``/quit`` is sent for them) and when the server closes the connection.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from typing import TextIO

from .term import Printer, input_lines

MAX_SERVER_LINE = 64 * 1024  # a server line longer than this is printed in pieces
GOODBYE_WAIT = 2.0  # how long to wait for the server to close after /quit


def is_quit(line: str) -> bool:
    text = line.strip()
    return text == "/quit" or text.lower() == "exit"


def receive(sock: socket.socket, printer: Printer, closed: threading.Event) -> None:
    """Print each server line; set ``closed`` when the server ends the connection."""
    buf = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            buf += data
            while b"\n" in buf or len(buf) >= MAX_SERVER_LINE:
                line, sep, rest = buf.partition(b"\n")
                if not sep:
                    line, rest = buf[:MAX_SERVER_LINE], buf[MAX_SERVER_LINE:]
                buf = rest
                printer.line(line.decode("utf-8", "replace").rstrip("\r"))
    except OSError:
        pass  # reset, or our own close() after /quit
    finally:
        if buf:
            printer.line(buf.decode("utf-8", "replace"))
        closed.set()


def run_chat(
    host: str,
    port: int,
    *,
    timeout: float = 5.0,
    stdin_fd: int | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Chat until the person or the server ends it; 0 on a clean end, 1 if we could not connect."""
    stdin_fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
    printer = Printer(sys.stdout if out is None else out)
    notes = Printer(sys.stderr if err is None else err)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        notes.line(f"chat: cannot connect to {host}:{port}: {exc}")
        return 1
    sock.settimeout(None)
    notes.line(f"chat: connected to {host}:{port}; type to talk, /quit or Ctrl-D to leave")
    closed = threading.Event()
    receiver = threading.Thread(target=receive, args=(sock, printer, closed), daemon=True)
    quit_sent = False
    try:  # from here on, Ctrl-C at any moment is a polite /quit
        receiver.start()
        for line in input_lines(stdin_fd, closed):
            sock.sendall(line.encode("utf-8") + b"\n")
            if is_quit(line):
                quit_sent = True
                break
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        notes.line(f"chat: connection lost: {exc}")
    server_left_first = closed.is_set()
    try:
        if not closed.is_set():
            if not quit_sent:
                sock.sendall(b"/quit\n")
            closed.wait(GOODBYE_WAIT)  # let the server's "* bye" arrive and be printed
    except (OSError, KeyboardInterrupt):
        pass
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        receiver.join(1.0)
    if server_left_first:
        notes.line("chat: the server closed the connection")
    return 0
