"""The OpenAPI document covers every /api/ route the app has, with the methods it has."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient


def _app_operations(app: Flask) -> set[tuple[str, str]]:
    ops = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                ops.add((method.lower(), path))
    return ops


def test_spec_describes_every_api_route(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    documented = {(m, p) for p, item in spec["paths"].items() for m in item if m != "parameters"}
    assert documented == _app_operations(app)


def test_every_operation_documents_its_errors_with_the_error_schema(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op["summary"] and op["responses"], (method, path)
            for status, resp in op["responses"].items():
                if status.startswith("4") or status.startswith("5"):
                    schema = resp["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
            if op.get("security"):
                assert "401" in op["responses"], (method, path)
                assert "403" in op["responses"] or path == "/api/logout", (method, path)


def test_limits_in_spec_follow_config(make_app: object) -> None:
    app = make_app(PER_PAGE_MAX=7)  # type: ignore[operator]
    spec = app.test_client().get("/openapi.json").json
    params = spec["paths"]["/api/users"]["get"]["parameters"]
    assert {p["name"]: p["schema"]["maximum"] for p in params}["per_page"] == 7
