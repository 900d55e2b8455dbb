"""Command line: every flag also comes from an environment variable ``TCP_CHAT_<FLAG>``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from tcp_chat.config import DEFAULT_HEARTBEAT_FILE, Settings

ENV = "TCP_CHAT_"
MODELS = ("asyncio", "threads")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _positive(kind: Callable[[str], float | int]) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    env = os.environ
    p = argparse.ArgumentParser(
        prog="python -m tcp_chat",
        description="TCP line chat room (protocol: docs/protocols/tcp_chat.md). "
        "Every flag can also be set with the environment variable shown.",
    )

    def add(flag: str, kind: Callable[[str], object], default: str, help_: str) -> None:
        # A string default is parsed by argparse like a command-line value, so an environment
        # variable gets the same type checks as the flag.
        var = ENV + flag.lstrip("-").replace("-", "_").upper()
        value = env.get(var, default)
        help_text = f"{help_} [{var}, default {default or 'empty'}]"
        p.add_argument(flag, type=kind, default=value, help=help_text)

    add("--host", str, "127.0.0.1", "address to bind (0.0.0.0 in the container)")
    add("--port", _port, "8888", "TCP port; 0 picks a free one (the bound port is logged)")
    add("--model", str, "asyncio", "server design: asyncio or threads")
    add("--max-clients", _positive(int), "1000", "members at once; more are refused")
    add("--max-line-bytes", _positive(int), "4096", "longest line accepted, in bytes")
    add("--idle-timeout", _positive(float), "600", "seconds without a line before a drop")
    add("--queue-lines", _positive(int), "256", "outbound lines queued per client before a drop")
    add("--announce-limit", int, "1000", "no join/leave/nick notices in rooms larger than this")
    add("--heartbeat-file", str, DEFAULT_HEARTBEAT_FILE, "file rewritten every second for "
        "the healthcheck; empty disables")
    add("--log-level", str.upper, "INFO", "DEBUG, INFO, WARNING or ERROR")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, allowed in (("model", MODELS), ("log_level", LEVELS)):
        if getattr(args, name) not in allowed:  # choices are not checked on env defaults
            parser.error(f"{name} must be one of {', '.join(allowed)}")
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    settings = Settings(
        host=args.host,
        port=args.port,
        model=args.model,
        max_clients=args.max_clients,
        max_line_bytes=args.max_line_bytes,
        idle_timeout=args.idle_timeout,
        queue_lines=args.queue_lines,
        announce_limit=args.announce_limit,
        heartbeat_file=args.heartbeat_file,
    )
    if settings.model == "threads":
        from tcp_chat.server_threads import serve
    else:
        from tcp_chat.server_asyncio import serve
    return serve(settings)
