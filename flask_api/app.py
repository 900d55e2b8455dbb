"""The app factory: configuration, database, blueprints by concern, errors, response headers.

``create_app(config)`` builds a fresh app each call (tests make one per test with their own
database); gunicorn calls ``create_app()`` once per worker with settings from the environment.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from flask import Flask, Response, request

from . import api_auth, api_misc, api_users, db, docs, errors, pages, web
from . import config as settings
from .httpbin import bp as httpbin_bp

# Pages of ours get a strict policy: scripts and styles from this origin only, no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` wins over ``FLASK_API_*`` variables and defaults.

    Besides the keys in ``config.SETTINGS`` it accepts ``CLOCK`` (a callable returning Unix time,
    for tests) and any Flask setting (``TESTING``...).
    """
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cfg = settings.load(config)
    app = Flask(__name__)
    app.config.update(cfg)
    app.config.setdefault("CLOCK", time.time)
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    csrf_key = db.init(app.config["DATABASE"], app.config["DB_BUSY_TIMEOUT_MS"])
    app.config["CSRF_KEY"] = app.config["SECRET_KEY"] or csrf_key
    app.config["SECRET_KEY"] = app.config["CSRF_KEY"]

    for bp in (pages.bp, api_users.bp, api_auth.bp, api_misc.bp, docs.bp, httpbin_bp):
        app.register_blueprint(bp)
    errors.install(app)
    app.teardown_appcontext(web.close_conn)

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.blueprint != "httpbin":
            resp.headers.setdefault("Referrer-Policy", "no-referrer")
            if resp.mimetype == "text/html":
                resp.headers.setdefault("Content-Security-Policy", CSP)
                resp.headers.setdefault("X-Frame-Options", "DENY")
        if resp.status_code == 204:
            resp.headers.pop("Content-Type", None)
        return resp

    return app
