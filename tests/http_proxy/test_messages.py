"""Request targets, hop-by-hop headers, Via and the proxy's own answers (pure)."""

from __future__ import annotations

import pytest

from http_proxy import messages
from http_proxy.messages import BadTarget, Target


@pytest.mark.parametrize(
    ("raw", "host", "port", "path"),
    [
        (b"http://Example.COM/a?b=1", "example.com", 80, "/a?b=1"),
        (b"http://example.com", "example.com", 80, "/"),
        (b"http://example.com?x", "example.com", 80, "/?x"),
        (b"http://flask_api:5000/cache/60", "flask_api", 5000, "/cache/60"),
        (b"http://[::1]:8080/x#frag", "::1", 8080, "/x"),
        (b"HTTP://10.0.0.1:81/", "10.0.0.1", 81, "/"),
    ],
)
def test_absolute_targets(raw: bytes, host: str, port: int, path: str) -> None:
    assert messages.parse_absolute(raw) == Target(host, port, path)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"/relative", 400),
        (b"https://example.com/", 501),
        (b"ftp://example.com/", 501),
        (b"http://user:pw@example.com/", 400),
        (b"http://exa mple.com/", 400),
        (b"http://example.com:0/", 400),
        (b"http://example.com:99999/", 400),
        (b"http://:80/", 400),
        (b"http://\xc3\xa9.com/", 400),
        (b"http://" + b"a" * 300 + b"!/", 400),
    ],
)
def test_bad_absolute_targets(raw: bytes, status: int) -> None:
    with pytest.raises(BadTarget) as info:
        messages.parse_absolute(raw)
    assert info.value.status == status


def test_authority_and_url_normalise_default_port() -> None:
    assert Target("example.com", 80, "/a").url == "http://example.com/a"
    assert Target("::1", 8080, "/").url == "http://[::1]:8080/"


def test_connect_authority() -> None:
    assert messages.parse_authority(b"tls_server:8443") == ("tls_server", 8443)
    assert messages.parse_authority(b"[::1]:443") == ("::1", 443)
    for bad in (b"tls_server", b"host:abc", b"host:70000", b":443", b"[::1]x:1"):
        with pytest.raises(BadTarget):
            messages.parse_authority(bad)


def test_hop_by_hop_and_connection_named_headers_removed() -> None:
    headers = [
        (b"connection", b"keep-alive, X-Secret"), (b"x-secret", b"1"), (b"keep-alive", b"300"),
        (b"proxy-authorization", b"Basic abc"), (b"proxy-connection", b"keep-alive"),
        (b"te", b"trailers"), (b"trailer", b"x"), (b"transfer-encoding", b"chunked"),
        (b"upgrade", b"websocket"), (b"accept", b"*/*"), (b"authorization", b"Bearer t"),
    ]
    assert messages.strip_hop_by_hop(headers) == [
        (b"accept", b"*/*"), (b"authorization", b"Bearer t")
    ]


def test_upstream_request_headers_set_host_via_and_framing() -> None:
    target = Target("origin", 8080, "/p")
    headers = [(b"host", b"evil"), (b"expect", b"100-continue"), (b"content-type", b"a/b"),
               (b"transfer-encoding", b"chunked"), (b"via", b"1.1 other")]
    out = messages.upstream_request_headers(headers, target, b"1.1", "me", chunked=True)
    assert out[0] == (b"host", b"origin:8080")
    assert (b"host", b"evil") not in out and (b"expect", b"100-continue") not in out
    assert out[-2:] == [(b"via", b"1.1 me"), (b"transfer-encoding", b"chunked")]
    assert (b"via", b"1.1 other") in out  # earlier hops stay


def test_downstream_headers_replace_x_cache_and_add_via() -> None:
    out = messages.downstream_response_headers(
        [(b"x-cache", b"HIT"), (b"transfer-encoding", b"chunked"), (b"etag", b'"1"')],
        b"1.0", "me", "MISS",
    )
    assert out == [(b"etag", b'"1"'), (b"via", b"1.0 me"), (b"x-cache", b"MISS")]


def test_loop_detection_by_via_pseudonym() -> None:
    assert messages.seen_by([(b"via", b"1.1 other, 1.1 Me")], "me")
    assert not messages.seen_by([(b"via", b"1.1 other, 1.1 meme")], "me")
    assert not messages.seen_by([], "me")


def test_error_page_escapes_detail() -> None:
    headers, body = messages.error_response(403, "<script>x</script>", via_name="p")
    assert b"<script>" not in body and b"&lt;script&gt;" in body
    assert (b"content-length", str(len(body)).encode()) in headers
    assert (b"x-cache", b"MISS") in headers


def test_log_line_quotes_only_when_needed() -> None:
    line = messages.log_line(client="1.2.3.4:5", target="http://a/b c", status=200, ms=1.25)
    assert line == 'client=1.2.3.4:5 target="http://a/b c" status=200 ms=1.2'
    assert messages.log_line(detail='a"b\n') == 'detail="a\\"b\\n"'
