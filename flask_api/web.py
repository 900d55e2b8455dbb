"""What the views share: the request's database connection, the clock, JSON bodies, the caller.

Kept out of the blueprints so each of them reads as routes only.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from flask import current_app, g, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from . import db, security, store
from .errors import ApiError
from .validation import Malformed, parse_json


def conn() -> sqlite3.Connection:
    """This request's connection, opened on first use and closed at teardown."""
    if "db" not in g:
        cfg = current_app.config
        g.db = db.connect(cfg["DATABASE"], cfg["DB_BUSY_TIMEOUT_MS"])
    return g.db


def close_conn(_exc: BaseException | None = None) -> None:
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


def now() -> float:
    return float(current_app.config["CLOCK"]())


def now_iso() -> str:
    return datetime.fromtimestamp(now(), UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def client_address() -> str:
    """The peer address; behind a proxy, put Werkzeug's ProxyFix in front deliberately."""
    return request.remote_addr or "unknown"


def json_body() -> Any:
    """The request body as JSON, or a 400 that says why not."""
    if not request.is_json:
        raise ApiError(400, "expected a JSON body with Content-Type: application/json",
                       error="invalid_json")
    try:
        return parse_json(request.get_data(cache=True))
    except Malformed as exc:
        raise ApiError(400, str(exc), error="invalid_json") from None


def form() -> MultiDict[str, str]:
    """``request.form`` within ``MAX_FORM_PARTS`` fields (413 beyond).

    Werkzeug's ``max_form_parts`` bounds multipart bodies only; urlencoded ones are counted here.
    """
    fields = request.form
    cap = current_app.config.get("MAX_FORM_PARTS")
    if cap and sum(len(values) for _, values in fields.lists()) > cap:
        raise RequestEntityTooLarge(f"more than {cap} form fields")
    return fields


def require_user() -> int:
    """The id of the user whose live bearer token came with the request, or a 401."""
    token = security.bearer(request.headers.get("Authorization"))
    challenge = {"WWW-Authenticate": 'Bearer realm="flask_api"'}
    if token is None:
        raise ApiError(401, "a bearer token is required: POST /api/login first",
                       headers=challenge)
    user_id = store.token_user(conn(), security.token_digest(token), now())
    if user_id is None:
        challenge["WWW-Authenticate"] += ', error="invalid_token"'
        raise ApiError(401, "the bearer token is invalid or expired", headers=challenge)
    g.token_hash = security.token_digest(token)
    return user_id
