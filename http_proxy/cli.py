"""Command line: every flag also read from an ``HTTP_PROXY_<FLAG>`` environment variable.

Never from plain ``HTTP_PROXY``/``http_proxy``: those tell clients (curl, requests) which proxy
to use, and a server must not reinterpret them. The host defaults to 127.0.0.1; the Dockerfile
sets ``HTTP_PROXY_HOST=0.0.0.0``. List values are comma separated; header rules (``Name:
value``) are one per line in the environment, or a repeated flag.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence

from http_proxy.access import DEFAULT_NETWORKS, parse_networks, parse_ports
from http_proxy.config import DEFAULT_CONNECT_PORTS, DEFAULT_HTTP_PORTS, Config
from http_proxy.rules import build_rules, load_rules_file
from http_proxy.server import serve

PREFIX = "HTTP_PROXY_"


def env_name(flag: str) -> str:
    return PREFIX + flag.upper().replace("-", "_")


def _env(flag: str, default: object, kind: Callable[[str], object]) -> object:
    raw = os.environ.get(env_name(flag))
    return default if raw is None or raw == "" else kind(raw)


def _csv(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _lines(text: str) -> list[str]:
    return [p.strip() for p in text.splitlines() if p.strip()]


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean (1/0, true/false), got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    d = Config()
    p = argparse.ArgumentParser(
        prog="python -m http_proxy",
        description="Caching HTTP forward proxy with CONNECT tunnels; every flag also reads"
        " HTTP_PROXY_<FLAG> (e.g. HTTP_PROXY_CACHE_BYTES).",
    )

    def add(flag: str, kind: Callable[[str], object], default: object, help_: str) -> None:
        p.add_argument(f"--{flag}", type=kind, default=_env(flag, default, kind),
                       help=f"{help_} ({env_name(flag)}; default %(default)s)")

    def add_lines(flag: str, help_: str) -> None:
        p.add_argument(f"--{flag}", action="append", default=_env(flag, [], _lines),
                       help=f"{help_}; repeatable ({env_name(flag)}: one per line)")

    add("host", str, d.host, "address to listen on")
    add("port", int, d.port, "TCP port, 0 for any free one")
    add("via-name", str, d.via_name, "pseudonym in the Via header (also detects loops)")
    add("allow-networks", str, ",".join(DEFAULT_NETWORKS), "client CIDRs allowed to use the proxy")
    add("auth-user", str, "", "user for Proxy-Authorization: Basic (auth is off if both empty)")
    add("auth-pass", str, "", "password for Proxy-Authorization: Basic")
    add("connect-ports", str, DEFAULT_CONNECT_PORTS, "ports CONNECT may reach (443,8443,a-b)")
    add("http-ports", str, DEFAULT_HTTP_PORTS, "ports plain HTTP requests may reach")
    add("block-hosts", str, "", "comma-separated hosts refused with 403 (subdomains too)")
    add("block-paths", str, "", "comma-separated path prefixes refused with 403")
    add("rules-file", str, "", "JSON file with block_hosts, block_paths, request_headers, ...")
    add_lines("add-request-header", "'Name: value' added to requests sent upstream")
    add_lines("remove-request-header", "header name removed from requests sent upstream")
    add_lines("add-response-header", "'Name: value' added to responses sent to clients")
    add_lines("remove-response-header", "header name removed from responses sent to clients")
    add("max-connections", int, d.max_connections, "client connections at once; more get 503")
    add("max-header-bytes", int, d.max_header_bytes, "largest request or response head (431)")
    add("max-request-body", int, d.max_request_body, "largest request body relayed (413)")
    add("connect-timeout", float, d.connect_timeout, "seconds to connect upstream (then 504)")
    add("idle-timeout", float, d.idle_timeout, "seconds of silence from a peer (then 504/close)")
    add("total-timeout", float, d.total_timeout, "seconds for one whole request and response")
    add("keepalive-timeout", float, d.keepalive_timeout, "seconds to wait for the next request")
    add("tunnel-timeout", float, d.tunnel_timeout, "longest life of a CONNECT tunnel")
    add("cache-bytes", int, d.cache_bytes, "cache size in bytes (LRU); 0 disables caching")
    add("cache-object-bytes", int, d.cache_object_bytes, "largest response body cached")
    add("cache-entries", int, d.cache_entries, "most cached responses")
    add("cache-authorized", _bool, False, "requests with Authorization use the cache as RFC 9111"
        " §3.5 allows (public/s-maxage/must-revalidate); off: they always bypass it")
    add("pool-size", int, d.pool_size, "idle upstream connections kept in all")
    add("pool-per-host", int, d.pool_per_host, "idle upstream connections kept per host:port")
    add("pool-idle-timeout", float, d.pool_idle_timeout, "seconds an idle upstream is kept")
    add("shutdown-timeout", float, d.shutdown_timeout, "seconds in-flight requests get on SIGTERM")
    add("log-level", str, "INFO", "logging level")
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    """A ``Config``; ``ValueError`` with a readable message for anything invalid."""
    if not 0 <= args.port <= 65535:
        raise ValueError("--port must be 0..65535")
    for name in ("max_connections", "max_header_bytes", "max_request_body", "cache_entries",
                 "pool_size", "pool_per_host"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1")
    if args.cache_bytes < 0 or args.cache_object_bytes < 0:
        raise ValueError("--cache-bytes and --cache-object-bytes must be >= 0")
    for name in ("connect_timeout", "idle_timeout", "total_timeout", "keepalive_timeout",
                 "tunnel_timeout", "pool_idle_timeout", "shutdown_timeout"):
        if getattr(args, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be > 0")
    if bool(args.auth_user) != bool(args.auth_pass):
        raise ValueError("set both --auth-user and --auth-pass, or neither")
    if not args.via_name or any(c in args.via_name for c in " ,\r\n\t"):
        raise ValueError("--via-name must be one token without spaces or commas")
    networks = _csv(args.allow_networks)
    parse_networks(networks)  # validates
    document = load_rules_file(args.rules_file) if args.rules_file else None
    rules = build_rules(
        block_hosts=_csv(args.block_hosts), block_paths=_csv(args.block_paths),
        add_request=args.add_request_header, remove_request=args.remove_request_header,
        add_response=args.add_response_header, remove_response=args.remove_response_header,
        document=document,
    )
    return Config(
        host=args.host, port=args.port, via_name=args.via_name, allow_networks=tuple(networks),
        auth_user=args.auth_user, auth_pass=args.auth_pass,
        connect_ports=parse_ports(args.connect_ports), http_ports=parse_ports(args.http_ports),
        rules=rules, max_connections=args.max_connections,
        max_header_bytes=args.max_header_bytes, max_request_body=args.max_request_body,
        connect_timeout=args.connect_timeout, idle_timeout=args.idle_timeout,
        total_timeout=args.total_timeout, keepalive_timeout=args.keepalive_timeout,
        tunnel_timeout=args.tunnel_timeout, cache_bytes=args.cache_bytes,
        cache_object_bytes=min(args.cache_object_bytes, args.cache_bytes),
        cache_entries=args.cache_entries, cache_authorized=args.cache_authorized,
        pool_size=args.pool_size,
        pool_per_host=args.pool_per_host, pool_idle_timeout=args.pool_idle_timeout,
        shutdown_timeout=args.shutdown_timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except ValueError as exc:  # a bad HTTP_PROXY_* number
        print(f"http_proxy: bad environment value: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(serve(config, access_stream=sys.stdout))
    except OSError as exc:
        logging.getLogger("http_proxy").error("cannot serve: %s", exc)
        return 1
    return 0
