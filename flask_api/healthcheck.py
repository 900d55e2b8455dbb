"""``python -m flask_api.healthcheck``: exit 0 when GET /healthz answers 200 (compose uses it).

The port comes from FLASK_API_PORT (default 5000); the probe always goes to 127.0.0.1 inside the
container, whatever address the server binds.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = int(os.environ.get("FLASK_API_PORT", "5000"))
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return 0 if resp.status == 200 else 1
    except OSError as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
