"""Command line: every flag also read from an ``UDP_SERVICE_*`` environment variable.

The host defaults to 127.0.0.1 so a developer's run is not exposed; the Dockerfile sets
``UDP_SERVICE_HOST=0.0.0.0``. Port 0 picks a free port, logged at start.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence

from udp_service.protocol import Limits
from udp_service.server import ServerConfig, serve

PREFIX = "UDP_SERVICE_"


def _env(name: str, default: object, kind: Callable[[str], object]) -> object:
    raw = os.environ.get(PREFIX + name.upper().replace("-", "_"))
    return default if raw is None or raw == "" else kind(raw)


def build_parser() -> argparse.ArgumentParser:
    d = Limits()
    p = argparse.ArgumentParser(
        prog="python -m udp_service",
        description="UDP ping/time/echo/broadcast service; every flag also reads"
        " UDP_SERVICE_<FLAG> (e.g. UDP_SERVICE_MAX_FANOUT).",
    )

    def add(flag: str, kind: Callable[[str], object], default: object, help_: str) -> None:
        p.add_argument(f"--{flag}", type=kind, default=_env(flag, default, kind), help=help_)

    add("host", str, "127.0.0.1", "address to bind (UDP_SERVICE_HOST)")
    add("port", int, 9999, "UDP port, 0 for any free one (UDP_SERVICE_PORT)")
    add("max-datagram", int, d.max_datagram, "largest accepted payload in bytes")
    add("join-ttl", float, d.join_ttl, "seconds a member stays joined after its last datagram")
    add("max-members", int, d.max_members, "most joined clients")
    add("max-members-per-host", int, d.max_members_per_host, "most joined clients of one IP")
    add("max-fanout", int, d.max_fanout, "most recipients of one broadcast")
    add("rate", float, d.rate, "datagrams/s each source IP may cause; 0 disables rate limiting")
    add("burst", float, d.burst, "token bucket size per source IP")
    add("max-sources", int, d.max_sources, "most source IPs tracked by the rate limiter")
    add("amp-factor", float, d.amp_factor, "a reply may be this many times the request ...")
    add("amp-floor", int, d.amp_floor, "... or this many bytes, whichever is larger")
    add("max-send-buffer", int, 1 << 20, "bytes queued for sending before replies are dropped")
    add("log-interval", float, 10.0, "seconds between aggregate drop/error log lines")
    add("log-level", str, "INFO", "logging level")
    return p


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    limits = Limits(
        max_datagram=args.max_datagram,
        join_ttl=args.join_ttl,
        max_members=args.max_members,
        max_members_per_host=args.max_members_per_host,
        max_fanout=args.max_fanout,
        rate=args.rate,
        burst=args.burst,
        max_sources=args.max_sources,
        amp_factor=args.amp_factor,
        amp_floor=args.amp_floor,
    )
    return ServerConfig(
        host=args.host,
        port=args.port,
        limits=limits,
        max_send_buffer=args.max_send_buffer,
        log_interval=args.log_interval,
    )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except ValueError as exc:  # a bad UDP_SERVICE_* value
        print(f"udp_service: bad environment value: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("port must be 0..65535")
    for name in ("max_datagram", "max_members", "max_members_per_host", "max_sources", "amp_floor"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.max_fanout < 0 or args.amp_factor < 1 or args.join_ttl <= 0 or args.log_interval <= 0:
        parser.error("--max-fanout >= 0, --amp-factor >= 1, --join-ttl and --log-interval > 0")
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(serve(config_from_args(args)))
    except OSError as exc:
        logging.getLogger("udp_service").error("cannot serve: %s", exc)
        return 1
    return 0
