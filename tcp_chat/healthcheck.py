"""``python -m tcp_chat.healthcheck``: exit 0 when the server is alive, without joining the room.

A check that connected would announce ``* guest-N joined`` to every member every two seconds.
Instead it reads the heartbeat file the server rewrites each second from its loop (pid and bound
port), requires it to be fresh, and requires that port to be in LISTEN state in
``/proc/net/tcp`` or ``/proc/net/tcp6`` (the container's own network namespace).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from tcp_chat.config import DEFAULT_HEARTBEAT_FILE

TCP_LISTEN = "0A"


def listening_ports(tables: Sequence[str] = ("/proc/net/tcp", "/proc/net/tcp6")) -> set[int]:
    """Ports with a socket in LISTEN state, from the kernel's hex tables."""
    ports: set[int] = set()
    for table in tables:
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)  # header
                for row in f:
                    fields = row.split()
                    if len(fields) > 3 and fields[3] == TCP_LISTEN:
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            continue
    return ports


def check(path: str, max_age: float, now: float | None = None) -> str | None:
    """None when healthy, else why not."""
    try:
        age = (time.time() if now is None else now) - os.stat(path).st_mtime
        with open(path, encoding="ascii") as f:
            _pid, port_text = f.read().split()
        port = int(port_text)
    except (OSError, ValueError) as exc:
        return f"no usable heartbeat file {path}: {exc}"
    if age > max_age:
        return f"heartbeat {age:.1f} s old (max {max_age} s): the server loop is stuck or gone"
    if port not in listening_ports():
        return f"nothing listening on port {port}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tcp_chat.healthcheck", description=__doc__)
    p.add_argument("--heartbeat-file",
                   default=os.environ.get("TCP_CHAT_HEARTBEAT_FILE") or DEFAULT_HEARTBEAT_FILE)
    p.add_argument("--max-age", type=float, default=5.0, help="seconds (default 5)")
    args = p.parse_args(argv)
    problem = check(args.heartbeat_file, args.max_age)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
