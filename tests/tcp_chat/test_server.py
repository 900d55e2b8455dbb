"""Socket tests: both server models, real processes on 127.0.0.1, port 0, same expectations."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tcp_chat.chatclient import Peer, wait_heartbeat

MODELS = ["asyncio", "threads"]
Start = Callable[..., tuple[int, subprocess.Popen[bytes]]]


@pytest.fixture(params=MODELS)
def chat(request: pytest.FixtureRequest, run_service: Callable[..., subprocess.Popen[bytes]],
         tmp_path: Path) -> Start:
    """Start a server of the parametrized model on port 0; returns (port, process)."""
    model = request.param

    def start(*extra: str) -> tuple[int, subprocess.Popen[bytes]]:
        heartbeat = tmp_path / f"hb-{model}-{len(extra)}"
        proc = run_service("tcp_chat", "--port", "0", "--model", model,
                           "--heartbeat-file", str(heartbeat), *extra)
        return wait_heartbeat(heartbeat, proc), proc

    return start


@pytest.fixture
def peers() -> Callable[..., list[Peer]]:
    opened: list[Peer] = []

    def connect(port: int, n: int) -> list[Peer]:
        new = []
        for _ in range(n):
            p = Peer(port)
            p.welcome()
            for old in opened:  # everyone already in sees the join
                assert old.line() == f"* {p.nick} joined"
            opened.append(p)
            new.append(p)
        return new

    yield connect
    for p in opened:
        p.close()


def test_welcome_join_nick_and_broadcast(chat: Start, peers: Callable[..., list[Peer]]) -> None:
    port, _ = chat()
    a, b, c = peers(port, 3)
    old = a.nick
    assert a.ask("/nick alice") == "= nick alice"
    assert b.line() == c.line() == f"* {old} is now alice"
    assert a.ask("hello room") == "> delivered to 2: hello room"
    assert b.line() == c.line() == "<alice> hello room"
    # The sender got exactly one line: the next thing it reads answers its next command.
    assert a.ask("/help") == "= help /nick NAME, /who, /msg NAME TEXT, /time, /help, /quit"


def test_msg_who_time(chat: Start, peers: Callable[..., list[Peer]]) -> None:
    port, _ = chat()
    a, b, c = peers(port, 3)
    a.ask("/nick zed")
    b.line(), c.line()
    b.ask("/nick Amy")
    a.line(), c.line()
    assert a.ask("/msg amy psst") == "> sent to Amy: psst"
    assert b.line() == "[zed] psst"
    assert c.ask("/who") == f"= who 3: Amy {c.nick} zed"
    assert c.ask("/time").startswith("= time 20")
    assert a.ask("/msg nobody x") == "! no such user: nobody"
    assert a.ask("/frob") == "! unknown command: /frob (try /help)"
    # c never saw the private message: its next line answers its own command.
    assert c.ask("/help").startswith("= help ")


@pytest.mark.parametrize("word", ["/quit", "exit"])
def test_quit_and_exit(chat: Start, peers: Callable[..., list[Peer]], word: str) -> None:
    port, _ = chat()
    a, b = peers(port, 2)
    assert a.ask(word) == f"* bye {a.nick}"
    assert a.at_eof()
    assert b.line() == f"* {a.nick} left"


def test_disconnect_announced(chat: Start, peers: Callable[..., list[Peer]]) -> None:
    port, _ = chat()
    a, b = peers(port, 2)
    a.close()
    assert b.line() == f"* {a.nick} left"


def test_bad_input_answered_and_others_still_served(
    chat: Start, peers: Callable[..., list[Peer]]
) -> None:
    port, _ = chat()
    a, b = peers(port, 2)
    assert a.ask(b"x" * 5000 + b"\n") == "! line too long: max 4096 bytes"
    assert a.ask(b"caf\xe9 \xff\n") == "! invalid UTF-8: line dropped"
    assert a.ask(b"x" * 4096 + b"\r\n") == "> delivered to 1: " + "x" * 4096
    assert b.line() == f"<{a.nick}> " + "x" * 4096
    assert a.ask("still here") == "> delivered to 1: still here"
    assert b.line() == f"<{a.nick}> still here"
    assert b.ask("me too") == "> delivered to 1: me too"
    assert a.line() == f"<{b.nick}> me too"


def test_control_chars_scrubbed(chat: Start, peers: Callable[..., list[Peer]]) -> None:
    port, _ = chat()
    a, b = peers(port, 2)
    assert a.ask(b"\x1b[2J\x07hi\tthere\x7f\xc2\x9b\n") == "> delivered to 1: [2Jhi there"
    assert b.line() == f"<{a.nick}> [2Jhi there"
    a.send(b"\x00\x1b\n")  # empty after scrubbing: no reply at all
    assert a.ask("/help").startswith("= help ")


def test_nick_errors(chat: Start, peers: Callable[..., list[Peer]]) -> None:
    port, _ = chat()
    a, b = peers(port, 2)
    a.ask("/nick alice")
    b.line()
    assert b.ask("/nick ALICE") == "! nick taken: ALICE"
    assert b.ask("/nick 9lives") == (
        "! invalid nick: 1 to 16 of A-Z a-z 0-9 _ -, starting with a letter"
    )
    assert b.ask("/nick") == "! usage: /nick NAME"


def test_max_clients_refused_with_a_line(chat: Start, peers: Callable[..., list[Peer]]) -> None:
    port, _ = chat("--max-clients", "2")
    a, _b = peers(port, 2)
    third = Peer(port)
    assert third.line() == "! server full: try again later"
    assert third.at_eof()
    third.close()
    assert a.ask("/who").startswith("= who 2: ")


def test_idle_timeout(chat: Start) -> None:
    port, _ = chat("--idle-timeout", "0.5")
    a = Peer(port)
    a.welcome()
    assert a.line() == "! idle too long: goodbye"
    assert a.at_eof()
    a.close()


def test_client_that_never_reads_is_dropped_and_others_keep_up(
    chat: Start, peers: Callable[..., list[Peer]]
) -> None:
    port, _ = chat("--queue-lines", "8")
    sender, reader = peers(port, 2)
    slow = Peer(port, rcvbuf=4096)
    slow.welcome()
    assert sender.line() == reader.line() == f"* {slow.nick} joined"
    text = "y" * 4000
    left = f"* {slow.nick} left (too slow)"
    seen: dict[str, list[str]] = {"sender": [], "reader": []}
    for _ in range(20000):  # at most 80 MB over loopback; the drop comes far sooner
        sender.send(text)
        # Each side reads up to its own line for this message; the notice may come first.
        while (line := sender.line()) == left:
            seen["sender"].append(line)
        assert line.startswith("> delivered to ") and line.endswith(text)
        while (line := reader.line()) == left:
            seen["reader"].append(line)
        assert line == f"<{sender.nick}> {text}"
        if seen["reader"]:
            break
    else:
        pytest.fail("the client that never reads was never dropped")
    assert sender.ask("after") == "> delivered to 1: after"
    assert reader.line() == f"<{sender.nick}> after"
    assert seen == {"sender": [left], "reader": [left]}
    slow.close()


def test_sigterm_tells_everyone_and_exits(
    chat: Start, peers: Callable[..., list[Peer]], tmp_path: Path
) -> None:
    port, proc = chat()
    a, b = peers(port, 2)
    proc.send_signal(signal.SIGTERM)
    for p in (a, b):
        assert p.line() == "* server shutting down"
        assert p.at_eof()
    assert proc.wait(timeout=10) == 0


def test_port_zero_logged_and_healthcheck_is_silent(
    chat: Start, peers: Callable[..., list[Peer]], tmp_path: Path
) -> None:
    port, proc = chat()
    (a,) = peers(port, 1)
    heartbeat = next(tmp_path.glob("hb-*"))
    health = [sys.executable, "-m", "tcp_chat.healthcheck", "--heartbeat-file", str(heartbeat)]
    assert subprocess.run(health, timeout=30).returncode == 0
    assert a.ask("/who") == f"= who 1: {a.nick}"  # the healthcheck did not join
    log = next(tmp_path.glob("tcp_chat-*.log")).read_text()
    assert f"listening on 127.0.0.1:{port} " in log
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert subprocess.run(health, timeout=30, capture_output=True).returncode == 1


def test_many_lines_in_one_segment_all_handled_in_order(
    chat: Start, peers: Callable[..., list[Peer]]
) -> None:
    port, _ = chat()
    a, b = peers(port, 2)
    a.send(b"".join(f"m{i}\n".encode() for i in range(300)) + b"half a li")
    for i in range(300):
        assert a.line() == f"> delivered to 1: m{i}"
        assert b.line() == f"<{a.nick}> m{i}"
    a.send(b"ne\n")  # the unfinished line was kept and completes now
    assert a.line() == "> delivered to 1: half a line"


def _tcp_state(sock: socket.socket) -> int:
    """The kernel's TCP state of ``sock`` (1 established, 7 closed), read without reading data."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)[0]


def test_dropped_client_that_never_reads_is_not_kept_open_forever(chat: Start) -> None:
    """A client that filled its output and then went silent is dropped for idleness; the
    goodbye cannot be flushed to it, so the server must not wait for that flush forever (one
    such socket per attacker connection would exhaust file descriptors)."""
    port, _ = chat("--idle-timeout", "1")
    hog = Peer(port, rcvbuf=4096)
    hog.welcome()
    hog.sock.setblocking(False)
    line = b"//" + b"x" * 4000 + b"\n"  # each line echoes ~4 KB back to the hog
    stalled_since, sent = time.monotonic(), 0
    while sent < 64 << 20 and time.monotonic() - stalled_since < 1.0:
        try:
            sent += hog.sock.send(line)
            stalled_since = time.monotonic()
        except BlockingIOError:
            time.sleep(0.01)
        except ConnectionError:  # already dropped and reset: what the test wants
            break
    # Idle drop after 1 s, then the shutdown grace (1.5 s) is more than enough to give up.
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and _tcp_state(hog.sock) == 1:
        time.sleep(0.1)
    assert _tcp_state(hog.sock) != 1, "server still holds the connection of a dropped client"
    hog.close()
