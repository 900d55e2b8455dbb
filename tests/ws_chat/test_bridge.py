"""The sans-IO bridge: frames and tcp_chat lines, states and close codes, with no sockets."""

from __future__ import annotations

import pytest

from ws_chat.bridge import (
    BINARY_LINE,
    LINE_BREAK_LINE,
    LOST_LINE,
    NORMAL,
    POLICY,
    TRY_AGAIN,
    UNAVAILABLE_LINE,
    Bridge,
    Close,
    SendText,
    State,
    ToChat,
    is_quit,
)


def online(max_chat_line: int = 100) -> Bridge:
    b = Bridge(max_chat_line)
    assert b.chat_connected() == []
    assert b.state is State.ONLINE
    return b


def test_starts_connecting_and_ignores_frames_until_online() -> None:
    b = Bridge()
    assert b.state is State.CONNECTING
    assert b.browser_message("hello") == []
    assert b.chat_data(b"* welcome x\n") == []


def test_unavailable_sends_the_line_then_try_again_later() -> None:
    b = Bridge()
    assert b.chat_unavailable() == [
        SendText(UNAVAILABLE_LINE),
        Close(TRY_AGAIN, "chat server unavailable"),
    ]
    assert b.state is State.CLOSED
    assert b.chat_unavailable() == []  # said once


def test_browser_text_becomes_one_line() -> None:
    b = online()
    assert b.browser_message("hello world") == [ToChat(b"hello world\n")]
    assert b.browser_message("/nick alice") == [ToChat(b"/nick alice\n")]
    assert b.browser_message("héllo 你好") == [ToChat("héllo 你好\n".encode())]


@pytest.mark.parametrize("text", ["a\nb", "a\r\nb", "a\r", "\n"])
def test_line_breaks_inside_a_frame_are_refused_not_split(text: str) -> None:
    assert online().browser_message(text) == [SendText(LINE_BREAK_LINE)]


def test_binary_frames_get_an_error_line() -> None:
    assert online().browser_message(b"hello") == [SendText(BINARY_LINE)]


def test_empty_frame_is_dropped() -> None:
    assert online().browser_message("") == []


def test_chat_lines_become_frames_without_newline_and_cr() -> None:
    b = online()
    assert b.chat_data(b"* welcome guest-1: hi\r\n<bob> yo\n") == [
        SendText("* welcome guest-1: hi"),
        SendText("<bob> yo"),
    ]


def test_partial_chat_lines_wait_for_their_newline() -> None:
    b = online()
    assert b.chat_data(b"<bob> hel") == []
    assert b.chat_data(b"lo\n<al") == [SendText("<bob> hello")]
    assert b.chat_data(b"ice> x\n") == [SendText("<alice> x")]


def test_invalid_utf8_from_chat_is_replaced_not_fatal() -> None:
    assert online().chat_data(b"<bob> \xff\xfe ok\n") == [SendText("<bob> \ufffd\ufffd ok")]


def test_overlong_chat_line_is_cut_and_the_rest_discarded() -> None:
    b = online(max_chat_line=10)
    assert b.chat_data(b"x" * 25) == [SendText("x" * 10)]
    assert b.chat_data(b"y" * 30) == []  # still inside the same line
    assert b.chat_data(b"zz\n<a> ok\n") == [SendText("<a> ok")]


def test_overlong_line_with_newline_in_one_chunk_is_cut() -> None:
    b = online(max_chat_line=5)
    assert b.chat_data(b"abcdefgh\nok\n") == [SendText("abcde"), SendText("ok")]


def test_chat_eof_without_quit_is_try_again_later() -> None:
    b = online()
    actions = b.chat_eof()
    assert actions[0] == SendText(LOST_LINE)
    assert isinstance(actions[1], Close) and actions[1].code == TRY_AGAIN
    assert b.state is State.CLOSED
    assert b.browser_message("late") == []
    assert b.chat_eof() == []


def test_chat_eof_flushes_a_last_unterminated_line() -> None:
    b = online()
    b.chat_data(b"* server shutting down")
    actions = b.chat_eof()
    assert actions[0] == SendText("* server shutting down")
    assert actions[-1].code == TRY_AGAIN  # type: ignore[union-attr]


@pytest.mark.parametrize("quit_line", ["/quit", "exit", "EXIT", "/quit "])
def test_eof_after_quit_is_a_normal_close(quit_line: str) -> None:
    b = online()
    assert b.browser_message(quit_line) == [ToChat(quit_line.encode() + b"\n")]
    assert b.chat_data(b"* bye alice\n") == [SendText("* bye alice")]
    assert b.chat_eof() == [Close(NORMAL, "bye")]


def test_idle_drop_is_normal_and_server_full_is_try_again() -> None:
    b = online()
    b.chat_data(b"! idle too long: goodbye\n")
    assert b.chat_eof() == [Close(NORMAL, "idle too long")]
    b = online()
    b.chat_data(b"! server full: try again later\n")
    assert b.chat_eof() == [Close(TRY_AGAIN, "chat server full: try again later")]


def test_too_slow_closes_with_policy_once() -> None:
    b = online()
    assert b.too_slow() == [Close(POLICY, "too slow: outbound queue full")]
    assert b.too_slow() == []
    assert b.chat_data(b"<a> more\n") == []


def test_browser_closed_stops_everything() -> None:
    b = online()
    assert b.browser_closed() == []
    assert b.state is State.CLOSED
    assert b.chat_eof() == []


def test_is_quit_matches_tcp_chat() -> None:
    assert is_quit("/quit") and is_quit("Exit")
    assert not is_quit("/quitter") and not is_quit("exit now") and not is_quit("//quit")


def test_close_reasons_fit_a_close_frame() -> None:
    for b in (online(), Bridge()):
        actions = b.chat_eof() if b.state is State.ONLINE else b.chat_unavailable()
        for a in actions:
            if isinstance(a, Close):
                assert len(a.reason.encode()) <= 123


@pytest.mark.parametrize("line", ["/QUIT", "/Quit", "/quit now", " exit "])
def test_every_quit_tcp_chat_honours_closes_with_bye(line: str) -> None:
    """tcp_chat quits on ``/QUIT`` and ``/quit TEXT`` too (commands are case-insensitive, the
    argument ignored); the bridge must call that a normal leave (1000), not a lost server."""
    b = online()
    assert is_quit(line)
    assert b.browser_message(line) == [ToChat(line.encode() + b"\n")]
    b.chat_data(b"* bye guest-1\n")
    assert b.chat_eof() == [Close(NORMAL, "bye")]


def test_a_message_that_only_looks_like_quit_is_not_a_quit() -> None:
    """`` /quit`` is an ordinary message to tcp_chat: a later server loss must still be 1013."""
    b = online()
    assert not is_quit(" /quit")
    b.browser_message(" /quit")
    reason = "chat server closed the connection: try again later"
    assert b.chat_eof()[-1] == Close(TRY_AGAIN, reason)
