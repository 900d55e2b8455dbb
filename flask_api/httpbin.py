"""httpbin-compatible endpoints, so the course's ``requests``/``urllib`` examples run offline.

Same paths and JSON shapes as httpbin.org (``args``, ``headers``, ``origin``, ``url``, ``form``,
``files``, ``json``, ``data``), with every size, count and duration bounded (limits in
``httpbin_util``, overridable by app config ``HTTPBIN_<NAME>``): bad values get a 400 instead of
httpbin's silent clamping or 500, ``/redirect-to`` only goes to local paths, and ``origin`` is the
peer address (X-Forwarded-For is a client-supplied header, so it is not trusted).
docs/protocols/httpbin.md lists every endpoint and where we differ from httpbin.
"""

from __future__ import annotations

import gzip
import threading
import time
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import RequestEntityTooLarge

from . import httpbin_util as u
from .httpbin_pages import HTML_PAGE, SLIDESHOW

bp = Blueprint("httpbin", __name__)

BODY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    """One semaphore per app: how many /delay requests may sleep at once in this process."""
    slots = int(u.limit(state.app.config, "MAX_CONCURRENT_DELAYS"))
    state.app.extensions["httpbin_delay_slots"] = threading.BoundedSemaphore(slots)


def _limit(name: str) -> float:
    return u.limit(current_app.config, name)


@bp.before_request
def _bound_request() -> None:
    """Cap what werkzeug will read of the body, whatever the app-wide setting is."""
    cap = _body_cap()
    # Werkzeug silently truncates a body without Content-Length (chunked) at the limit; one byte
    # of slack lets _body() tell "exactly the limit" from "longer" and answer 413.
    request.max_content_length = cap + 1 if request.content_length is None else cap
    request.max_form_memory_size = cap
    parts = int(_limit("MAX_FORM_PARTS"))
    app_parts = current_app.config.get("MAX_FORM_PARTS")
    request.max_form_parts = min(parts, app_parts) if app_parts else parts


def _body_cap() -> int:
    cap = int(_limit("MAX_BODY_SIZE"))
    app_cap = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(cap, app_cap) if app_cap else cap


def _body() -> bytes:
    """The raw body after form parsing (so ``b""`` for forms); 413 when over the cap."""
    raw = request.get_data(parse_form_data=True)
    if request.content_length is None and getattr(request.stream, "is_exhausted", False):
        raise RequestEntityTooLarge()
    return raw


@bp.errorhandler(u.BadInput)
def _bad_input(exc: u.BadInput) -> Response:
    return _text(str(exc), 400)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Response:
    return _text(f"Request body too large: at most {_body_cap()} bytes", 413)


def _text(body: str, status: int) -> Response:
    return Response(body + "\n", status=status, mimetype="text/plain")


# --- The request as httpbin describes it ---------------------------------------------------------


def _request_dict(*keys: str, **extras: Any) -> dict[str, Any]:
    """httpbin's get_dict: the named parts of the request, then ``extras``."""
    raw = _body()
    parts = {
        "url": lambda: request.url,
        "args": lambda: u.semiflatten(request.args.lists()),
        "form": lambda: u.semiflatten(request.form.lists()),
        "data": lambda: u.json_safe(raw),
        "origin": lambda: request.remote_addr or "",
        "headers": lambda: dict(request.headers.items()),
        "files": _files,
        "json": lambda: u.parse_json(raw),
        "method": lambda: request.method,
    }
    return {**{key: parts[key]() for key in keys}, **extras}


def _files() -> dict[str, Any]:
    out: dict[str, list[str]] = {}
    for field, storages in request.files.lists():
        out[field] = [
            u.json_safe(s.read(), s.content_type or "application/octet-stream") for s in storages
        ]
    return u.semiflatten(out.items())


ECHO = ("url", "args", "form", "data", "origin", "headers", "files", "json")


@bp.route("/get")
def view_get() -> Response:
    return jsonify(_request_dict("url", "args", "headers", "origin"))


@bp.route("/post", methods=["POST"])
@bp.route("/put", methods=["PUT"])
@bp.route("/patch", methods=["PATCH"])
@bp.route("/delete", methods=["DELETE"])
def view_echo() -> Response:
    return jsonify(_request_dict(*ECHO))


@bp.route("/anything", methods=BODY_METHODS)
@bp.route("/anything/<path:anything>", methods=BODY_METHODS)
def view_anything(anything: str | None = None) -> Response:
    return jsonify(_request_dict(*ECHO, "method"))


@bp.route("/headers")
def view_headers() -> Response:
    return jsonify(_request_dict("headers"))


@bp.route("/ip")
def view_ip() -> Response:
    return jsonify(_request_dict("origin"))


@bp.route("/user-agent")
def view_user_agent() -> Response:
    return jsonify({"user-agent": request.headers.get("User-Agent")})


@bp.route("/uuid")
def view_uuid() -> Response:
    return jsonify(uuid=str(uuid.uuid4()))


@bp.route("/json")
def view_json() -> Response:
    return jsonify(SLIDESHOW)


@bp.route("/html")
def view_html() -> Response:
    return Response(HTML_PAGE, mimetype="text/html")


@bp.route("/gzip")
def view_gzip() -> Response:
    response = jsonify(_request_dict("origin", "headers", method=request.method, gzipped=True))
    response.set_data(gzip.compress(response.get_data()))
    response.headers["Content-Encoding"] = "gzip"
    return response


# --- Status codes, delays, bytes -----------------------------------------------------------------


@bp.route("/status/<codes>", methods=BODY_METHODS)
def view_status(codes: str) -> Response:
    choices = u.parse_status_codes(codes, int(_limit("MAX_STATUS_CHOICES")))
    reply = u.status_reply(u.weighted_choice(choices))
    response = Response(reply.body, status=reply.status, mimetype="text/plain")
    response.headers.extend(reply.headers)
    return response


@bp.route("/delay/<delay>", methods=BODY_METHODS)
def view_delay(delay: str) -> Response:
    """Sleep at most MAX_DELAY, holding one of MAX_CONCURRENT_DELAYS slots; 503 when all busy."""
    seconds = u.parse_delay(delay, _limit("MAX_DELAY"))
    slots: threading.BoundedSemaphore = current_app.extensions["httpbin_delay_slots"]
    if not slots.acquire(blocking=False):
        response = _text("Too many delayed requests at once; retry shortly", 503)
        response.headers["Retry-After"] = "1"
        return response
    try:
        time.sleep(seconds)
    finally:
        slots.release()
    return jsonify(_request_dict("url", "args", "form", "data", "origin", "headers", "files"))


@bp.route("/bytes/<int(signed=True):n>")
def view_bytes(n: int) -> Response:
    u.check_range(n, 0, _limit("MAX_BYTES"), "number of bytes")
    seed = u.parse_seed(request.args.get("seed"))
    return Response(u.random_bytes(n, seed), mimetype="application/octet-stream")


# Redirects, cookies, auth and caching live in httpbin_flow; importing it adds them to ``bp``.
from . import httpbin_flow  # noqa: E402, F401
