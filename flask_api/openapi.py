"""The OpenAPI 3.1 document of every ``/api/`` route, written by hand as data.

Hand-written so it states the contract (limits, every status a route can answer) rather than
what a generator infers; schemathesis checks the running app against it in the tests.
"""

from __future__ import annotations

from typing import Any

from .validation import EMAIL_MAX, PASSWORD_MAX_BYTES, PASSWORD_MIN_BYTES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    400: "malformed request: not JSON, not an object, a field of the wrong type, a bad query",
    401: "no bearer token, or an invalid or expired one",
    403: "the token belongs to another user",
    404: "no such user (or no such route)",
    409: "username or email already taken",
    413: "request body over the size limit",
    415: "unsupported Content-Type",
    422: "fields break a rule; `fields` says which and why",
    429: "too many login attempts; see Retry-After",
    507: "the server's user limit is reached",
}


def _errors(*codes: int) -> dict[str, Any]:
    out = {}
    for code in codes:
        out[str(code)] = _json(_ref("Error"), _ERRORS[code])
        if code == 429:
            out[str(code)]["headers"] = {
                "Retry-After": {"required": True, "schema": {"type": "string"},
                                "description": "seconds to wait"}}
    return out


_USERNAME = {"type": "string", "pattern": "^[A-Za-z0-9_]{3,20}$",
             "description": "3 to 20 of A-Z, a-z, 0-9 and _; unique, case-insensitively"}
_EMAIL = {"type": "string", "format": "email", "maxLength": EMAIL_MAX,
          "description": "unique, case-insensitively"}
_PASSWORD = {"type": "string", "minLength": PASSWORD_MIN_BYTES, "maxLength": PASSWORD_MAX_BYTES,
             "writeOnly": True,
             "description": f"{PASSWORD_MIN_BYTES} to {PASSWORD_MAX_BYTES} bytes in UTF-8, no NUL; "
                            "stored only as a bcrypt hash"}


def _user_body(required: list[str], description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"username": _USERNAME, "email": _EMAIL, "password": _PASSWORD},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return {"required": True, "description": description,
            "content": {"application/json": {"schema": schema}}}


_USER_ID = {"name": "user_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}, "example": 1}
_BEARER = [{"bearerAuth": []}]

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message", "request_id"],
        "properties": {
            "error": {"type": "string", "description": "short machine-readable code"},
            "message": {"type": "string"},
            "request_id": {"type": "string", "description": "also the X-Request-ID header"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "User": {
        "type": "object",
        "required": ["id", "username", "email", "created_at", "updated_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "username": {"type": "string"},
            "email": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "UserList": {
        "type": "object",
        "required": ["users", "page", "per_page", "total", "pages"],
        "properties": {
            "users": {"type": "array", "items": _ref("User")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0},
        },
    },
    "Token": {
        "type": "object",
        "required": ["token", "token_type", "expires_in", "user_id"],
        "properties": {
            "token": {"type": "string"},
            "token_type": {"const": "Bearer"},
            "expires_in": {"type": "integer", "description": "seconds"},
            "user_id": {"type": "integer"},
        },
    },
}


def build(per_page_max: int = 100, max_body: int = 1024 * 1024) -> dict[str, Any]:
    """The document, with this server's configured limits filled in."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "netlab flask_api",
            "version": "1.0.0",
            "description": f"The course's Flask app and users API. Bodies over {max_body} bytes "
                           "get 413. Every error under /api/ is an Error object.",
        },
        "paths": {
            "/api/data": {"get": {
                "summary": "A greeting and the server time (course route)",
                "responses": {"200": _json({
                    "type": "object", "required": ["message", "status", "timestamp"],
                    "properties": {"message": {"type": "string"}, "status": {"type": "string"},
                                   "timestamp": {"type": "string"}}}, "greeting")},
            }},
            "/api/submit": {"post": {
                "summary": "A form (or JSON object) in, a greeting and the fields out",
                "requestBody": {"required": False, "content": {
                    "application/x-www-form-urlencoded": {"schema": {
                        "type": "object", "properties": {"name": {"type": "string"}},
                        "additionalProperties": {"type": "string"}}},
                    "application/json": {"schema": {
                        "type": "object", "properties": {"name": {"type": "string"}}}},
                }},
                "responses": {"200": _json({
                    "type": "object", "required": ["message", "status", "received_data"],
                    "properties": {"message": {"type": "string"}, "status": {"type": "string"},
                                   "received_data": {"type": "object"}}}, "greeting"),
                    **_errors(400, 413, 415)},
            }},
            "/api/echo": {"post": {
                "summary": "Any JSON value back, with the server time",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
                "responses": {"200": _json({
                    "type": "object", "required": ["received", "timestamp"],
                    "properties": {"received": {}, "timestamp": {"type": "number"}}}, "echo"),
                    **_errors(400, 413)},
            }},
            "/api/users": {
                "post": {
                    "summary": "Register a user",
                    "requestBody": _user_body(["username", "email", "password"], "a new user"),
                    "responses": {
                        "201": {**_json(_ref("User"), "created"), "headers": {
                            "Location": {"required": True, "schema": {"type": "string"}}}},
                        **_errors(400, 409, 413, 422, 507)},
                },
                "get": {
                    "summary": "List users, a page at a time, in id order",
                    "parameters": [
                        {"name": "page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 10**9,
                                    "default": 1}},
                        {"name": "per_page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": per_page_max,
                                    "default": min(20, per_page_max)}},
                    ],
                    "responses": {"200": _json(_ref("UserList"), "one page"), **_errors(400)},
                },
            },
            "/api/users/{user_id}": {
                "parameters": [_USER_ID],
                "get": {"summary": "One user",
                        "responses": {"200": _json(_ref("User"), "the user"), **_errors(404)}},
                "put": {"summary": "Replace username and email (and the password if given)",
                        "security": _BEARER,
                        "requestBody": _user_body(["username", "email"], "the new fields"),
                        "responses": {"200": _json(_ref("User"), "updated"),
                                      **_errors(400, 401, 403, 404, 409, 413, 422)}},
                "patch": {"summary": "Change some of username, email, password",
                          "security": _BEARER,
                          "requestBody": _user_body([], "the fields to change"),
                          "responses": {"200": _json(_ref("User"), "updated"),
                                        **_errors(400, 401, 403, 404, 409, 413, 422)}},
                "delete": {"summary": "Delete the user (and all its tokens)",
                           "security": _BEARER,
                           "responses": {"204": {"description": "deleted"},
                                         **_errors(401, 403, 404)}},
            },
            "/api/login": {"post": {
                "summary": "Exchange username and password for a bearer token",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["username", "password"],
                    "properties": {"username": {"type": "string", "maxLength": 100},
                                   "password": {"type": "string"}}}}}},
                "responses": {"200": _json(_ref("Token"), "a new token"),
                              **_errors(400, 401, 413, 422, 429)},
            }},
            "/api/logout": {"post": {
                "summary": "Revoke the bearer token sent",
                "security": _BEARER,
                "responses": {"204": {"description": "revoked"}, **_errors(401)},
            }},
        },
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def routes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """A flat list of operations for the docs page."""
    out = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            out.append({"method": method.upper(), "path": path, "summary": op["summary"],
                        "auth": bool(op.get("security")),
                        "statuses": sorted(op["responses"])})
    return out
