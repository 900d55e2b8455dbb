"""``python -m http_custom.healthcheck``: exit 0 when GET /healthz on 127.0.0.1:PORT gives 200.

PORT is ``HTTP_CUSTOM_PORT`` (default 8080). urllib from the standard library, 2 s budget.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def check(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=timeout) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


def main() -> int:
    port = int(os.environ.get("HTTP_CUSTOM_PORT") or 8080)
    ok = check("127.0.0.1", port)
    print("http_custom: 200 on /healthz" if ok else f"http_custom: no 200 from 127.0.0.1:{port}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
