"""The course's small routes (``/api/data``, ``/api/submit``, ``/api/echo``) and ``/healthz``.

Same paths and spirit as the course's Flask app, with bodies checked: a malformed one is a 400
with the API's error shape, not a 500 from ``request.get_json()`` returning None.
"""

from __future__ import annotations

import logging
import sqlite3

from flask import Blueprint, Response, jsonify, request

from . import web
from .errors import ApiError

bp = Blueprint("misc", __name__)
log = logging.getLogger("flask_api")

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@bp.get("/api/data")
def data() -> Response:
    return jsonify(message="Hello, World!", status="success", timestamp=web.now_iso())


@bp.post("/api/submit")
def submit() -> Response:
    """A form (or a JSON object) in, a greeting and the fields received out."""
    if request.is_json:
        received = web.json_body()
        if not isinstance(received, dict):
            raise ApiError(400, "expected a JSON object", error="invalid_json")
    elif request.mimetype in FORM_TYPES or (not request.mimetype and not request.content_length):
        received = web.form().to_dict()
    else:
        raise ApiError(415, "send a form (application/x-www-form-urlencoded or "
                            "multipart/form-data) or a JSON object")
    name = received.get("name", "")
    if not isinstance(name, str):
        raise ApiError(400, "name must be a string")
    return jsonify(message=f"Hello, {name}!", status="success", received_data=received)


@bp.post("/api/echo")
def echo() -> Response:
    """Any JSON value back, as the course's echo route, with the server's time."""
    return jsonify(received=web.json_body(), timestamp=web.now())


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the app answers and its database can be read (compose's healthcheck)."""
    try:
        web.conn().execute("SELECT COUNT(*) FROM users").fetchone()
    except sqlite3.Error as exc:
        log.error("health check: database unavailable: %s", exc)
        return jsonify(status="unavailable", database="error"), 503
    return jsonify(status="ok", database="ok"), 200
