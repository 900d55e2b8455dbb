"""The handshake gate and the page, decided without sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ws_chat.routes import (
    Router,
    load_assets,
    normalize_origin,
    origin_allowed,
    parse_origins,
)

ALLOWED = parse_origins("http://localhost:8765,http://127.0.0.1:8765")


def router(max_connections: int = 10, allow_missing: bool = True) -> Router:
    return Router(load_assets(4096), ALLOWED, max_connections, allow_missing)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://localhost:8765", "http://localhost:8765"),
        ("HTTP://LocalHost:8765/", "http://localhost:8765"),
        ("http://example.org:80", "http://example.org"),
        ("https://example.org:443", "https://example.org"),
        ("https://example.org:8443", "https://example.org:8443"),
        ("http://[::1]:8765", "http://[::1]:8765"),
    ],
)
def test_normalize_origin(text: str, expected: str) -> None:
    assert normalize_origin(text) == expected


@pytest.mark.parametrize(
    "text", ["localhost:8765", "ftp://x", "http://x/path", "http://x:99999", "null", "", "http://"]
)
def test_bad_origins_raise(text: str) -> None:
    with pytest.raises(ValueError):
        normalize_origin(text)


def test_parse_origins_skips_blanks() -> None:
    assert parse_origins(" http://a:1 , ,https://b ") == {"http://a:1", "https://b"}
    assert parse_origins("") == frozenset()


def test_origin_allowed() -> None:
    assert origin_allowed("http://localhost:8765", ALLOWED, True)
    assert origin_allowed("http://LOCALHOST:8765/", ALLOWED, True)
    assert not origin_allowed("http://localhost:8766", ALLOWED, True)
    assert not origin_allowed("http://evil.example", ALLOWED, True)
    assert not origin_allowed("null", ALLOWED, True)
    assert not origin_allowed("", ALLOWED, True)
    assert origin_allowed(None, ALLOWED, True)
    assert not origin_allowed(None, ALLOWED, False)


def test_ws_path_with_allowed_origin_goes_on_to_the_upgrade() -> None:
    assert router().route("/ws", "http://localhost:8765", 0) is None
    assert router().route("/ws?x=1", "http://127.0.0.1:8765", 9) is None


def test_bad_origin_is_403() -> None:
    reply = router().route("/ws", "http://evil.example", 0)
    assert reply is not None and reply.status == 403
    assert b"http://evil.example" in reply.body
    reply = router(allow_missing=False).route("/ws", None, 0)
    assert reply is not None and reply.status == 403


def test_full_is_503_with_retry_after() -> None:
    reply = router(max_connections=2).route("/ws", "http://localhost:8765", 2)
    assert reply is not None and reply.status == 503
    assert ("Retry-After", "5") in reply.headers


def test_page_and_assets() -> None:
    r = router()
    page = r.route("/", None, 0)
    assert page is not None and page.status == 200 and page.content_type.startswith("text/html")
    assert b'content="4096"' in page.body and b"{{" not in page.body
    assert any(name == "Content-Security-Policy" for name, _ in page.headers)
    js = r.route("/chat.js", None, 0)
    assert js is not None and b"textContent" in js.body and b"innerHTML" not in js.body
    css = r.route("/chat.css?v=1", None, 0)
    assert css is not None and css.content_type.startswith("text/css")


@pytest.mark.parametrize(
    "path", ["/index.html/../../etc/passwd", "/../bridge.py", "/nope", "/static/chat.js"]
)
def test_other_paths_are_404(path: str) -> None:
    reply = router().route(path, None, 0)
    assert reply is not None and reply.status == 404


def test_assets_come_from_the_given_directory(tmp_path: Path) -> None:
    for name in ("index.html", "chat.css", "chat.js"):
        (tmp_path / name).write_text(f"{name} {{{{MAX_MESSAGE_BYTES}}}}")
    assets = load_assets(123, tmp_path)
    assert assets["/"].body == b"index.html 123"
    assert assets["/chat.js"].body == b"chat.js {{MAX_MESSAGE_BYTES}}"
