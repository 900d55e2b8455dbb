"""The line protocol without sockets: framing, commands, limits, bad input."""

from __future__ import annotations

import json

import pytest

from tls_server.protocol import LineSession, PeerInfo

INFO = PeerInfo("TLSv1.3", "TLS_AES_256_GCM_SHA384", "localhost", None, "127.0.0.1:5555")


def session(max_line: int = 32) -> LineSession:
    return LineSession(INFO, max_line=max_line, clock=lambda: "2026-11-27T23:40:00Z")


def lines(data: bytes) -> list[str]:
    return data.decode().splitlines()


def test_greeting_names_version_cipher_and_commands() -> None:
    text = session().greeting().decode()
    assert text.startswith("* tls_server TLSv1.3 TLS_AES_256_GCM_SHA384;")
    assert "echo TEXT" in text and text.endswith("\n")


def test_commands() -> None:
    s = session()
    out = s.receive(b"echo hello  there\nTIME\nhelp\n")
    assert lines(out) == [
        "= echo hello  there",
        "= time 2026-11-27T23:40:00Z",
        "= help commands: echo TEXT, whoami, time, help, quit",
    ]


def test_whoami_is_json_of_what_was_negotiated() -> None:
    out = session().receive(b"whoami\n").decode()
    assert out.startswith("= whoami ")
    assert json.loads(out.removeprefix("= whoami ")) == {
        "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "sni": "localhost",
        "client": None, "peer": "127.0.0.1:5555",
    }


def test_quit_closes_and_later_input_is_ignored() -> None:
    s = session()
    assert s.receive(b"quit\necho after\n") == b"= bye\n"
    assert s.closed
    assert s.receive(b"echo more\n") == b""


def test_exit_is_quit_too() -> None:
    s = session()
    assert s.receive(b"EXIT\r\n") == b"= bye\n" and s.closed


def test_lines_split_across_reads_and_crlf() -> None:
    s = session()
    assert s.receive(b"ec") == b""
    assert s.receive(b"ho a") == b""
    assert s.receive(b"b\r\n") == b"= echo ab\n"


def test_unknown_and_empty() -> None:
    s = session()
    assert s.receive(b"\n  \r\n") == b""
    assert lines(s.receive(b"GET / HTTP/1.1\n"))[0].startswith("! unknown command: get")


def test_overlong_line_in_one_read_is_discarded_with_one_error() -> None:
    s = session(max_line=10)
    out = lines(s.receive(b"echo " + b"x" * 20 + b"\necho ok\n"))
    assert out == ["! line too long (max 10 bytes); discarded", "= echo ok"]


def test_overlong_line_over_many_reads_costs_one_error_and_no_memory() -> None:
    s = session(max_line=10)
    out = s.receive(b"y" * 11)
    assert lines(out) == ["! line too long (max 10 bytes); discarded"]
    for _ in range(100):
        assert s.receive(b"z" * 1000) == b""
        assert len(s._buffer) == 0
    assert lines(s.receive(b"tail\necho ok\n")) == ["= echo ok"]


def test_line_at_the_limit_with_crlf_is_accepted() -> None:
    s = session(max_line=10)
    assert s.receive(b"echo 12345") == b""
    assert s.receive(b"\r") == b""
    assert s.receive(b"\n") == b"= echo 12345\n"


def test_invalid_utf8_gets_an_error_and_the_session_goes_on() -> None:
    s = session()
    assert lines(s.receive(b"echo \xff\xfe\necho ok\n")) == [
        "! invalid UTF-8; line discarded", "= echo ok",
    ]


def test_control_characters_are_not_echoed() -> None:
    out = session().receive(b"echo a\x1b[31mb\x07\tc\xc2\x9b\n").decode()
    assert out == "= echo a[31mb c\n"


def test_utf8_text_is_echoed() -> None:
    assert session().receive("echo 你好\n".encode()).decode() == "= echo 你好\n"


@pytest.mark.parametrize(("method", "line"), [
    ("shutdown_notice", "* server shutting down\n"),
    ("idle_notice", "! idle timeout; closing\n"),
])
def test_notices_close(method: str, line: str) -> None:
    s = session()
    assert getattr(s, method)().decode() == line and s.closed
