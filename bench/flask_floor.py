"""REFERENCE for bench/http_servers.py, not a lab service: the least a Flask app can do for
``GET /api/data`` (no request id, no security headers, no blueprints), served by gunicorn with
flask_api's own settings, so the benchmark can say how much of Flask-under-gunicorn's ceiling on
this machine flask_api reaches.
"""

from __future__ import annotations

import time

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/api/data")
def data() -> Response:
    return jsonify(message="Hello, World!", status="success", timestamp=time.time())
