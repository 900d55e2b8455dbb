"""Settings of one ws_chat server, built by cli.py from flags and WS_CHAT_* variables."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ORIGINS = "http://localhost:8765,http://127.0.0.1:8765"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8765
    chat_host: str = "localhost"
    chat_port: int = 8888
    origins: frozenset[str] = frozenset({"http://localhost:8765", "http://127.0.0.1:8765"})
    allow_no_origin: bool = True
    max_connections: int = 1000
    max_message_bytes: int = 4096  # tcp_chat's own line limit, so every frame fits a line
    max_chat_line_bytes: int = 16 * 1024
    queue_lines: int = 256
    connect_timeout: float = 3.0
    open_timeout: float = 10.0
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    close_timeout: float = 1.0
