"""A heartbeat file that proves the server loop is alive, for a healthcheck that joins no room.

Connecting to the chat to check health would show ``* guest-9 joined`` to every member every
two seconds. Instead the server rewrites a small file each second from its own loop (event loop
or accept thread), holding its pid and bound port; ``tcp_chat.healthcheck`` checks the file is
fresh and that the port is listening. A wedged loop stops the heartbeat, so it is an honest check.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time

log = logging.getLogger("tcp_chat")


class Heartbeat:
    """Rewrite ``path`` at most once per ``interval`` seconds; an empty path disables it."""

    def __init__(self, path: str, port: int, interval: float = 1.0) -> None:
        self.path = path
        self.port = port
        self.interval = interval
        self._last = float("-inf")
        self._warned = False

    def beat(self, force: bool = False) -> None:
        if not self.path:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="ascii") as f:
                f.write(f"{os.getpid()} {self.port}\n")
            os.replace(tmp, self.path)
        except OSError as exc:
            if not self._warned:
                log.warning("cannot write heartbeat file %s: %s", self.path, exc)
                self._warned = True

    def remove(self) -> None:
        if self.path:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
