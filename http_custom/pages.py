"""HTML and JSON bodies. Every value that came from a client goes through ``html.escape``.

The course's echo page pastes the raw POST body into HTML, so ``<script>`` in a form field runs
in the visitor's browser. Here pages are built from constant templates and escaped values only.
"""

from __future__ import annotations

import json
from html import escape

from http_custom.protocol import Response, reason

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
# No inline script or style anywhere: even a missed escape could not run injected code.
PAGE_HEADERS = [
    ("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]


def page(title: str, body_html: str, status: int = 200) -> Response:
    """A full HTML document; ``title`` is escaped here, ``body_html`` must already be safe."""
    doc = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(title)}</title>\n"
        '<link rel="stylesheet" href="/static/style.css">\n'
        '<script src="/static/app.js" defer></script>\n'
        f"</head>\n<body>\n<main>\n{body_html}\n</main>\n</body>\n</html>\n"
    )
    return Response(status, [("Content-Type", HTML), *PAGE_HEADERS], doc.encode("utf-8"))


def json_response(data: object, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, [("Content-Type", JSON), ("Cache-Control", "no-store")], body)


def text(body: str, status: int = 200) -> Response:
    return Response(status, [("Content-Type", TEXT), ("Cache-Control", "no-store")],
                    body.encode("utf-8"))


def error(status: int, message: str, *, api: bool) -> Response:
    """An error as JSON under ``/api/`` and as an HTML page elsewhere."""
    if api:
        return json_response({"error": reason(status), "status": status, "message": message},
                             status)
    body = (f"<h1>{status} {escape(reason(status))}</h1>\n<p>{escape(message)}</p>\n"
            '<p><a href="/">Back to the index</a></p>')
    return page(f"{status} {reason(status)}", body, status)


INDEX_BODY = """<h1>http_custom</h1>
<p>The course's <code>http.server</code> example, with limits, escaping and keep-alive.</p>
<img src="/static/logo.png" alt="netlab logo" width="48" height="48">
<h2>Routes</h2>
<ul id="routes">
  <li><a href="/time">/time</a>: the server's clock</li>
  <li><a href="/api/data">/api/data</a>: a JSON document</li>
  <li><a href="/form" id="form-link">/form</a>: a form echoed back, escaped</li>
  <li><a href="/static/style.css">/static/style.css</a>: a static file</li>
</ul>
<h2>Say hello</h2>
<form action="/submit" method="post" id="hello-form">
  <label>Name <input type="text" name="name" maxlength="200" required></label>
  <label>Message <textarea name="message" rows="3" maxlength="2000"></textarea></label>
  <button type="submit">Send</button>
</form>
<h2>Or as JSON</h2>
<form action="/api/submit" method="post" id="api-form">
  <label>Name <input type="text" name="name" maxlength="200"></label>
  <button type="submit">POST /api/submit</button>
</form>
<p id="js-status" class="muted">JavaScript not loaded.</p>"""

FORM_BODY = """<h1>Form</h1>
<p>Whatever you type comes back on the next page as text, never as markup.</p>
<form action="/submit" method="post" id="echo-form">
  <label>Name <input type="text" name="name" id="name" maxlength="200" required></label>
  <label>Message <textarea name="message" id="message" rows="4" maxlength="2000"></textarea>
  </label>
  <button type="submit" id="send">Send</button>
</form>
<p><a href="/">Back to the index</a></p>"""


def index() -> Response:
    return page("http_custom", INDEX_BODY)


def form() -> Response:
    return page("Form", FORM_BODY)


def echo(fields: list[tuple[str, str]]) -> Response:
    """The submitted fields as an escaped definition list."""
    rows = "\n".join(
        f'  <dt>{escape(name)}</dt><dd class="value">{escape(value)}</dd>'
        for name, value in fields
    )
    name = next((v for k, v in fields if k == "name"), "")
    greeting = f"Hello, {escape(name)}!" if name else "Nothing named."
    body = (f'<h1>Received</h1>\n<p id="greeting">{greeting}</p>\n'
            f'<dl id="fields">\n{rows}\n</dl>\n'
            '<p><a href="/form">Again</a> · <a href="/">Index</a></p>')
    return page("Received", body)
