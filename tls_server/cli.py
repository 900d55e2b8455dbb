"""Command line: every flag also comes from an environment variable TLS_SERVER_<FLAG>."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ENV_PREFIX = "TLS_SERVER_"


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8443
    mtls_port: int = 8444
    cert_file: str = "/certs/server.crt"
    key_file: str = "/certs/server.key"
    ca_file: str = "/certs/ca.crt"
    client_cert_file: str = "/certs/client.crt"
    client_key_file: str = "/certs/client.key"
    share_dir: str = ""
    handshake_timeout: float = 10.0
    idle_timeout: float = 300.0
    max_line: int = 1024
    max_connections: int = 256
    shutdown_timeout: float = 1.5
    log_level: str = "INFO"


HELP: dict[str, str] = {
    "host": "address to listen on (the Dockerfile sets 0.0.0.0)",
    "port": "TLS port",
    "mtls_port": "mutual-TLS port: a client certificate signed by --ca-file is required",
    "cert_file": "server certificate (PEM)",
    "key_file": "server private key (PEM)",
    "ca_file": "CA that signs client certificates for the mutual-TLS port; also shared",
    "client_cert_file": "demo client certificate copied to --share-dir",
    "client_key_file": "demo client key copied to --share-dir",
    "share_dir": "folder to copy ca.crt, client.crt, client.key into at start ('' = none)",
    "handshake_timeout": "seconds a client has to finish the TLS handshake",
    "idle_timeout": "seconds without a line before the server closes the connection",
    "max_line": "longest line in bytes; longer ones are discarded with an error line",
    "max_connections": "connections served at once; more are closed at accept",
    "shutdown_timeout": "seconds given to clients to get the goodbye on SIGTERM",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
}


def _positive(kind: Callable[[str], float | int]) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text}")
    return value


def parse_args(argv: Sequence[str] | None = None, env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ if env is None else env)
    defaults = Config()
    parser = argparse.ArgumentParser(
        prog="python -m tls_server",
        description="TLS 1.2/1.3 line server (Mozilla intermediate) with a mutual-TLS port.",
        epilog="Every flag can also be set with TLS_SERVER_<FLAG>, e.g. TLS_SERVER_PORT=8443.",
    )
    for name, value in vars(defaults).items():
        env_name = ENV_PREFIX + name.upper()
        if name in ("port", "mtls_port"):
            kind: Callable[[str], object] = _port
        elif isinstance(value, float):
            kind = _positive(float)
        elif isinstance(value, int):
            kind = _positive(int)
        else:
            kind = str
        default = env.get(env_name, value)
        try:
            default = kind(default) if isinstance(default, str) else default
        except (ValueError, argparse.ArgumentTypeError) as exc:
            parser.error(f"{env_name}={env[env_name]!r}: {exc}")
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=kind,
            default=default,
            help=f"{HELP[name]} [{env_name}, default {value!r}]",
        )
    config = Config(**vars(parser.parse_args(argv)))
    if config.port == config.mtls_port and config.port != 0:
        parser.error("--port and --mtls-port must differ")
    return config


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s tls_server: %(message)s",
    )
    from tls_server.server import run  # imported late: OPENSSL_CONF must be set first

    return asyncio.run(run(config))
