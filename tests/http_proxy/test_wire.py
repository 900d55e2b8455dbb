"""The fast path's pure parts: it must take only what h11 would read the same way, and frame
responses byte for byte as h11 (and the general cache-hit path) would."""

from __future__ import annotations

import io
import logging

import h11
import pytest

from http_proxy import messages, wire
from http_proxy.accesslog import AccessLog
from http_proxy.cache import Cache
from http_proxy.rules import build_rules

GET = b"GET http://a.example/x?y=1 HTTP/1.1\r\nHost: a.example\r\nAccept:  */* \r\n\r\n"


def h11_request(data: bytes) -> h11.Request:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    event = conn.next_event()
    assert isinstance(event, h11.Request)
    return event


def test_simple_get_is_taken_as_h11_reads_it() -> None:
    parsed = wire.parse_request_head(GET, 1024)
    assert parsed is not None
    head, used = parsed
    ref = h11_request(GET)
    assert used == len(GET)
    assert (head.method, head.target, head.http_version) == (ref.method, ref.target, b"1.1")
    assert head.headers == list(ref.headers) == [(b"host", b"a.example"), (b"accept", b"*/*")]


def test_incomplete_head_needs_data_and_pipelined_bytes_stay() -> None:
    assert wire.parse_request_head(GET[:-1], 1024) is None
    assert wire.parse_request_head(b"", 1024) is None
    parsed = wire.parse_request_head(GET + b"GET /next", 1024)
    assert parsed is not None and parsed[1] == len(GET)


@pytest.mark.parametrize("data", [
    b"POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    b"POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"PUT http://a/ HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
    b"GET http://a/ HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
    b"GET http://a/ HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n",
    b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    b"GET http://a/ HTTP/1.0\r\nHost: a\r\n\r\n",
    b"GET http://a/ HTTP/1.1\r\n\r\n",  # no Host
    b"GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET http://a/ HTTP/1.1\nHost: a\r\n\r\n",  # bare LF
    b"GET http://a/ HTTP/1.1\r\nHost: a\n\n",
    b"GET http://a/ HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
    b"GET http://a/ HTTP/1.1\r\nHost : a\r\n\r\n",
    b"GET http://a/ HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n",
    b"GET http://a/ HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
    b"get http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET  http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET http://a/\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
    b"\r\nGET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"garbage\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS hello sent by mistake
])
def test_everything_unusual_is_deferred_to_h11(data: bytes) -> None:
    with pytest.raises(wire.Defer):
        wire.parse_request_head(data, 1024)


def test_oversize_heads_are_deferred_so_h11_answers_431() -> None:
    big = b"GET http://a/ HTTP/1.1\r\nHost: a\r\nX: " + b"y" * 2000
    with pytest.raises(wire.Defer):
        wire.parse_request_head(big, 1024)  # incomplete and already too long
    with pytest.raises(wire.Defer):
        wire.parse_request_head(big + b"\r\n\r\n", 1024)  # complete but over the limit


def test_framer_matches_h11_for_known_and_unknown_lengths() -> None:
    for method in (b"GET", b"HEAD"):
        for headers in ([(b"content-length", b"3"), (b"x", b"1")], [(b"x", b"1")]):
            conn = h11.Connection(h11.SERVER)
            conn.receive_data(b"%s http://a/ HTTP/1.1\r\nHost: a\r\n\r\n" % method)
            conn.next_event()
            conn.next_event()
            ref = conn.send(h11.Response(status_code=200, headers=headers, reason=b"OK"))
            body = b"" if method == b"HEAD" else b"abc"
            ref += (conn.send(h11.Data(data=body)) or b"") if body else b""
            ref += conn.send(h11.EndOfMessage()) or b""
            framer = wire.ResponseFramer(method)
            out = framer.head(200, b"OK", headers) + framer.data(body) + framer.end()
            assert out == ref and framer.done


def test_framer_refuses_bodies_that_contradict_the_length() -> None:
    framer = wire.ResponseFramer(b"GET")
    framer.head(200, b"OK", [(b"content-length", b"2")])
    with pytest.raises(wire.FramingError):
        framer.data(b"abc")
    short = wire.ResponseFramer(b"GET")
    short.head(200, b"OK", [(b"content-length", b"2")])
    short.data(b"a")
    with pytest.raises(wire.FramingError):
        short.end()
    none = wire.ResponseFramer(b"GET")
    assert none.head(204, b"No Content", []).endswith(b"204 No Content\r\n\r\n")
    assert none.end() == b""


def test_request_serialised_as_h11_would() -> None:
    headers = [(b"accept", b"*/*"), (b"host", b"a:8080"), (b"via", b"1.1 p")]
    conn = h11.Connection(h11.CLIENT)
    ref = conn.send(h11.Request(method=b"GET", target=b"/x", headers=headers))
    assert wire.serialize_request(b"GET", b"/x", headers) == ref


def read_all(reader: wire.ResponseReader, data: bytes, step: int) -> list[object]:
    events: list[object] = []
    for i in range(0, len(data), step):
        reader.feed(data[i:i + step])
        while (event := reader.next()) is not wire.NEED_DATA:
            events.append(event)
            if event is wire.END:
                return events
    return events


def test_response_reader_in_pieces_and_whole() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello"
    for step in (1, 7, len(data)):
        reader = wire.ResponseReader(b"GET", 1024)
        events = read_all(reader, data, step)
        head = events[0]
        assert isinstance(head, wire.ResponseHead)
        assert (head.status_code, head.reason) == (200, b"OK")
        assert head.headers == [(b"content-length", b"5"), (b"x-a", b"b")]
        assert b"".join(e for e in events[1:-1] if isinstance(e, bytes)) == b"hello"
        assert events[-1] is wire.END and reader.reusable


def test_response_reader_bodyless_and_leftover_bytes() -> None:
    reader = wire.ResponseReader(b"HEAD", 1024)
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n")
    assert isinstance(reader.next(), wire.ResponseHead) and reader.next() is wire.END
    extra = wire.ResponseReader(b"GET", 1024)
    extra.feed(b"HTTP/1.1 204 No Content\r\n\r\nstray")
    assert isinstance(extra.next(), wire.ResponseHead) and extra.next() is wire.END
    assert not extra.reusable  # bytes nobody asked for: never reuse this connection


@pytest.mark.parametrize("data", [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n\r\n",  # close-delimited
    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n",
    b"HTTP/1.1 200 OK\nContent-Length: 1\n\n",
    b"HTTP/1.1 200 OK\r\nBad Header: 1\r\n\r\n",
    b"SSH-2.0-OpenSSH\r\n\r\n",
])
def test_response_reader_defers_the_unusual(data: bytes) -> None:
    reader = wire.ResponseReader(b"GET", 1024)
    reader.feed(data)
    with pytest.raises(wire.Defer):
        reader.next()
    assert bytes(reader.buffer) == data  # untouched, for h11


def test_response_reader_defers_oversize_heads() -> None:
    reader = wire.ResponseReader(b"GET", 64)
    reader.feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 100)
    with pytest.raises(wire.Defer):
        reader.next()


def test_cached_head_is_what_the_general_path_sends() -> None:
    rules = build_rules(add_response=["X-Added: 1"], remove_response=["Server", "Age"])
    for r in (rules, build_rules()):
        stored = [(b"server", b"s"), (b"cache-control", b"max-age=60"), (b"keep-alive", b"5"),
                  (b"x-cache", b"MISS"), (b"x-other", b"o")]
        cache = Cache()
        cache.store("http://a/", [], 200, b"OK", stored, b"body", 1000.0)
        entry = cache.lookup(b"GET", "http://a/", [], 1010.0)
        assert entry is not None
        general = messages.downstream_response_headers(
            entry.served_headers(1010.0), b"1.1", "p", "HIT")
        general = r.response.apply(general)
        prefix, with_age, tail = messages.cached_head_parts(
            200, b"OK", entry.headers, messages.via_value(b"1.1", "p"), r.response.drop_names,
            r.response.add)
        age = b"age: 10\r\n" if with_age else b""
        fast = prefix + age + b"content-length: 4\r\n" + tail + b"\r\n"
        assert fast == wire.serialize_head(200, b"OK", general)


def test_access_line_matches_log_line() -> None:
    fields = dict(client="1.2.3.4:5", method="GET", target="http://a/b?c=d e", status=200,
                  bytes=10, cache="HIT", ms=1.25, detail='x "y"')
    assert messages.access_line(*fields.values()) == messages.log_line(**fields)  # type: ignore[arg-type]
    del fields["detail"]
    assert messages.access_line(*fields.values()) == messages.log_line(**fields)  # type: ignore[arg-type]


def test_access_log_writes_formatted_lines_and_respects_the_level() -> None:
    logger = logging.getLogger("http_proxy.test_access")
    logger.setLevel(logging.INFO)
    out = io.StringIO()
    log = AccessLog(logger, out)
    log.write("client=a status=200")  # no event loop: written at once
    line = out.getvalue()
    assert line.endswith(" INFO http_proxy.test_access: client=a status=200\n")
    assert line[4] == "-" and line[19] == ","  # 2026-01-01 12:00:00,123
    logger.setLevel(logging.WARNING)
    log.write("client=b")
    assert "client=b" not in out.getvalue()


def test_whatever_the_fast_parser_takes_h11_reads_the_same() -> None:
    """Differential check over mutated heads: a fast-path answer must never differ from h11's."""
    import random

    rnd = random.Random(5)
    base = (b"GET http://a.example:8080/p?q=1 HTTP/1.1\r\nHost: a.example:8080\r\n"
            b"User-Agent: t/1\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n")
    alphabet = b" \t\r\n:;,=\"\\/\x00\x7f\x80\xffaZ09-"
    taken = 0
    for _ in range(3000):
        data = bytearray(base)
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randrange(len(data) - 4)
            op = rnd.random()
            if op < 0.4:
                data[i] = rnd.choice(alphabet)
            elif op < 0.7:
                data.insert(i, rnd.choice(alphabet))
            else:
                del data[i]
        try:
            parsed = wire.parse_request_head(bytes(data), 4096)
        except wire.Defer:
            continue
        if parsed is None:
            continue
        taken += 1
        head, used = parsed
        conn = h11.Connection(h11.SERVER)
        conn.receive_data(bytes(data))
        ref = conn.next_event()
        assert isinstance(ref, h11.Request), data
        assert (head.method, head.target, head.headers) == (ref.method, ref.target,
                                                            list(ref.headers)), data
        assert conn.next_event() == h11.EndOfMessage()
        assert conn.trailing_data[0] == bytes(data[used:])
    assert taken > 100  # the check saw many accepted variants, not only refusals
