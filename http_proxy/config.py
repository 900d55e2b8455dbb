"""Every knob of the proxy in one frozen dataclass; ``cli`` fills it from flags and env."""

from __future__ import annotations

from dataclasses import dataclass, field

from http_proxy.access import DEFAULT_NETWORKS
from http_proxy.rules import Rules

DEFAULT_CONNECT_PORTS = "443,8443"
# Like squid's Safe_ports: plain HTTP may go to 80, 443 and unprivileged ports, never to 22 or 25.
DEFAULT_HTTP_PORTS = "80,443,1025-65535"


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 3128
    via_name: str = "netlab-proxy"
    # access control
    allow_networks: tuple[str, ...] = DEFAULT_NETWORKS
    auth_user: str = ""
    auth_pass: str = ""
    connect_ports: frozenset[int] = frozenset({443, 8443})
    http_ports: frozenset[int] = frozenset({80, 443, *range(1025, 65536)})
    rules: Rules = field(default_factory=Rules)
    # limits
    max_connections: int = 512
    max_header_bytes: int = 32 * 1024
    max_request_body: int = 100 * 1024 * 1024
    # timeouts, seconds
    connect_timeout: float = 5.0
    idle_timeout: float = 30.0
    total_timeout: float = 300.0
    keepalive_timeout: float = 15.0
    tunnel_timeout: float = 3600.0
    # cache
    cache_bytes: int = 64 * 1024 * 1024
    cache_object_bytes: int = 4 * 1024 * 1024
    cache_entries: int = 10_000
    cache_authorized: bool = False  # RFC 9111 §3.5 sharing for requests with Authorization
    # upstream connection pool
    pool_size: int = 256
    pool_per_host: int = 32
    pool_idle_timeout: float = 30.0
    shutdown_timeout: float = 1.0
