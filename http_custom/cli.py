"""Command line: every flag also comes from an environment variable ``HTTP_CUSTOM_<FLAG>``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from http_custom.config import Settings
from http_custom.protocol import Limits
from http_custom.static import DEFAULT_DIR

ENV = "HTTP_CUSTOM_"
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
        prog="python -m http_custom",
        description="The course's http.server example done right (docs/protocols/http_custom.md)."
        " Every flag can also be set with the environment variable shown.",
    )

    def add(flag: str, kind: Callable[[str], object], default: str, help_: str) -> None:
        # A string default is parsed like a command-line value: env values get the same checks.
        var = ENV + flag.lstrip("-").replace("-", "_").upper()
        p.add_argument(flag, type=kind, default=env.get(var, default),
                       help=f"{help_} [{var}, default {default}]")

    add("--host", str, "127.0.0.1", "address to bind (0.0.0.0 in the container)")
    add("--port", _port, "8080", "TCP port; 0 picks a free one (the bound port is logged)")
    add("--static-dir", Path, str(DEFAULT_DIR), "folder served under /static/")
    add("--max-body", _positive(int), "65536", "largest request body in bytes (else 413)")
    add("--max-url", _positive(int), "8192", "longest request target in bytes (else 414)")
    add("--max-header-bytes", _positive(int), "16384", "all header lines together (else 431)")
    add("--max-headers", _positive(int), "100", "header lines per request (else 431)")
    add("--max-fields", _positive(int), "200", "fields in a urlencoded form (else 400)")
    add("--max-connections", _positive(int), "128", "connections served at once (else 503)")
    add("--timeout", _positive(float), "5", "seconds of silence before a connection is closed")
    add("--request-timeout", _positive(float), "15", "seconds to receive one whole request "
        "once it began (slow clients get 408)")
    add("--backlog", _positive(int), "256", "listen backlog")
    add("--log-level", str.upper, "INFO", "DEBUG, INFO (access log), WARNING or ERROR")
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    limits = Limits(
        max_url=args.max_url,
        max_header_bytes=args.max_header_bytes,
        max_headers=args.max_headers,
        max_body=args.max_body,
        max_fields=args.max_fields,
    )
    return Settings(
        host=args.host,
        port=args.port,
        static_dir=args.static_dir,
        limits=limits,
        max_connections=args.max_connections,
        timeout=args.timeout,
        request_timeout=args.request_timeout,
        backlog=args.backlog,
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
    if not args.static_dir.is_dir():
        logging.getLogger("http_custom").warning("static folder %s does not exist",
                                                 args.static_dir)
    from http_custom.server import serve

    return serve(settings_from(args))
