"""Login and logout: a random bearer token, kept hashed and expiring, and brute-force limits.

Two sliding windows, both in SQLite so every gunicorn worker counts the same attempts: every
attempt from one client address (each costs a bcrypt check, so this also bounds CPU per client),
and failed attempts against one account (so a password cannot be guessed from many addresses).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify

from . import security, store, web
from .errors import ApiError
from .validation import Invalid, Malformed, login_fields

bp = Blueprint("auth", __name__, url_prefix="/api")


def _dummy_hash() -> str:
    """A hash to check unknown usernames against, so they take as long as wrong passwords."""
    ext = current_app.extensions.setdefault("flask_api", {})
    if "dummy_hash" not in ext:
        ext["dummy_hash"] = security.hash_password("not-a-real-password",
                                                   current_app.config["BCRYPT_ROUNDS"])
    return str(ext["dummy_hash"])


def _too_many(retry_after: int, what: str) -> ApiError:
    return ApiError(429, f"too many login attempts {what}; retry in {retry_after} s",
                    headers={"Retry-After": str(retry_after)})


@bp.post("/login")
def login() -> Response:
    try:
        username, password = login_fields(web.json_body())
    except Malformed as exc:
        raise ApiError(400, str(exc)) from None
    except Invalid as exc:
        raise ApiError(422, "some fields are invalid", fields=exc.fields) from None

    cfg = current_app.config
    conn, now, window = web.conn(), web.now(), cfg["LOGIN_WINDOW"]
    account_key = f"account:{username.lower()}"
    wait = store.over_limit(conn, f"client:{web.client_address()}", now, window,
                            cfg["LOGIN_MAX_PER_CLIENT"], record=True)
    if wait is not None:
        raise _too_many(wait, "from this address")
    # Count the attempt as a failure before the slow check (atomically with the limit check),
    # so parallel guesses cannot all pass the check first; a success takes it back.
    wait = store.over_limit(conn, account_key, now, window, cfg["LOGIN_MAX_FAILURES"],
                            record=True)
    if wait is not None:
        raise _too_many(wait, "for this account")

    found = store.credentials(conn, username)
    ok = security.check_password(password, found[1] if found else _dummy_hash())
    if not found or not ok:
        raise ApiError(401, "wrong username or password", error="invalid_credentials",
                       headers={"WWW-Authenticate": 'Bearer realm="flask_api"'})

    store.forget_attempt(conn, account_key, now)
    user_id = found[0]
    token, digest = security.new_token()
    store.issue_token(conn, user_id, digest, now, cfg["TOKEN_TTL"], cfg["MAX_TOKENS_PER_USER"])
    return jsonify(token=token, token_type="Bearer", expires_in=cfg["TOKEN_TTL"], user_id=user_id)


@bp.post("/logout")
def logout() -> tuple[str, int]:
    """End the session of the token sent (the user's other tokens stay valid)."""
    web.require_user()
    store.revoke_token(web.conn(), g.token_hash)
    return "", 204
