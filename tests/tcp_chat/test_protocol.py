"""Pure tests of the line framer and scrubbing: no sockets."""

from __future__ import annotations

import pytest

from tcp_chat.protocol import INVALID_UTF8, FrameError, LineFramer, encode_line, scrub, too_long


def test_splits_lines_across_chunks() -> None:
    f = LineFramer()
    assert f.feed(b"hel") == []
    assert f.feed(b"lo\nwor") == ["hello"]
    assert f.feed(b"ld\n\n") == ["world", ""]
    assert f.buffered == 0


def test_crlf_and_lone_cr() -> None:
    f = LineFramer()
    assert f.feed(b"a\r\nb\r") == ["a"]
    assert f.feed(b"\n") == ["b"]
    assert f.feed(b"x\ry\n") == ["x\ry"]  # only a \r right before \n is a terminator


def test_exact_limit_is_accepted_with_and_without_cr() -> None:
    f = LineFramer(8)
    assert f.feed(b"12345678\n") == ["12345678"]
    assert f.feed(b"12345678\r") == []
    assert f.feed(b"\n") == ["12345678"]


def test_overlong_complete_line_is_one_error_and_stream_continues() -> None:
    f = LineFramer(8)
    assert f.feed(b"123456789\nok\n") == [too_long(8), "ok"]


def test_overlong_partial_line_reported_once_and_skipped_without_buffering() -> None:
    f = LineFramer(8)
    assert f.feed(b"1234567890") == [too_long(8)]
    assert f.buffered == 0
    assert f.feed(b"x" * 10000) == []
    assert f.buffered == 0
    assert f.feed(b"tail\nnext\n") == ["next"]


def test_limit_plus_cr_then_more_is_too_long() -> None:
    f = LineFramer(4)
    assert f.feed(b"1234\r") == []
    assert f.feed(b"5\nok\n") == [too_long(4), "ok"]


def test_buffer_never_exceeds_limit_plus_one() -> None:
    f = LineFramer(16)
    for _ in range(100):
        f.feed(b"abc")
        assert f.buffered <= 17


def test_invalid_utf8_is_dropped_and_stream_continues() -> None:
    f = LineFramer()
    assert f.feed(b"\xff\xfe\nfine\n") == [INVALID_UTF8, "fine"]
    assert INVALID_UTF8.reply == "! invalid UTF-8: line dropped"


def test_utf8_split_across_chunks_is_fine() -> None:
    data = "héllo 你好\n".encode()
    f = LineFramer()
    out: list[str | FrameError] = []
    for i in range(len(data)):
        out += f.feed(data[i : i + 1])
    assert out == ["héllo 你好"]


def test_limit_counts_bytes_not_characters() -> None:
    f = LineFramer(5)
    assert f.feed("你好\n".encode()) == [too_long(5)]  # 6 bytes
    assert too_long(4096).reply == "! line too long: max 4096 bytes"


def test_eof_delivers_unfinished_line_once() -> None:
    f = LineFramer()
    f.feed(b"exit")
    assert f.feed_eof() == ["exit"]
    assert f.feed_eof() == []


def test_eof_inside_overlong_line_gives_nothing_more() -> None:
    f = LineFramer(4)
    assert f.feed(b"123456") == [too_long(4)]
    assert f.feed_eof() == []


def test_bad_limit_rejected() -> None:
    with pytest.raises(ValueError):
        LineFramer(0)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain", "plain"),
        ("a\tb", "a b"),
        ("\x1b[2Jwipe", "[2Jwipe"),
        ("bell\x07", "bell"),
        ("nul\x00x", "nulx"),
        ("del\x7f", "del"),
        ("c1\x85\x9b", "c1"),
        ("cr\rinside", "crinside"),
        ("émoji 🙂 and 中文", "émoji 🙂 and 中文"),
        ("\x01\x02", ""),
    ],
)
def test_scrub(raw: str, clean: str) -> None:
    assert scrub(raw) == clean


def test_encode_line() -> None:
    assert encode_line("<a> 你") == "<a> 你\n".encode()
