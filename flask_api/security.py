"""Passwords, bearer tokens and CSRF tokens: standard library and bcrypt, nothing else.

CSRF uses the signed double-submit pattern: the page puts one token both in a cookie
(``SameSite=Strict``, ``HttpOnly``) and in a hidden form field; a POST must bring both, equal, with
a valid HMAC. Another site can make a browser send the cookie but cannot read it to fill the field.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import bcrypt

CSRF_COOKIE = "csrf_token"
CSRF_FIELD = "csrf_token"


class CsrfMissing(ValueError):
    """No token in the cookie or in the form (HTTP 400)."""


class CsrfInvalid(ValueError):
    """A token is there but wrong: forged, altered or from another browser (HTTP 403)."""


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    raw = password.encode("utf-8", "replace")
    if len(raw) > 72 or b"\x00" in raw:
        # No valid password is like this; still spend a bcrypt check so timing says nothing.
        bcrypt.checkpw(b"x", password_hash.encode("ascii"))
        return False
    return bcrypt.checkpw(raw, password_hash.encode("ascii"))


def bcrypt_cost(password_hash: str) -> int:
    """The cost factor in a ``$2b$NN$...`` hash."""
    return int(password_hash.split("$")[2])


def new_token() -> tuple[str, str]:
    """A bearer token for the client and the SHA-256 hex digest the server keeps."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    return token


def _sign(key: str, nonce: str) -> str:
    return hmac.new(key.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def new_csrf_token(key: str) -> str:
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(key, nonce)}"


def csrf_token_valid(key: str, token: str) -> bool:
    nonce, _, signature = token.partition(".")
    return bool(nonce) and hmac.compare_digest(_sign(key, nonce), signature)


def check_csrf(key: str, cookie: str | None, field: str | None) -> None:
    """Raise ``CsrfMissing`` or ``CsrfInvalid`` unless cookie and field carry one valid token."""
    if not cookie or not field:
        raise CsrfMissing("CSRF token missing: reload the form and submit again")
    if not hmac.compare_digest(cookie.encode(), field.encode()) or not csrf_token_valid(key, field):
        raise CsrfInvalid("CSRF token invalid: reload the form and submit again")
