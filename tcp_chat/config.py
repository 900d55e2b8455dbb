"""Server settings shared by both transports (filled from flags and environment by ``cli``)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HEARTBEAT_FILE = "/tmp/tcp_chat.alive"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8888
    model: str = "asyncio"
    max_clients: int = 1000
    max_line_bytes: int = 4096
    idle_timeout: float = 600.0
    queue_lines: int = 256
    announce_limit: int = 1000
    heartbeat_file: str = DEFAULT_HEARTBEAT_FILE
    backlog: int = 1024
    shutdown_grace: float = 1.5
