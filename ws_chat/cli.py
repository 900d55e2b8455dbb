"""Command line: every flag also comes from an environment variable ``WS_CHAT_<FLAG>``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence

from ws_chat.config import DEFAULT_ORIGINS, Settings
from ws_chat.routes import parse_origins

ENV = "WS_CHAT_"
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


def parse_chat_addr(text: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[V6]:PORT`` of tcp_chat."""
    host, sep, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def _origins(text: str) -> frozenset[str]:
    try:
        return parse_origins(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def build_parser(env: dict[str, str] | None = None) -> argparse.ArgumentParser:
    env = dict(os.environ) if env is None else env
    p = argparse.ArgumentParser(
        prog="python -m ws_chat",
        description="WebSocket bridge into tcp_chat's room (protocol: docs/protocols/ws_chat.md). "
        "Every flag can also be set with the environment variable shown.",
    )

    def add(flag: str, kind: Callable[[str], object], default: str, help_: str) -> None:
        # A string default is parsed like a command-line value: env values get the same checks.
        var = ENV + flag.lstrip("-").replace("-", "_").upper()
        help_text = f"{help_} [{var}, default {default or 'empty'}]"
        p.add_argument(flag, type=kind, default=env.get(var, default), help=help_text)

    add("--host", str, "127.0.0.1", "address to bind (0.0.0.0 in the container)")
    add("--port", _port, "8765", "HTTP/WebSocket port; 0 picks a free one (it is logged)")
    add("--chat-addr", parse_chat_addr, "localhost:8888", "tcp_chat HOST:PORT to bridge into")
    add("--origins", _origins, DEFAULT_ORIGINS, "comma-separated Origins allowed on /ws")
    add("--allow-no-origin", _bool, "true", "accept handshakes without Origin (non-browsers)")
    add("--max-connections", _positive(int), "1000", "WebSocket users at once; more get 503")
    add("--max-message-bytes", _positive(int), "4096", "largest browser message; more: 1009")
    add("--max-chat-line-bytes", _positive(int), "16384", "longest tcp_chat line relayed")
    add("--queue-lines", _positive(int), "256", "lines queued per browser before a drop")
    add("--connect-timeout", _positive(float), "3", "seconds to reach tcp_chat")
    add("--open-timeout", _positive(float), "10", "seconds for an HTTP request or handshake")
    add("--ping-interval", _positive(float), "20", "seconds between keepalive pings")
    add("--ping-timeout", _positive(float), "20", "seconds to wait for a pong before a drop")
    add("--close-timeout", _positive(float), "1", "seconds to wait for a closing handshake")
    add("--log-level", str.upper, "INFO", "DEBUG, INFO, WARNING or ERROR")
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    chat_host, chat_port = args.chat_addr
    return Settings(
        host=args.host,
        port=args.port,
        chat_host=chat_host,
        chat_port=chat_port,
        origins=args.origins,
        allow_no_origin=args.allow_no_origin,
        max_connections=args.max_connections,
        max_message_bytes=args.max_message_bytes,
        max_chat_line_bytes=args.max_chat_line_bytes,
        queue_lines=args.queue_lines,
        connect_timeout=args.connect_timeout,
        open_timeout=args.open_timeout,
        ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
        close_timeout=args.close_timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.log_level not in LEVELS:  # choices are not checked on env defaults
        parser.error(f"log level must be one of {', '.join(LEVELS)}")
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if args.log_level != "DEBUG":
        # websockets logs every plain HTTP reply and failed handshake; ws_chat logs its own lines.
        logging.getLogger("websockets").setLevel(logging.WARNING)
    from ws_chat.server import run

    asyncio.run(run(settings_from(args)))  # SIGINT and SIGTERM end it cleanly (server.run)
    return 0
