"""Server settings (filled from flags and environment by ``cli``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from http_custom.protocol import Limits
from http_custom.static import DEFAULT_DIR


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    static_dir: Path = DEFAULT_DIR
    limits: Limits = field(default_factory=Limits)
    max_connections: int = 128  # handler threads at once; more get a 503
    timeout: float = 5.0  # idle keep-alive wait and any single socket read or write
    request_timeout: float = 15.0  # one whole request (head and body) once its first byte came
    backlog: int = 256
    shutdown_grace: float = 1.5  # in-flight requests get this long after SIGTERM
    linger_seconds: float = 1.0  # after an error, read and drop what the client still sends...
    linger_bytes: int = 4 * 1024 * 1024  # ...up to this much, so it can read our answer
