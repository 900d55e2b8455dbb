"""Passwords, tokens and CSRF tokens (pure, no Flask)."""

from __future__ import annotations

import pytest

from flask_api import security


def test_password_hash_is_bcrypt_with_the_cost_asked_and_verifies() -> None:
    digest = security.hash_password("correct horse battery", 4)
    assert digest.startswith("$2b$04$")
    assert security.bcrypt_cost(digest) == 4
    assert security.check_password("correct horse battery", digest)
    assert not security.check_password("correct horse batterY", digest)
    assert not security.check_password("x" * 100, digest)  # too long: refused, not truncated
    assert not security.check_password("correct\x00horse", digest)


def test_tokens_are_random_and_only_their_digest_is_kept() -> None:
    token, digest = security.new_token()
    other, _ = security.new_token()
    assert token != other and len(token) >= 40
    assert digest == security.token_digest(token) and token not in digest and len(digest) == 64


@pytest.mark.parametrize(("header", "expected"), [
    ("Bearer abc", "abc"), ("bearer  abc ", "abc"), (None, None), ("", None), ("Basic abc", None),
    ("Bearer", None), ("Bearer ", None), ("Bearer " + "x" * 201, None),
])
def test_bearer_header(header: str | None, expected: str | None) -> None:
    assert security.bearer(header) == expected


def test_csrf_double_submit() -> None:
    key = "k" * 64
    token = security.new_csrf_token(key)
    security.check_csrf(key, token, token)
    with pytest.raises(security.CsrfMissing):
        security.check_csrf(key, None, token)
    with pytest.raises(security.CsrfMissing):
        security.check_csrf(key, token, "")
    with pytest.raises(security.CsrfInvalid):  # another browser's valid token
        security.check_csrf(key, token, security.new_csrf_token(key))
    forged = token.split(".")[0] + "." + "0" * 64
    with pytest.raises(security.CsrfInvalid):  # cookie and field agree but nobody signed them
        security.check_csrf(key, forged, forged)
    with pytest.raises(security.CsrfInvalid):  # signed with another server's key
        security.check_csrf("other", token, token)
    assert not security.csrf_token_valid(key, "no-dot")
