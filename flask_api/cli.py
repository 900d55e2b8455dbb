"""``python -m flask_api``: the app under Flask's development server, for work on the host.

Every app setting is a flag mirrored by its ``FLASK_API_*`` variable (see ``config.SETTINGS``).
The container runs gunicorn instead (``gunicorn.conf.py``): the development server is
single-process and not made to face a network.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from .config import SETTINGS


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m flask_api", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=env.get("FLASK_API_HOST", "127.0.0.1"),
                        help="address to bind (FLASK_API_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(env.get("FLASK_API_PORT", "5000")),
                        help="port (FLASK_API_PORT, default 5000)")
    for s in SETTINGS:
        parser.add_argument(s.flag, dest=s.key, type=s.kind, default=None,
                            help=f"{s.help} ({s.env}, default {s.default!r})")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    overrides = {s.key: getattr(args, s.key) for s in SETTINGS if getattr(args, s.key) is not None}
    from .app import create_app  # after parsing, so --help works without touching a database

    try:
        app = create_app(overrides)
    except ValueError as exc:
        sys.exit(f"flask_api: {exc}")
    # SIGTERM (docker stop, the test fixture) ends the process at once, like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.getLogger("flask_api").info("development server on http://%s:%d (database %s)",
                                        args.host, args.port, app.config["DATABASE"])
    app.run(host=args.host, port=args.port, threaded=True, debug=False, use_reloader=False)
