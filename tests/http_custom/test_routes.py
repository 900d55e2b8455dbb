"""http_custom's pages and routes as pure functions: a Request in, a Response out."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from http_custom.protocol import Headers, Limits, Request, Response
from http_custom.routes import App
from http_custom.static import DEFAULT_DIR, content_type, resolve

XSS = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"
FORM = ("Content-Type", "application/x-www-form-urlencoded")


@pytest.fixture
def app() -> App:
    return App(limits=Limits(max_fields=5), clock=lambda: 1_700_000_000.25)


def req(method: str, target: str, body: bytes = b"", *headers: tuple[str, str]) -> Request:
    return Request(method, target, Headers(list(headers)), body)


def text(response: Response) -> str:
    return response.body.decode("utf-8")


def test_index_links_and_form(app: App) -> None:
    response = app.handle(req("GET", "/"))
    assert response.status == 200
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    for link in ('href="/time"', 'href="/api/data"', 'href="/form"', 'action="/submit"'):
        assert link in text(response)
    assert "<script>" not in text(response)  # no inline script: the CSP forbids it
    assert "script-src" not in (response.header("Content-Security-Policy") or "unsafe")


def test_time_uses_the_clock(app: App) -> None:
    response = app.handle(req("GET", "/time"))
    assert response.status == 200
    assert text(response) == "server time: 2023-11-14T22:13:20Z\n"
    assert response.header("Content-Type") == "text/plain; charset=utf-8"


def test_api_data_json(app: App) -> None:
    response = app.handle(req("GET", "/api/data?ignored=1"))
    assert response.header("Content-Type") == "application/json; charset=utf-8"
    data = json.loads(response.body)
    assert data == {"status": "success", "message": "Hello from http_custom",
                    "timestamp": 1_700_000_000.25, "data": [1, 2, 3, 4, 5]}


def test_form_page(app: App) -> None:
    response = app.handle(req("GET", "/form"))
    assert response.status == 200
    assert 'name="name"' in text(response)


def test_submit_escapes_everything(app: App) -> None:
    from urllib.parse import urlencode

    body = urlencode({"name": XSS, "message": "a & b", XSS: "key too"}).encode()
    response = app.handle(req("POST", "/submit", body, FORM))
    page = text(response)
    assert response.status == 200
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;&gt;&lt;img" in page
    assert "a &amp; b" in page


def test_submit_bad_form(app: App) -> None:
    assert app.handle(req("POST", "/submit", b"name=%ff", FORM)).status == 400
    many = "&".join(f"f{i}=1" for i in range(6)).encode()
    assert app.handle(req("POST", "/submit", many, FORM)).status == 400
    assert app.handle(req("POST", "/submit", b"{}", ("Content-Type", "text/plain"))).status == 415
    latin = ("Content-Type", "application/x-www-form-urlencoded; charset=latin-1")
    assert app.handle(req("POST", "/submit", b"name=x", latin)).status == 415


def test_api_submit_form_to_json(app: App) -> None:
    response = app.handle(req("POST", "/api/submit", b"name=Ada&tag=a&tag=b", FORM))
    assert response.status == 200
    data = json.loads(response.body)
    assert data["message"] == "Hello, Ada!"
    assert data["received"] == {"name": ["Ada"], "tag": ["a", "b"]}


def test_api_submit_json(app: App) -> None:
    body = json.dumps({"name": "Grace", "n": 1}).encode()
    response = app.handle(req("POST", "/api/submit", body, ("Content-Type", "application/json")))
    assert json.loads(response.body)["received"] == {"name": "Grace", "n": 1}


@pytest.mark.parametrize("body", [b"{bad", b"[1, 2]", b"\xff\xfe", b""])
def test_api_submit_bad_json_is_400_json(app: App, body: bytes) -> None:
    response = app.handle(req("POST", "/api/submit", body, ("Content-Type", "application/json")))
    assert response.status == 400
    assert response.header("Content-Type") == "application/json; charset=utf-8"
    assert json.loads(response.body)["status"] == 400


def test_unknown_path_404_html_and_api_json(app: App) -> None:
    page = app.handle(req("GET", "/nope"))
    assert page.status == 404
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    api = app.handle(req("GET", "/api/nope"))
    assert api.status == 404
    assert json.loads(api.body)["error"] == "Not Found"


def test_404_page_escapes_nothing_from_the_path(app: App) -> None:
    response = app.handle(req("GET", "/%3Cscript%3Ealert(1)%3C/script%3E"))
    assert response.status == 404
    assert "<script>alert" not in text(response)


def test_405_with_allow(app: App) -> None:
    response = app.handle(req("DELETE", "/api/data"))
    assert response.status == 405
    assert response.header("Allow") == "GET, HEAD, OPTIONS"
    post_only = app.handle(req("GET", "/submit"))
    assert post_only.status == 405
    assert post_only.header("Allow") == "POST, OPTIONS"


def test_head_is_get(app: App) -> None:
    get = app.handle(req("GET", "/api/data"))
    head = app.handle(req("HEAD", "/api/data"))
    assert head.status == 200
    assert head.headers == get.headers  # the transport drops the body, keeping its length


def test_options(app: App) -> None:
    response = app.handle(req("OPTIONS", "/time"))
    assert response.status == 204
    assert response.header("Allow") == "GET, HEAD, OPTIONS"


def test_no_redirect_ever(app: App) -> None:
    for target in ("//evil.example", "//evil.example/%2e%2e", "/\\evil.example", "/static//evil"):
        response = app.handle(req("GET", target))
        assert response.status == 404, target
        assert response.header("Location") is None


def test_static_file_served_with_type(app: App) -> None:
    css = app.handle(req("GET", "/static/style.css"))
    assert css.status == 200
    assert css.header("Content-Type") == "text/css; charset=utf-8"
    assert css.body == (DEFAULT_DIR / "style.css").read_bytes()
    png = app.handle(req("GET", "/static/logo.png"))
    assert png.header("Content-Type") == "image/png"
    assert png.body.startswith(b"\x89PNG")
    js = app.handle(req("GET", "/static/app.js"))
    assert js.header("Content-Type") in ("text/javascript; charset=utf-8",
                                         "application/javascript; charset=utf-8")


def test_content_type_fallback() -> None:
    assert content_type("data.bin.unknownext") == "application/octet-stream"
    assert content_type("archive.tar.gz") == "application/octet-stream"  # never gzip-encoded


@pytest.fixture
def jail(tmp_path: Path) -> Path:
    """A static root beside a secret, with a symlink pointing out of the root."""
    root = tmp_path / "static"
    (root / "sub").mkdir(parents=True)
    (root / "ok.txt").write_text("fine")
    (root / "sub" / "in.txt").write_text("inner")
    (root / ".hidden").write_text("hidden")
    (tmp_path / "secret.txt").write_text("SECRET")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    os.symlink(root / "ok.txt", root / "alias.txt")  # a link that stays inside is fine
    return root.resolve()


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E%2Fsecret.txt",
        "/static/sub/../../secret.txt",
        "/static/sub/%2e%2e/%2e%2e/secret.txt",
        "/static/..%5csecret.txt",
        "/static/..\\secret.txt",
        "/static/%252e%252e/secret.txt",  # double encoding stays a literal name
        "/static/escape.txt",  # symlink leaving the root
        "/static/.hidden",
        "/static/sub/",
        "/static/sub",  # a folder, no listing
        "/static/",
        "/static//etc/passwd",
        "/static/ok.txt%00.png",
        "/static/%ff",
        "/static/./ok.txt",
    ],
)
def test_traversal_not_found(jail: Path, path: str) -> None:
    assert resolve(jail, path) is None
    response = App(static_dir=jail).handle(req("GET", path))
    assert response.status in (400, 404), path
    assert b"SECRET" not in response.body


def test_inside_files_found(jail: Path) -> None:
    app = App(static_dir=jail)
    assert app.handle(req("GET", "/static/ok.txt")).body == b"fine"
    assert app.handle(req("GET", "/static/sub/in.txt")).body == b"inner"
    assert app.handle(req("GET", "/static/%6fk.txt")).body == b"fine"  # plain percent-encoding
    assert app.handle(req("GET", "/static/alias.txt")).body == b"fine"


def test_static_name_too_long_is_404_not_500(app: App) -> None:
    # ENAMETOOLONG from the file system must not escape as an exception (a 500).
    for path in ("/static/" + "a" * 300, "/static/" + "a/" * 3000 + "b"):
        assert app.handle(req("GET", path)).status == 404


@pytest.mark.parametrize("body", [
    b'{"a": ' + b"[" * 50000 + b"]" * 50000 + b"}",  # RecursionError in the decoder
    b'{"a": NaN}', b'{"a": -Infinity}', b'{"a": 1e999}',  # would be echoed as invalid JSON
    b'{"a": ' + b"1" * 5000 + b"}",  # over Python's int digit limit
])
def test_api_submit_odd_json_is_400_json(body: bytes) -> None:
    app = App(limits=Limits(max_body=200_000))
    response = app.handle(req("POST", "/api/submit", body, ("Content-Type", "application/json")))
    assert response.status == 400
    assert json.loads(response.body)["status"] == 400
