"""``/openapi.json`` and ``/docs``: the API described for machines and for people.

The docs page renders the route table from the same document, on the server, with no scripts
or CDN assets, so it works offline and cannot drift from ``/openapi.json``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from . import openapi

bp = Blueprint("docs", __name__)


def _spec() -> dict:
    cfg = current_app.config
    return openapi.build(cfg["PER_PAGE_MAX"], cfg["MAX_CONTENT_LENGTH"])


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(_spec())


@bp.get("/docs")
def docs_page() -> str:
    spec = _spec()
    return render_template("docs.html", spec=spec, routes=openapi.routes(spec))
