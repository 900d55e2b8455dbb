"""flask_api: the course's Flask app made real, under gunicorn.

What it teaches beside the course's version: an app factory and blueprints by concern; a users
API with validation, bcrypt password hashes, bearer tokens and status codes that say what
happened; SQLite storage that survives restarts; CSRF on the form and escaping on the page; one
JSON error shape under /api/; an OpenAPI document checked by schemathesis; and httpbin-compatible
endpoints so the course's HTTP client examples run offline.
"""

from .app import create_app

__all__ = ["create_app"]
