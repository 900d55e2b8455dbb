"""Terminal helpers for the interactive clients: safe printing and stdin lines that can stop.

The main thread of a chat client must notice when the server has gone while it waits for the
person to type. A blocking ``input()`` cannot be woken from another thread, so stdin is polled with
``select`` and read with ``os.read`` (lines are split here, never buffered out of select's sight).
"""

from __future__ import annotations

import os
import re
import select
import threading
from collections.abc import Iterator
from typing import TextIO

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_INPUT_LINE = 64 * 1024


def clean(text: str) -> str:
    """No control characters: escape sequences from a server must not drive the terminal."""
    return CONTROL.sub("?", text)


class Printer:
    """Whole lines to one stream from several threads, flushed at once (pipes see them too)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.Lock()

    def line(self, text: str) -> None:
        with self.lock:
            try:
                self.out.write(clean(text) + "\n")
                self.out.flush()
            except (OSError, ValueError):  # stdout closed under us: nothing left to tell
                pass


def input_lines(fd: int, stop: threading.Event, poll: float = 0.1) -> Iterator[str]:
    """Lines typed on ``fd`` (without the newline) until EOF or until ``stop`` is set.

    A line longer than MAX_INPUT_LINE is cut there, so a pasted megabyte cannot eat memory.
    """
    buf = b""
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], poll)
        if not ready:
            continue
        data = os.read(fd, 4096)
        if not data:
            if buf:
                yield buf.decode("utf-8", "replace").rstrip("\r")
            return
        buf += data
        while b"\n" in buf or len(buf) >= MAX_INPUT_LINE:
            line, sep, rest = buf.partition(b"\n")
            if not sep:
                line, rest = buf[:MAX_INPUT_LINE], buf[MAX_INPUT_LINE:]
            buf = rest
            yield line.decode("utf-8", "replace").rstrip("\r")
            if stop.is_set():
                return
