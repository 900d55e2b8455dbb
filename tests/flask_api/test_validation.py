"""Pure checks of bodies and queries (no Flask, no database)."""

from __future__ import annotations

import pytest

from flask_api import validation as v


@pytest.mark.parametrize("name", ["abc", "A_b_9", "x" * 20, "___"])
def test_username_accepted(name: str) -> None:
    assert v.username_problem(name) is None


@pytest.mark.parametrize(
    "name", ["ab", "x" * 21, "has space", "ümlaut", "a-b", "abc\n", "", "１２３"]
)
def test_username_rejected(name: str) -> None:
    assert v.username_problem(name)


@pytest.mark.parametrize("email", ["a@example.com", "first.last+tag@sub.example.org", "x@a-b.io"])
def test_email_accepted(email: str) -> None:
    assert v.email_problem(email) is None


@pytest.mark.parametrize("email", [
    "plain", "@example.com", "a@", "a@localhost", "a@@example.com", "a b@example.com",
    "a@example.com\n", "a@-bad.com", "a..b@example.com", "a@" + "x" * 250 + ".com",
    "x" * 65 + "@example.com", "<script>@example.com", "ü@example.com",
])
def test_email_rejected(email: str) -> None:
    assert v.email_problem(email)


def test_password_counts_bytes_not_characters() -> None:
    assert v.password_problem("a" * 12) is None
    assert v.password_problem("a" * 11)
    assert v.password_problem("a" * 72) is None
    assert v.password_problem("a" * 73)
    assert v.password_problem("密" * 4) is None  # 4 characters, 12 bytes
    assert v.password_problem("密" * 25)  # 25 characters, 75 bytes: over bcrypt's 72
    assert v.password_problem("a" * 20 + "\x00")
    assert v.password_problem("a" * 20 + "\ud800")


def test_user_fields_sorts_malformed_from_invalid() -> None:
    ok = {"username": "alice", "email": "a@example.com", "password": "p" * 12}
    assert v.user_fields(ok, required=v.USER_FIELDS) == ok
    with pytest.raises(v.Malformed):
        v.user_fields(["not", "an", "object"], required=())
    with pytest.raises(v.Malformed):
        v.user_fields({**ok, "username": 5}, required=())
    with pytest.raises(v.Invalid) as info:
        v.user_fields({"username": "a", "extra": 1}, required=v.USER_FIELDS)
    assert set(info.value.fields) == {"username", "email", "password", "extra"}
    assert info.value.fields["email"] == "required"
    assert info.value.fields["extra"] == "unknown field"


def test_parse_json_strict() -> None:
    assert v.parse_json(b'{"a": [1, "\xc3\xa9"]}') == {"a": [1, "é"]}
    for bad in (b"", b"  ", b"{", b"\xff\xfe", b"NaN", b'{"a": Infinity}', b"[" * 100_000):
        with pytest.raises(v.Malformed):
            v.parse_json(bad)


def test_login_fields() -> None:
    assert v.login_fields({"username": "u", "password": "p"}) == ("u", "p")
    with pytest.raises(v.Invalid):
        v.login_fields({"username": "u"})
    with pytest.raises(v.Malformed):
        v.login_fields({"username": "u", "password": 1})
    with pytest.raises(v.Invalid):
        v.login_fields({"username": "u" * 101, "password": "p"})


def test_page_args_bounds() -> None:
    assert v.page_args({}, 100) == (1, 20)
    assert v.page_args({"page": "3", "per_page": "100"}, 100) == (3, 100)
    assert v.page_args({}, 5) == (1, 5)
    for bad in ({"page": "0"}, {"page": "-1"}, {"page": "x"}, {"per_page": "101"},
                {"per_page": ""}, {"page": "1e3"}, {"page": "٣"}, {"page": "9" * 20}):
        with pytest.raises(v.Malformed):
            v.page_args(bad, 100)
