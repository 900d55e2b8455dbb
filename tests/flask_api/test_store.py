"""The SQLite layer directly: schema, uniqueness, tokens and the sliding window of attempts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from flask_api import db, store


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    path = str(tmp_path / "sub" / "users.db")
    db.init(path, 1000)
    connection = db.connect(path, 1000)
    yield connection
    connection.close()


def test_init_is_idempotent_keeps_the_key_and_uses_wal(tmp_path: Path) -> None:
    path = str(tmp_path / "users.db")
    key = db.init(path, 1000)
    assert db.init(path, 1000) == key and len(key) == 64
    connection = db.connect(path, 1000)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    connection.close()


def test_conflicts_are_case_insensitive_and_name_the_field(conn: sqlite3.Connection) -> None:
    store.create_user(conn, "alice", "a@example.com", "h", "t", 10)
    with pytest.raises(store.Conflict) as info:
        store.create_user(conn, "ALICE", "other@example.com", "h", "t", 10)
    assert info.value.fields == ["username"]
    with pytest.raises(store.Conflict) as info:
        store.create_user(conn, "ALICE", "A@EXAMPLE.COM", "h", "t", 10)
    assert info.value.fields == ["username", "email"]
    bob = store.create_user(conn, "bob", "b@example.com", "h", "t", 10)
    with pytest.raises(store.Conflict):
        store.update_user(conn, bob["id"], {"email": "a@example.com"}, "t2")
    # a user may "change" to its own values
    assert store.update_user(conn, bob["id"], {"username": "BOB"}, "t2")["username"] == "BOB"


def test_max_users(conn: sqlite3.Connection) -> None:
    store.create_user(conn, "one", "1@example.com", "h", "t", 1)
    with pytest.raises(store.Full):
        store.create_user(conn, "two", "2@example.com", "h", "t", 1)


def test_public_rows_never_carry_the_hash(conn: sqlite3.Connection) -> None:
    user = store.create_user(conn, "alice", "a@example.com", "secret-hash", "t", 10)
    assert "password_hash" not in user
    users, total = store.list_users(conn, 1, 10)
    assert total == 1 and "password_hash" not in users[0]
    assert store.credentials(conn, "Alice") == (user["id"], "secret-hash")


def test_tokens_expire_and_are_capped_per_user(conn: sqlite3.Connection) -> None:
    uid = store.create_user(conn, "alice", "a@example.com", "h", "t", 10)["id"]
    store.issue_token(conn, uid, "t1", now=100.0, ttl=60, keep=2)
    assert store.token_user(conn, "t1", 159.0) == uid
    assert store.token_user(conn, "t1", 160.0) is None
    store.issue_token(conn, uid, "t2", now=101.0, ttl=60, keep=2)
    store.issue_token(conn, uid, "t3", now=102.0, ttl=60, keep=2)
    assert store.token_user(conn, "t1", 103.0) is None  # the oldest went
    assert store.token_user(conn, "t3", 103.0) == uid
    store.delete_user(conn, uid)
    assert store.token_user(conn, "t3", 103.0) is None  # cascade


def test_sliding_window(conn: sqlite3.Connection) -> None:
    for i in range(3):
        assert store.over_limit(conn, "k", 1000.0 + i, 60, 3, record=True) is None
    assert store.over_limit(conn, "k", 1010.0, 60, 3, record=True) == 50  # oldest + 60 - now
    assert store.over_limit(conn, "other", 1010.0, 60, 3, record=True) is None
    assert store.over_limit(conn, "k", 1060.5, 60, 3, record=True) is None  # first one slid out
    assert store.over_limit(conn, "k", 1060.7, 60, 3, record=False) == 1  # 1001, 1002, 1060.5
    assert store.over_limit(conn, "k", 1061.0, 60, 3, record=False) is None  # 1001 slid out
