"""The HTTP rules of http_custom, without sockets: request line, headers, framing, keep-alive."""

from __future__ import annotations

import pytest

from http_custom.protocol import (
    Headers,
    HttpError,
    Limits,
    RequestLine,
    Response,
    body_length,
    expects_continue,
    parse_header_line,
    parse_headers,
    parse_request_line,
    serialize,
    wants_keep_alive,
)

LIMITS = Limits(max_url=100, max_header_bytes=200, max_headers=5, max_body=1000)


def status_of(fn, *args) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(HttpError) as info:
        fn(*args)
    return info.value.status


def test_request_line_parsed() -> None:
    line = parse_request_line(b"GET /api/data?x=1 HTTP/1.1\r\n", LIMITS)
    assert line == RequestLine("GET", "/api/data?x=1", (1, 1))
    assert parse_request_line(b"HEAD / HTTP/1.0\n", LIMITS).version == (1, 0)


def test_absolute_form_reduced_to_path() -> None:
    assert parse_request_line(b"GET http://example.com/time HTTP/1.1\r\n", LIMITS).target == "/time"
    assert parse_request_line(b"GET http://example.com HTTP/1.1\r\n", LIMITS).target == "/"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /\r\n", 400),  # HTTP/0.9 shape
        (b"GET  / HTTP/1.1\r\n", 400),  # double space
        (b"GET / HTTP/1.1 extra\r\n", 400),
        (b"G(T / HTTP/1.1\r\n", 400),  # not a token
        (b"GET /a\x01b HTTP/1.1\r\n", 400),  # control in target
        (b"GET /\xff HTTP/1.1\r\n", 400),  # non-ASCII target
        (b"GET / HTTX/1.1\r\n", 400),
        (b"GET / HTTP/2.0\r\n", 505),
        (b"BREW / HTTP/1.1\r\n", 501),
        (b"GET evil.example HTTP/1.1\r\n", 400),
        (b"GET /" + b"a" * 100 + b" HTTP/1.1\r\n", 414),
        (b"GET /" + b"a" * 300, 414),  # cut by the reader: no end of line
    ],
)
def test_bad_request_lines(raw: bytes, status: int) -> None:
    assert status_of(parse_request_line, raw, LIMITS) == status


def test_url_at_the_limit_is_fine() -> None:
    target = b"/" + b"a" * 99
    assert parse_request_line(b"GET " + target + b" HTTP/1.1\r\n", LIMITS).target == target.decode()


def test_header_line() -> None:
    assert parse_header_line(b"Content-Type:  text/plain \r\n") == ("Content-Type", "text/plain")
    assert parse_header_line(b"X-Empty:\r\n") == ("X-Empty", "")


@pytest.mark.parametrize(
    "raw",
    [b" folded\r\n", b"Bad Name: x\r\n", b"NoColon\r\n", b"Host : x\r\n", b"X: a\x00b\r\n",
     b": x\r\n"],
)
def test_bad_header_lines(raw: bytes) -> None:
    assert status_of(parse_header_line, raw) == 400


def test_header_limits() -> None:
    assert status_of(parse_headers, [b"A: b\r\n"] * 6, LIMITS) == 431
    assert status_of(parse_headers, [b"A: " + b"x" * 200 + b"\r\n"], LIMITS) == 431
    headers = parse_headers([b"Host: h\r\n", b"X-A: 1\r\n", b"x-a: 2\r\n"], LIMITS)
    assert headers.get("HOST") == "h"
    assert headers.get_all("X-A") == ["1", "2"]
    assert "x-a" in headers
    assert "missing" not in headers


def line(method: str = "POST", version: tuple[int, int] = (1, 1)) -> RequestLine:
    return RequestLine(method, "/submit", version)


def hdrs(*pairs: tuple[str, str]) -> Headers:
    return Headers(list(pairs))


def test_body_length() -> None:
    assert body_length(line(), hdrs(("Content-Length", "12")), LIMITS) == 12
    assert body_length(line("GET"), hdrs(), LIMITS) == 0
    assert body_length(line(), hdrs(("Content-Length", "1000")), LIMITS) == 1000
    # the same value twice is allowed by RFC 9110
    assert body_length(line(), hdrs(("Content-Length", "5"), ("Content-Length", "5")), LIMITS) == 5


@pytest.mark.parametrize(
    ("pairs", "status"),
    [
        ((), 411),
        ((("Content-Length", "1001"),), 413),
        ((("Content-Length", "99999999999999999999999"),), 400),
        ((("Content-Length", "-1"),), 400),
        ((("Content-Length", "1e3"),), 400),
        ((("Content-Length", "٣"),), 400),  # a Unicode digit
        ((("Content-Length", "5"), ("Content-Length", "6")), 400),
        ((("Transfer-Encoding", "chunked"),), 411),
        ((("Transfer-Encoding", "gzip, chunked"),), 501),
        ((("Transfer-Encoding", "chunked"), ("Content-Length", "5")), 400),
    ],
)
def test_body_length_errors(pairs: tuple[tuple[str, str], ...], status: int) -> None:
    assert status_of(body_length, line(), hdrs(*pairs), LIMITS) == status


def test_expect_continue() -> None:
    assert expects_continue(line(), hdrs(("Expect", "100-Continue")))
    assert not expects_continue(line(), hdrs())
    assert not expects_continue(line(version=(1, 0)), hdrs(("Expect", "100-continue")))
    assert status_of(expects_continue, line(), hdrs(("Expect", "coffee"))) == 417


def test_keep_alive_rules() -> None:
    assert wants_keep_alive((1, 1), hdrs())
    assert not wants_keep_alive((1, 1), hdrs(("Connection", "Close")))
    assert not wants_keep_alive((1, 0), hdrs())
    assert wants_keep_alive((1, 0), hdrs(("Connection", "Keep-Alive")))
    assert not wants_keep_alive((1, 1), hdrs(("Connection", "upgrade, close")))


def test_serialize_exact_length_and_connection() -> None:
    response = Response(200, [("Content-Type", "text/plain"), ("Content-Length", "999")], b"hello")
    data = serialize(response, keep_alive=True, head_only=False, date="D", server="S")
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 5" in head
    assert b"999" not in head  # a route's own length never reaches the wire
    assert b"Connection: keep-alive" in head
    assert body == b"hello"


def test_serialize_head_keeps_headers_drops_body() -> None:
    response = Response(200, [("Content-Type", "text/plain")], b"hello")
    data = serialize(response, keep_alive=False, head_only=True, date="D", server="S")
    assert data.endswith(b"\r\n\r\n")
    assert b"Content-Length: 5" in data
    assert b"Connection: close" in data
    assert b"hello" not in data


def test_serialize_no_content() -> None:
    data = serialize(Response(204, [("Allow", "GET")], b""), keep_alive=True, head_only=False,
                     date="D", server="S")
    assert b"Content-Length" not in data
    assert data.startswith(b"HTTP/1.1 204 No Content\r\n")
