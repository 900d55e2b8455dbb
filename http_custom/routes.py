"""The application: a Request value in, a Response value out, no sockets.

Routes are small functions in a table keyed by path and method. HEAD is answered for every GET
route (the transport drops the body), other methods get 405 with ``Allow``, unknown paths 404.
Nothing here ever redirects, so no crafted path (``//evil.example``) can become an open redirect.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from http_custom import pages
from http_custom.protocol import Limits, Request, Response
from http_custom.static import DEFAULT_DIR, PREFIX, StaticFiles

Handler = Callable[["App", Request], Response]
FORM = "application/x-www-form-urlencoded"


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def media_type(request: Request) -> str:
    value = request.headers.get("Content-Type") or ""
    return value.split(";", 1)[0].strip().lower()


def charset_ok(request: Request) -> bool:
    """Bodies are read as UTF-8; a declared charset that is something else is refused (415)."""
    value = request.headers.get("Content-Type") or ""
    for param in value.split(";")[1:]:
        key, _, val = param.strip().partition("=")
        if key.lower() == "charset" and val.strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def form_fields(app: App, request: Request) -> list[tuple[str, str]]:
    """A urlencoded body as (name, value) pairs; bad UTF-8, too many fields -> BadRequest."""
    if media_type(request) != FORM or not charset_ok(request):
        raise BadRequest(415, f"send {FORM} (UTF-8)")
    try:
        text = request.body.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False,
                         encoding="utf-8", errors="strict", max_num_fields=app.limits.max_fields)
    except UnicodeDecodeError as exc:
        raise BadRequest(400, "form is not valid UTF-8") from exc
    except ValueError as exc:
        raise BadRequest(400, f"more than {app.limits.max_fields} form fields") from exc


def index(app: App, request: Request) -> Response:
    return pages.index()


def healthz(app: App, request: Request) -> Response:
    return pages.text("ok\n")


def server_time(app: App, request: Request) -> Response:
    now = app.clock()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return pages.text(f"server time: {stamp}\n")


def api_data(app: App, request: Request) -> Response:
    return pages.json_response({
        "status": "success",
        "message": "Hello from http_custom",
        "timestamp": round(app.clock(), 3),
        "data": [1, 2, 3, 4, 5],
    })


def form(app: App, request: Request) -> Response:
    return pages.form()


def submit(app: App, request: Request) -> Response:
    try:
        fields = form_fields(app, request)
    except BadRequest as exc:
        return pages.error(exc.status, exc.message, api=False)
    return pages.echo(fields)


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite(number: str) -> float:
    """1e999 parses as inf, which json.dumps would echo as ``Infinity`` (not JSON)."""
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {number[:40]}")
    return value


def api_submit(app: App, request: Request) -> Response:
    """Form in -> JSON out (the course's route), and JSON in -> JSON out; bad JSON is a 400."""
    if media_type(request) == "application/json":
        if not charset_ok(request):
            return pages.error(415, "JSON must be UTF-8", api=True)
        try:
            data = json.loads(request.body.decode("utf-8"), parse_constant=_no_constant,
                              parse_float=_finite)
        except RecursionError:
            return pages.error(400, "malformed JSON: nested too deeply", api=True)
        except (UnicodeDecodeError, ValueError) as exc:
            return pages.error(400, f"malformed JSON: {exc}", api=True)
        if not isinstance(data, dict):
            return pages.error(400, "JSON body must be an object", api=True)
        received: dict[str, object] = data
    else:
        try:
            fields = form_fields(app, request)
        except BadRequest as exc:
            return pages.error(exc.status, exc.message, api=True)
        grouped: dict[str, list[str]] = {}
        for key, value in fields:
            grouped.setdefault(key, []).append(value)
        received = dict(grouped)
    name = received.get("name", "")
    if isinstance(name, list):
        name = name[0] if name else ""
    return pages.json_response({
        "status": "success",
        "message": f"Hello, {name}!" if name else "Hello!",
        "received": received,
    })


ROUTES: dict[str, dict[str, Handler]] = {
    "/": {"GET": index},
    "/healthz": {"GET": healthz},
    "/time": {"GET": server_time},
    "/api/data": {"GET": api_data},
    "/form": {"GET": form},
    "/submit": {"POST": submit},
    "/api/submit": {"POST": api_submit},
}


def allowed(methods: dict[str, Handler] | set[str]) -> list[str]:
    names = set(methods)
    if "GET" in names:
        names.add("HEAD")
    names.add("OPTIONS")
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return [m for m in order if m in names]


@dataclass
class App:
    """Everything a route may need; ``clock`` is injectable so tests pin the time."""

    static_dir: Path = DEFAULT_DIR
    limits: Limits = field(default_factory=Limits)
    clock: Callable[[], float] = time.time
    static: StaticFiles = field(init=False)

    def __post_init__(self) -> None:
        self.static = StaticFiles(self.static_dir)

    def handle(self, request: Request) -> Response:
        path = request.path
        api = path.startswith("/api/")
        if request.target == "*":
            if request.method == "OPTIONS":
                return Response(204, [("Allow", ", ".join(allowed({"GET", "POST"})))])
            return pages.error(400, "* is only for OPTIONS", api=False)
        try:
            decoded = unquote(path, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            return pages.error(400, "path is not valid UTF-8", api=api)
        methods: dict[str, Handler] | set[str] | None = ROUTES.get(decoded)
        if methods is None and path.startswith(PREFIX):
            methods = {"GET"}
            if request.method in ("GET", "HEAD"):
                found = self.static.response(path)
                return found or pages.error(404, "no such file", api=False)
        if methods is None:
            return pages.error(404, "no such page", api=api)
        method = "GET" if request.method == "HEAD" else request.method
        if request.method == "OPTIONS":
            return Response(204, [("Allow", ", ".join(allowed(methods)))])
        if not isinstance(methods, dict) or method not in methods:
            response = pages.error(405, f"{request.method} is not allowed here", api=api)
            response.headers.append(("Allow", ", ".join(allowed(methods))))
            return response
        return methods[method](self, request)
