"""Pure tests of the room: joins, commands and the deliveries they cause (no sockets)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tcp_chat.room import HELP, INVALID_NICK, SERVER_FULL, SHUTTING_DOWN, Outcome, Room

WELCOME_1 = "* welcome guest-1: type to talk, /help for commands, /quit to leave"


def room_with(n: int, **kw: object) -> Room:
    room = Room(**kw)  # type: ignore[arg-type]
    for cid in range(1, n + 1):
        room.join(cid)
    return room


def to(outcome: Outcome, cid: int) -> list[str]:
    return [line for c, line in outcome.deliveries if c == cid]


def test_join_welcomes_and_announces_to_others_only() -> None:
    room = Room()
    first = room.join(1)
    assert first.deliveries == [(1, WELCOME_1)]
    second = room.join(2)
    assert to(second, 1) == ["* guest-2 joined"]
    assert to(second, 2) == [
        "* welcome guest-2: type to talk, /help for commands, /quit to leave"
    ]
    assert second.close == []


def test_join_twice_is_a_bug() -> None:
    room = room_with(1)
    with pytest.raises(ValueError):
        room.join(1)


def test_full_room_refuses_instead_of_welcoming() -> None:
    room = room_with(2, max_clients=2)
    out = room.join(3)
    assert out.deliveries == [(3, SERVER_FULL)]
    assert out.close == [3]
    assert 3 not in room and len(room) == 2


def test_say_reaches_everyone_else_and_sender_gets_one_ack_last() -> None:
    room = room_with(3)
    out = room.handle_line(1, "hello all")
    assert to(out, 2) == ["<guest-1> hello all"]
    assert to(out, 3) == ["<guest-1> hello all"]
    assert to(out, 1) == ["> delivered to 2: hello all"]
    assert out.deliveries[-1] == (1, "> delivered to 2: hello all")


def test_alone_in_room_delivers_to_zero() -> None:
    room = room_with(1)
    assert room.handle_line(1, "anyone?").deliveries == [(1, "> delivered to 0: anyone?")]


def test_double_slash_is_text_starting_with_slash() -> None:
    room = room_with(2)
    out = room.handle_line(1, "//shrug")
    assert to(out, 2) == ["<guest-1> /shrug"]


def test_control_chars_scrubbed_before_anyone_sees_them() -> None:
    room = room_with(2)
    out = room.handle_line(1, "\x1b[31mred\x07\tx")
    assert to(out, 2) == ["<guest-1> [31mred x"]


def test_line_empty_after_scrub_is_ignored() -> None:
    room = room_with(2)
    assert room.handle_line(1, "").deliveries == []
    assert room.handle_line(1, "\x00\x1b").deliveries == []


def test_nick_change_announced_and_reflected_in_messages() -> None:
    room = room_with(2)
    out = room.handle_line(1, "/nick alice")
    assert to(out, 1) == ["= nick alice"]
    assert to(out, 2) == ["* guest-1 is now alice"]
    assert to(room.handle_line(1, "hi"), 2) == ["<alice> hi"]
    assert room.nick(1) == "alice"


@pytest.mark.parametrize("bad", ["1abc", "a" * 17, "al ice", "al!ce", "-x", "é"])
def test_invalid_nick(bad: str) -> None:
    room = room_with(1)
    assert room.handle_line(1, f"/nick {bad}").deliveries == [(1, INVALID_NICK)]
    assert room.nick(1) == "guest-1"


def test_longest_valid_nick() -> None:
    room = room_with(1)
    name = "A" + "b_-9" * 3 + "zzz"
    assert len(name) == 16
    assert to(room.handle_line(1, f"/nick {name}"), 1) == [f"= nick {name}"]


def test_nick_taken_ignoring_case_but_own_case_change_allowed() -> None:
    room = room_with(2)
    room.handle_line(1, "/nick alice")
    assert room.handle_line(2, "/nick ALICE").deliveries == [(2, "! nick taken: ALICE")]
    out = room.handle_line(1, "/nick Alice")
    assert to(out, 1) == ["= nick Alice"] and to(out, 2) == ["* alice is now Alice"]
    same = room.handle_line(1, "/nick Alice")
    assert same.deliveries == [(1, "= nick Alice")]


def test_nick_usage() -> None:
    room = room_with(1)
    assert room.handle_line(1, "/nick").deliveries == [(1, "! usage: /nick NAME")]
    assert room.handle_line(1, "/nick   ").deliveries == [(1, "! usage: /nick NAME")]


def test_guest_numbers_skip_taken_nicks() -> None:
    room = room_with(1)
    room.handle_line(1, "/nick guest-2")
    room.join(2)
    assert room.nick(2) == "guest-3"


def test_old_nick_is_free_after_change() -> None:
    room = room_with(2)
    room.handle_line(1, "/nick alice")
    assert to(room.handle_line(2, "/nick guest-1"), 2) == ["= nick guest-1"]


def test_who_sorted_case_insensitively() -> None:
    room = room_with(3)
    room.handle_line(1, "/nick bob")
    room.handle_line(2, "/nick Alice")
    room.handle_line(3, "/nick carol")
    assert room.handle_line(3, "/who").deliveries == [(3, "= who 3: Alice bob carol")]


def test_msg_private_and_acknowledged() -> None:
    room = room_with(3)
    room.handle_line(2, "/nick Bob")
    out = room.handle_line(1, "/msg bob  psst there")
    assert to(out, 2) == ["[guest-1] psst there"]
    assert to(out, 1) == ["> sent to Bob: psst there"]
    assert to(out, 3) == []


@pytest.mark.parametrize("line", ["/msg", "/msg bob", "/msg bob   "])
def test_msg_usage(line: str) -> None:
    room = room_with(2)
    assert room.handle_line(1, line).deliveries == [(1, "! usage: /msg NAME TEXT")]


def test_msg_unknown_user() -> None:
    room = room_with(1)
    assert room.handle_line(1, "/msg nobody hi").deliveries == [(1, "! no such user: nobody")]


def test_time_is_iso_utc_from_the_clock() -> None:
    fixed = datetime(2026, 11, 27, 23, 40, 0, 500, tzinfo=timezone(timedelta(hours=8)))
    room = Room(clock=lambda: fixed)
    room.join(1)
    assert room.handle_line(1, "/time").deliveries == [(1, "= time 2026-11-27T15:40:00Z")]


def test_help_and_unknown_command() -> None:
    room = room_with(1)
    assert room.handle_line(1, "/help").deliveries == [(1, HELP)]
    assert room.handle_line(1, "/HELP").deliveries == [(1, HELP)]
    assert room.handle_line(1, "/foo bar").deliveries == [
        (1, "! unknown command: /foo (try /help)")
    ]


@pytest.mark.parametrize("line", ["/quit", "exit", "EXIT", "  Exit "])
def test_quit_and_exit(line: str) -> None:
    room = room_with(2)
    out = room.handle_line(1, line)
    assert to(out, 1) == ["* bye guest-1"]
    assert to(out, 2) == ["* guest-1 left"]
    assert out.close == [1]
    assert 1 not in room


def test_exit_only_as_whole_line() -> None:
    room = room_with(2)
    assert to(room.handle_line(1, "exit now"), 2) == ["<guest-1> exit now"]


def test_disconnect_announced_and_idempotent() -> None:
    room = room_with(2)
    out = room.leave(1)
    assert out.deliveries == [(2, "* guest-1 left")] and out.close == []
    assert room.leave(1).deliveries == []


def test_idle_drop_says_goodbye_and_closes() -> None:
    room = room_with(2)
    out = room.leave(1, "idle")
    assert to(out, 1) == ["! idle too long: goodbye"]
    assert to(out, 2) == ["* guest-1 left (idle)"]
    assert out.close == [1]


def test_slow_drop_sends_nothing_to_the_slow_one() -> None:
    room = room_with(2)
    out = room.leave(2, "too slow")
    assert to(out, 2) == [] and to(out, 1) == ["* guest-2 left (too slow)"]
    assert out.close == [2]


def test_nick_free_after_leaving() -> None:
    room = room_with(2)
    room.handle_line(1, "/nick alice")
    room.leave(1)
    assert to(room.handle_line(2, "/nick alice"), 2) == ["= nick alice"]


def test_lines_from_non_members_are_ignored() -> None:
    room = room_with(1)
    assert room.handle_line(99, "hello").deliveries == []


def test_shutdown_tells_and_closes_everyone() -> None:
    room = room_with(3)
    out = room.shutdown()
    assert sorted(out.deliveries) == [(1, SHUTTING_DOWN), (2, SHUTTING_DOWN), (3, SHUTTING_DOWN)]
    assert sorted(out.close) == [1, 2, 3] and len(room) == 0


def test_announce_limit_silences_notices_in_big_rooms_only() -> None:
    room = room_with(3, announce_limit=2)
    assert [c for c, _ in room.join(4).deliveries] == [4]  # welcome only
    assert room.leave(4).deliveries == []
    room.leave(3)
    assert to(room.join(5), 1) == ["* guest-5 joined"]  # back to 2 members before the join
