"""What every connection of one proxy shares: configuration, cache, pool, counters."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from http_proxy.access import BasicAuth, Network, parse_networks
from http_proxy.cache import Cache
from http_proxy.config import Config
from http_proxy.upstream import Pool


@dataclass
class Counters:
    connections: int = 0
    active: int = 0
    refused_network: int = 0
    refused_busy: int = 0
    requests: int = 0
    tunnels: int = 0
    active_tunnels: int = 0
    bytes_out: int = 0
    status: Counter[str] = field(default_factory=Counter)


@dataclass
class State:
    config: Config
    cache: Cache
    pool: Pool
    auth: BasicAuth
    networks: tuple[Network, ...]
    counters: Counters = field(default_factory=Counters)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def from_config(cls, config: Config) -> State:
        return cls(
            config=config,
            cache=Cache(config.cache_bytes, config.cache_object_bytes, config.cache_entries,
                        config.cache_authorized),
            pool=Pool(config.pool_size, config.pool_per_host, config.pool_idle_timeout,
                      config.connect_timeout, config.max_header_bytes),
            auth=BasicAuth(config.auth_user, config.auth_pass),
            networks=parse_networks(config.allow_networks),
        )

    def stats(self) -> dict[str, object]:
        c = self.counters
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "connections": {"total": c.connections, "active": c.active,
                            "max": self.config.max_connections,
                            "refused_network": c.refused_network, "refused_busy": c.refused_busy},
            "requests": {"total": c.requests, "by_status": dict(sorted(c.status.items())),
                         "bytes_out": c.bytes_out},
            "tunnels": {"total": c.tunnels, "active": c.active_tunnels},
            "cache": self.cache.snapshot(),
            "upstream_pool": self.pool.snapshot(),
            "auth": self.auth.enabled,
        }
