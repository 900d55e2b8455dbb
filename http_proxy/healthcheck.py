"""``python -m http_proxy.healthcheck``: exit 0 when the proxy's stats page answers 200.

PORT is ``HTTP_PROXY_PORT`` (default 3128). A direct (origin-form) request, as compose's
healthcheck runs inside the container, from loopback, which the default networks allow.
"""

from __future__ import annotations

import http.client
import os
import sys


def check(host: str, port: int, timeout: float = 2.0) -> tuple[bool, str]:
    try:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.request("GET", "/_proxy/stats")
        resp = conn.getresponse()
        resp.read()
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        return False, f"no answer from {host}:{port}: {exc}"
    return resp.status == 200, f"GET /_proxy/stats -> {resp.status}"


def main() -> int:
    port = int(os.environ.get("HTTP_PROXY_PORT") or 3128)
    ok, detail = check("127.0.0.1", port)
    print(f"http_proxy: {detail}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
