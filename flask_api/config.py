"""Every setting of the app in one table, so the CLI flags, the environment and tests agree.

Each setting has a config key (what ``create_app(config)`` takes), an environment variable
(``FLASK_API_*``, read by both the app factory and ``python -m flask_api``) and a default.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("flask_api")


@dataclass(frozen=True)
class Setting:
    key: str
    env: str
    kind: Callable[[str], Any]
    default: Any
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.env.removeprefix("FLASK_API_").lower().replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE", "FLASK_API_DB", str, "flask_api.db",
            "SQLite file holding users and tokens"),
    Setting("MAX_CONTENT_LENGTH", "FLASK_API_MAX_BODY", int, 1024 * 1024,
            "largest request body in bytes (413 beyond)"),
    Setting("MAX_FORM_PARTS", "FLASK_API_MAX_FORM_FIELDS", int, 100,
            "most fields in one form body"),
    Setting("BCRYPT_ROUNDS", "FLASK_API_BCRYPT_ROUNDS", int, 12,
            "bcrypt cost; below 12 only for tests"),
    Setting("TOKEN_TTL", "FLASK_API_TOKEN_TTL", int, 3600, "bearer token lifetime in seconds"),
    Setting("MAX_TOKENS_PER_USER", "FLASK_API_MAX_TOKENS_PER_USER", int, 10,
            "live tokens kept per user; the oldest go first"),
    Setting("LOGIN_WINDOW", "FLASK_API_LOGIN_WINDOW", int, 300,
            "sliding window of the login limits, in seconds"),
    Setting("LOGIN_MAX_FAILURES", "FLASK_API_LOGIN_MAX_FAILURES", int, 5,
            "failed logins per account within the window (429 beyond)"),
    Setting("LOGIN_MAX_PER_CLIENT", "FLASK_API_LOGIN_MAX_PER_CLIENT", int, 30,
            "login attempts per client address within the window (429 beyond)"),
    Setting("PER_PAGE_MAX", "FLASK_API_PER_PAGE_MAX", int, 100,
            "largest per_page of GET /api/users"),
    Setting("MAX_USERS", "FLASK_API_MAX_USERS", int, 10000, "most users stored (507 beyond)"),
    Setting("DB_BUSY_TIMEOUT_MS", "FLASK_API_DB_BUSY_TIMEOUT_MS", int, 5000,
            "how long a writer waits for the SQLite lock"),
    Setting("SECRET_KEY", "FLASK_API_SECRET_KEY", str, "",
            "key of the CSRF tokens; empty means one random key kept in the database"),
)

MIN_PRODUCTION_ROUNDS = 12


def load(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict:
    """Defaults, overridden by the environment, overridden by ``config``; values are checked."""
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for s in SETTINGS:
        value = s.default
        if s.env in environ and environ[s.env] != "":
            try:
                value = s.kind(environ[s.env])
            except ValueError as exc:
                raise ValueError(f"{s.env}={environ[s.env]!r}: {exc}") from None
        out[s.key] = value
    out.update(config or {})
    check(out)
    return out


def check(cfg: Mapping[str, Any]) -> None:
    """Refuse settings that would make the app unsafe or unusable, at startup rather than later."""
    for key in ("MAX_CONTENT_LENGTH", "MAX_FORM_PARTS", "TOKEN_TTL", "MAX_TOKENS_PER_USER",
                "LOGIN_WINDOW", "LOGIN_MAX_FAILURES", "LOGIN_MAX_PER_CLIENT", "PER_PAGE_MAX",
                "MAX_USERS", "DB_BUSY_TIMEOUT_MS"):
        if int(cfg[key]) < 1:
            raise ValueError(f"{key} must be at least 1")
    rounds = int(cfg["BCRYPT_ROUNDS"])
    if not 4 <= rounds <= 31:
        raise ValueError("BCRYPT_ROUNDS must be between 4 and 31")
    if rounds < MIN_PRODUCTION_ROUNDS:
        log.warning("BCRYPT_ROUNDS=%d is below %d: fine for tests, weak for real passwords",
                    rounds, MIN_PRODUCTION_ROUNDS)
