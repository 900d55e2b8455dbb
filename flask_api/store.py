"""Users, tokens and login attempts in SQLite: plain functions over a connection, no Flask.

Every query is parameterized. Time comes in as an argument so tests can move it.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any

from .db import transaction

PUBLIC_COLUMNS = "id, username, email, created_at, updated_at"


class Conflict(Exception):
    """A unique field (username or email, compared case-insensitively) is already taken."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


class Full(Exception):
    """The configured maximum number of users is reached."""


def _public(row: sqlite3.Row | None) -> dict[str, Any] | None:
    return None if row is None else {k: row[k] for k in row.keys()}  # noqa: SIM118


def _conflicts(conn: sqlite3.Connection, fields: dict[str, str], exclude_id: int) -> list[str]:
    taken = []
    for column in ("username", "email"):
        if column in fields:
            hit = conn.execute(
                f"SELECT 1 FROM users WHERE {column} = ? AND id != ?",  # column is a constant
                (fields[column], exclude_id),
            ).fetchone()
            if hit:
                taken.append(column)
    return taken


def create_user(
    conn: sqlite3.Connection,
    username: str,
    email: str,
    password_hash: str,
    now: str,
    max_users: int,
) -> dict[str, Any]:
    with transaction(conn):
        taken = _conflicts(conn, {"username": username, "email": email}, exclude_id=-1)
        if taken:
            raise Conflict(taken)
        if conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] >= max_users:
            raise Full()
        cur = conn.execute(
            "INSERT INTO users (username, email, password_hash, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (username, email, password_hash, now, now),
        )
        row = conn.execute(f"SELECT {PUBLIC_COLUMNS} FROM users WHERE id = ?",
                           (cur.lastrowid,)).fetchone()
    return _public(row)  # type: ignore[return-value]


def get_user(conn: sqlite3.Connection, user_id: int) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {PUBLIC_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()
    return _public(row)


def list_users(conn: sqlite3.Connection, page: int, per_page: int) -> tuple[list[dict], int]:
    """One page of users in id order, and how many there are in all."""
    total = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    rows = conn.execute(
        f"SELECT {PUBLIC_COLUMNS} FROM users ORDER BY id LIMIT ? OFFSET ?",
        (per_page, (page - 1) * per_page),
    ).fetchall()
    return [_public(r) for r in rows], int(total)  # type: ignore[misc]


def update_user(
    conn: sqlite3.Connection, user_id: int, fields: dict[str, str], now: str
) -> dict[str, Any] | None:
    """Set ``fields`` (username, email, password_hash); None if the user is gone."""
    with transaction(conn):
        if conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
            return None
        taken = _conflicts(conn, fields, exclude_id=user_id)
        if taken:
            raise Conflict(taken)
        for column in ("username", "email", "password_hash"):
            if column in fields:
                conn.execute(f"UPDATE users SET {column} = ? WHERE id = ?",  # constant column
                             (fields[column], user_id))
        conn.execute("UPDATE users SET updated_at = ? WHERE id = ?", (now, user_id))
        row = conn.execute(f"SELECT {PUBLIC_COLUMNS} FROM users WHERE id = ?",
                           (user_id,)).fetchone()
    return _public(row)


def delete_user(conn: sqlite3.Connection, user_id: int) -> bool:
    with transaction(conn):
        return conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount == 1


def credentials(conn: sqlite3.Connection, username: str) -> tuple[int, str] | None:
    row = conn.execute("SELECT id, password_hash FROM users WHERE username = ?",
                       (username,)).fetchone()
    return None if row is None else (int(row["id"]), str(row["password_hash"]))


# Tokens: only their SHA-256 is stored, so a copy of the database holds no usable token.

def issue_token(
    conn: sqlite3.Connection, user_id: int, token_hash: str, now: float, ttl: int, keep: int
) -> None:
    """Store a token; drop expired ones and, past ``keep`` live tokens, the oldest."""
    with transaction(conn):
        conn.execute("DELETE FROM tokens WHERE expires_at <= ?", (now,))
        conn.execute("INSERT INTO tokens (token_hash, user_id, created_at, expires_at)"
                     " VALUES (?, ?, ?, ?)", (token_hash, user_id, now, now + ttl))
        conn.execute(
            "DELETE FROM tokens WHERE user_id = ? AND token_hash NOT IN"
            " (SELECT token_hash FROM tokens WHERE user_id = ?"
            "  ORDER BY created_at DESC, rowid DESC LIMIT ?)",
            (user_id, user_id, keep),
        )


def token_user(conn: sqlite3.Connection, token_hash: str, now: float) -> int | None:
    row = conn.execute("SELECT user_id FROM tokens WHERE token_hash = ? AND expires_at > ?",
                       (token_hash, now)).fetchone()
    return None if row is None else int(row["user_id"])


def revoke_tokens(conn: sqlite3.Connection, user_id: int, except_hash: str = "") -> None:
    with transaction(conn):
        conn.execute("DELETE FROM tokens WHERE user_id = ? AND token_hash != ?",
                     (user_id, except_hash))


def revoke_token(conn: sqlite3.Connection, token_hash: str) -> None:
    with transaction(conn):
        conn.execute("DELETE FROM tokens WHERE token_hash = ?", (token_hash,))


# Login attempts: a sliding window per key, in the database so every worker sees every attempt.

def over_limit(
    conn: sqlite3.Connection, key: str, now: float, window: int, limit: int, *, record: bool
) -> int | None:
    """Seconds to wait if ``key`` already has ``limit`` attempts within ``window``, else None;
    when under the limit and ``record`` is set, count this attempt (atomically with the check)."""
    with transaction(conn):
        conn.execute("DELETE FROM login_attempts WHERE at <= ?", (now - window,))
        count, oldest = conn.execute(
            "SELECT COUNT(*), MIN(at) FROM login_attempts WHERE key = ? AND at > ?",
            (key, now - window),
        ).fetchone()
        if count >= limit:
            return max(1, math.ceil(oldest + window - now))
        if record:
            conn.execute("INSERT INTO login_attempts (key, at) VALUES (?, ?)", (key, now))
    return None


def forget_attempt(conn: sqlite3.Connection, key: str, now: float) -> None:
    """Take back one attempt recorded at ``now`` (a login that turned out to succeed)."""
    with transaction(conn):
        conn.execute("DELETE FROM login_attempts WHERE rowid = (SELECT rowid FROM login_attempts"
                     " WHERE key = ? AND at = ? LIMIT 1)", (key, now))
