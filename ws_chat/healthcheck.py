"""``python -m ws_chat.healthcheck``: exit 0 when GET / answers 200 on this container's port.

It fetches the page only and never opens /ws, so a healthcheck never becomes a chat member.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = int(os.environ.get("WS_CHAT_PORT", "8765"))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(f"http://127.0.0.1:{port}/", timeout=2) as resp:
            ok = resp.status == 200
    except OSError as exc:
        print(f"ws_chat unhealthy: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
