"""The users API through Flask's test client: lifecycle, every auth failure, validation, limits."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_api import create_app, security

from .conftest import PASSWORD, FakeClock, auth

NewUser = Callable[..., dict[str, Any]]


def _body(username: str = "alice", **extra: Any) -> dict[str, Any]:
    return {"username": username, "email": f"{username}@example.com", "password": PASSWORD,
            **extra}


def test_full_lifecycle(client: FlaskClient) -> None:
    created = client.post("/api/users", json=_body())
    assert created.status_code == 201
    user = created.json
    assert set(user) == {"id", "username", "email", "created_at", "updated_at"}
    assert created.headers["Location"] == f"/api/users/{user['id']}"

    assert client.get(f"/api/users/{user['id']}").json == user
    assert user in client.get("/api/users").json["users"]

    login = client.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert login.status_code == 200
    token = login.json["token"]
    assert login.json["token_type"] == "Bearer" and login.json["user_id"] == user["id"]

    patched = client.patch(f"/api/users/{user['id']}", json={"email": "new@example.com"},
                           headers=auth(token))
    assert patched.status_code == 200
    assert patched.json["email"] == "new@example.com" and patched.json["username"] == "alice"

    replaced = client.put(f"/api/users/{user['id']}",
                          json={"username": "alice2", "email": "a2@example.com"},
                          headers=auth(token))
    assert replaced.status_code == 200
    assert (replaced.json["username"], replaced.json["email"]) == ("alice2", "a2@example.com")

    deleted = client.delete(f"/api/users/{user['id']}", headers=auth(token))
    assert deleted.status_code == 204 and deleted.data == b""
    assert "Content-Type" not in deleted.headers
    assert client.get(f"/api/users/{user['id']}").status_code == 404
    # the token died with its user
    assert client.delete(f"/api/users/{user['id']}", headers=auth(token)).status_code == 401


def test_password_is_never_returned_and_stored_as_bcrypt(app: Flask, client: FlaskClient) -> None:
    responses = [client.post("/api/users", json=_body())]
    uid = responses[0].json["id"]
    responses.append(client.get("/api/users"))
    responses.append(client.get(f"/api/users/{uid}"))
    token = client.post("/api/login", json={"username": "alice", "password": PASSWORD}).json
    responses.append(client.patch(f"/api/users/{uid}", json={"password": "another long pw"},
                                  headers=auth(token["token"])))
    for resp in responses:
        assert PASSWORD.encode() not in resp.data and b"another long pw" not in resp.data
        assert b"password" not in resp.data and b"$2b$" not in resp.data
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        (digest,) = conn.execute("SELECT password_hash FROM users WHERE id = ?", (uid,)).fetchone()
    assert digest.startswith("$2b$04$") and security.check_password("another long pw", digest)


def test_default_config_uses_bcrypt_cost_12(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLASK_API_BCRYPT_ROUNDS", raising=False)
    app = create_app({"DATABASE": str(tmp_path / "d.db")})
    assert app.config["BCRYPT_ROUNDS"] >= 12
    client = app.test_client()
    assert client.post("/api/users", json=_body()).status_code == 201
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        (digest,) = conn.execute("SELECT password_hash FROM users").fetchone()
    assert digest.startswith("$2b$") and security.bcrypt_cost(digest) >= 12


@pytest.mark.parametrize("bad", [
    {"username": "ab"}, {"username": "bad name"}, {"username": "x" * 21},
    {"email": "not-an-email"}, {"email": "a@b"}, {"password": "short"},
    {"password": "密" * 25}, {"password": "x" * 73}, {"password": "x" * 20 + "\x00"},
    {"role": "admin"},
])
def test_invalid_fields_are_422_with_details(client: FlaskClient, bad: dict[str, str]) -> None:
    resp = client.post("/api/users", json={**_body(), **bad})
    assert resp.status_code == 422
    assert resp.json["error"] == "validation_failed"
    assert set(resp.json["fields"]) == set(bad)


def test_missing_fields_are_422(client: FlaskClient) -> None:
    resp = client.post("/api/users", json={"username": "alice"})
    assert resp.status_code == 422
    assert resp.json["fields"] == {"email": "required", "password": "required"}


@pytest.mark.parametrize(("data", "content_type"), [
    (b'{"username": "alice"', "application/json"),
    (b"[1, 2]", "application/json"),
    (b'{"username": 5, "email": "a@example.com", "password": "xxxxxxxxxxxxxxx"}',
     "application/json"),
    (b"username=alice", "application/x-www-form-urlencoded"),
    (b"\xff\xfe", "application/json"),
    (b"", "application/json"),
])
def test_malformed_bodies_are_400(client: FlaskClient, data: bytes, content_type: str) -> None:
    resp = client.post("/api/users", data=data, content_type=content_type)
    assert resp.status_code == 400
    assert set(resp.json) == {"error", "message", "request_id"}


def test_duplicates_are_409_case_insensitive(client: FlaskClient) -> None:
    assert client.post("/api/users", json=_body()).status_code == 201
    dup = client.post("/api/users", json={**_body(), "username": "ALICE",
                                          "email": "other@example.com"})
    assert dup.status_code == 409 and dup.json["fields"] == {"username": "already taken"}
    dup = client.post("/api/users", json={**_body("bob"), "email": "Alice@Example.com"})
    assert dup.status_code == 409 and dup.json["fields"] == {"email": "already taken"}


def test_update_to_a_taken_name_is_409(client: FlaskClient, new_user: NewUser) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    resp = client.patch(f"/api/users/{bob['id']}", json={"username": "Alice"},
                        headers=auth(bob["token"]))
    assert resp.status_code == 409
    assert client.get(f"/api/users/{alice['id']}").json["username"] == "alice"


def test_every_auth_failure(client: FlaskClient, new_user: NewUser, clock: FakeClock) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    url = f"/api/users/{alice['id']}"
    for method in ("put", "patch", "delete"):
        call = getattr(client, method)
        body = {"json": {"username": "zed", "email": "z@example.com"}}
        none = call(url, **body)
        assert none.status_code == 401 and none.json["error"] == "unauthorized"
        assert none.headers["WWW-Authenticate"].startswith("Bearer")
        assert call(url, headers=auth("not-a-token"), **body).status_code == 401
        assert call(url, headers={"Authorization": f"Basic {alice['token']}"},
                    **body).status_code == 401
        other = call(url, headers=auth(bob["token"]), **body)
        assert other.status_code == 403 and other.json["error"] == "forbidden"
    # 403 for another user's id even if it does not exist: no probing for ids with a token
    assert client.delete("/api/users/999", headers=auth(bob["token"])).status_code == 403
    # tokens expire
    clock.advance(3601)
    assert client.patch(url, json={}, headers=auth(alice["token"])).status_code == 401
    assert client.get(url).json["username"] == "alice"


def test_wrong_password_is_401_and_unknown_user_looks_the_same(client: FlaskClient,
                                                                new_user: NewUser) -> None:
    new_user("alice")
    wrong = client.post("/api/login", json={"username": "alice", "password": "wrong password!"})
    nobody = client.post("/api/login", json={"username": "nobody", "password": "wrong password!"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json["message"] == nobody.json["message"]
    assert client.post("/api/login", json={"username": "alice"}).status_code == 422
    assert client.post("/api/login", data="x", content_type="text/plain").status_code == 400


def test_password_change_revokes_other_tokens(client: FlaskClient, new_user: NewUser) -> None:
    alice = new_user("alice")
    second = client.post("/api/login", json={"username": "alice", "password": PASSWORD}).json
    resp = client.patch(f"/api/users/{alice['id']}", json={"password": "a brand new password"},
                        headers=auth(alice["token"]))
    assert resp.status_code == 200
    assert client.patch(f"/api/users/{alice['id']}", json={},
                        headers=auth(second["token"])).status_code == 401
    assert client.patch(f"/api/users/{alice['id']}", json={},
                        headers=auth(alice["token"])).status_code == 200
    old = client.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert old.status_code == 401
    new = client.post("/api/login", json={"username": "alice", "password": "a brand new password"})
    assert new.status_code == 200


def test_put_requires_username_and_email(client: FlaskClient, new_user: NewUser) -> None:
    alice = new_user("alice")
    resp = client.put(f"/api/users/{alice['id']}", json={"username": "alice"},
                      headers=auth(alice["token"]))
    assert resp.status_code == 422 and resp.json["fields"] == {"email": "required"}


def test_logout_revokes_that_token(client: FlaskClient, new_user: NewUser) -> None:
    alice = new_user("alice")
    assert client.post("/api/logout", headers=auth(alice["token"])).status_code == 204
    assert client.post("/api/logout", headers=auth(alice["token"])).status_code == 401


def test_login_limit_per_account(make_app: Callable[..., Flask], clock: FakeClock) -> None:
    client = make_app(LOGIN_MAX_FAILURES=3, LOGIN_WINDOW=60).test_client()
    client.post("/api/users", json=_body())
    for _ in range(3):
        resp = client.post("/api/login", json={"username": "alice", "password": "wrong guess!"},
                           environ_base={"REMOTE_ADDR": f"10.0.0.{_}"})
        assert resp.status_code == 401
    # from yet another address, even with the right password: the account is locked for now
    blocked = client.post("/api/login", json={"username": "ALICE", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert blocked.status_code == 429 and blocked.json["error"] == "too_many_requests"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    other = client.post("/api/users", json=_body("bob"))
    assert other.status_code == 201
    assert client.post("/api/login", json={"username": "bob", "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    clock.advance(61)
    assert client.post("/api/login", json={"username": "alice", "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_login_limit_per_client(make_app: Callable[..., Flask], clock: FakeClock) -> None:
    client = make_app(LOGIN_MAX_PER_CLIENT=4, LOGIN_WINDOW=60).test_client()
    client.post("/api/users", json=_body())
    for _ in range(4):
        ok = client.post("/api/login", json={"username": "alice", "password": PASSWORD})
        assert ok.status_code == 200
    blocked = client.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429
    elsewhere = client.post("/api/login", json={"username": "alice", "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert elsewhere.status_code == 200
    clock.advance(60)
    assert client.post("/api/login",
                       json={"username": "alice", "password": PASSWORD}).status_code == 200


def test_login_failure_limit_holds_under_concurrency(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parallel guesses (gunicorn threads, many addresses) must not all pass the check first."""
    app = make_app(LOGIN_MAX_FAILURES=3, LOGIN_WINDOW=60)
    app.test_client().post("/api/users", json=_body())
    tries = 8
    checked: list[int] = []
    arrived = threading.Condition()
    real_check = security.check_password

    def slow_check(password: str, password_hash: str) -> bool:
        # Hold every guess inside the bcrypt check until all have arrived (or 2 s passed).
        with arrived:
            checked.append(1)
            arrived.notify_all()
            arrived.wait_for(lambda: len(checked) >= tries, timeout=2)
        return real_check(password, password_hash)

    monkeypatch.setattr(security, "check_password", slow_check)
    statuses: list[int] = []

    def guess(i: int) -> None:
        resp = app.test_client().post("/api/login",
                                      json={"username": "alice", "password": "wrong guess!"},
                                      environ_base={"REMOTE_ADDR": f"10.9.0.{i}"})
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) <= 3
    assert sorted(statuses) == [401] * 3 + [429] * (tries - 3)


def test_limits_are_shared_between_app_instances(make_app: Callable[..., Flask]) -> None:
    """Two apps on one database stand for two gunicorn workers: attempts add up."""
    one = make_app(LOGIN_MAX_FAILURES=2).test_client()
    two = make_app(LOGIN_MAX_FAILURES=2).test_client()
    one.post("/api/users", json=_body())
    wrong = {"username": "alice", "password": "wrong guess!"}
    assert one.post("/api/login", json=wrong).status_code == 401
    assert two.post("/api/login", json=wrong).status_code == 401
    assert one.post("/api/login", json=wrong).status_code == 429


def test_pagination(client: FlaskClient, app: Flask) -> None:
    for i in range(7):
        assert client.post("/api/users", json=_body(f"user_{i}")).status_code == 201
    page = client.get("/api/users?page=2&per_page=3").json
    assert (page["page"], page["per_page"], page["total"], page["pages"]) == (2, 3, 7, 3)
    assert [u["username"] for u in page["users"]] == ["user_3", "user_4", "user_5"]
    assert client.get("/api/users?page=9&per_page=3").json["users"] == []
    assert len(client.get("/api/users").json["users"]) == 7
    too_many = client.get(f"/api/users?per_page={app.config['PER_PAGE_MAX'] + 1}")
    assert too_many.status_code == 400 and too_many.json["error"] == "invalid_query"
    assert client.get("/api/users?page=0").status_code == 400
    assert client.get("/api/users?page=abc").status_code == 400


def test_user_limit_is_507(make_app: Callable[..., Flask]) -> None:
    client = make_app(MAX_USERS=1).test_client()
    assert client.post("/api/users", json=_body("one")).status_code == 201
    full = client.post("/api/users", json=_body("two"))
    assert full.status_code == 507 and full.json["error"] == "user_limit"


def test_ids_out_of_range_are_404_not_500(client: FlaskClient) -> None:
    for path in ("/api/users/0", "/api/users/9223372036854775807",
                 "/api/users/9223372036854775808", "/api/users/-1", "/api/users/abc"):
        resp = client.get(path)
        assert resp.status_code == 404 and resp.json["error"] == "not_found", path
