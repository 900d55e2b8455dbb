"""One error shape for the API, HTML pages for the rest, and never a stack trace to a client.

Under ``/api/`` every error, including Werkzeug's own 404/405/413 and any unexpected exception
(500), is ``{"error": code, "message": text, "request_id": id}``; ``request_id`` is also the
``X-Request-ID`` response header and appears in the server log line, so a report can be traced.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("flask_api")

_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 414: "uri_too_long",
    415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
    431: "headers_too_large", 500: "internal_error", 503: "unavailable", 507: "user_limit",
}


class ApiError(Exception):
    """Raised by a view to answer with the API's error shape."""

    def __init__(self, status: int, message: str, *, error: str | None = None,
                 fields: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error or CODES.get(status, "error")
        self.fields = fields
        self.headers = headers or {}


def request_id() -> str:
    rid = g.get("request_id")
    if rid is None:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_id = rid
    return rid


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/openapi.json"


def api_error(status: int, error: str, message: str, fields: dict[str, str] | None = None,
              headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error": error, "message": message, "request_id": request_id()}
    if fields:
        body["fields"] = fields
    resp = jsonify(body)
    resp.status_code = status
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def _html_error(status: int, title: str, message: str) -> Response:
    html = render_template("error.html", status=status, title=title, message=message,
                           request_id=request_id())
    return Response(html, status=status, mimetype="text/html")


def install(app: Flask) -> None:
    @app.before_request
    def _assign_id() -> None:
        request_id()

    @app.after_request
    def _echo_id(resp: Response) -> Response:
        resp.headers.setdefault("X-Request-ID", request_id())
        return resp

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return api_error(exc.status, exc.error, exc.message, exc.fields, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        # Keep Werkzeug's meaningful headers (Allow on 405, Retry-After...), not its HTML type.
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        description = exc.description or exc.name
        if status == 413:
            limit = request.max_content_length or app.config.get("MAX_CONTENT_LENGTH")
            description = f"the request body is over the limit of {limit} bytes"
        if wants_json():
            return api_error(status, CODES.get(status, "error"), description, headers=headers)
        resp = _html_error(status, exc.name, description)
        resp.headers.update(headers)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error in %s %s [request_id=%s]", request.method, request.path,
                      request_id())
        message = "the server failed to handle this request; quote the request_id when reporting"
        if wants_json():
            return api_error(500, "internal_error", message)
        return _html_error(500, "Internal Server Error", message)
