"""``python -m udp_service.healthcheck``: exit 0 when 127.0.0.1:PORT answers ``ping`` with PONG.

PORT is ``UDP_SERVICE_PORT`` (default 9999). One datagram can be lost, so it tries a few times
within the 2 s budget.
"""

from __future__ import annotations

import os
import socket
import sys
import time


def check(host: str, port: int, budget: float = 2.0) -> bool:
    deadline = time.monotonic() + budget
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        while (left := deadline - time.monotonic()) > 0:
            try:
                sock.sendto(b"ping", (host, port))
                sock.settimeout(min(0.5, left))
                while True:
                    data, peer = sock.recvfrom(2048)
                    if peer[1] == port and data.startswith(b"PONG "):
                        return True
            except OSError:  # timeout, refused (ICMP), ...
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    return False


def main() -> int:
    port = int(os.environ.get("UDP_SERVICE_PORT") or 9999)
    ok = check("127.0.0.1", port)
    print("udp_service: PONG" if ok else f"udp_service: no PONG from 127.0.0.1:{port} in 2 s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
