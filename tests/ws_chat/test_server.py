"""ws_chat over real sockets: a real tcp_chat subprocess, ws_chat on free ports, a real client."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.ws_chat.helpers import TcpPeer, start_stack, welcome_nick, ws_expect
from ws_chat.bridge import BINARY_LINE, LINE_BREAK_LINE, LOST_LINE, UNAVAILABLE_LINE

RunService = Callable[..., subprocess.Popen[bytes]]


def closed_code(ws: object) -> tuple[int | None, str]:
    """Read until the server closes; its close code and reason."""
    try:
        while True:
            ws.recv(timeout=5)  # type: ignore[attr-defined]
    except ConnectionClosed as exc:
        return (exc.rcvd.code if exc.rcvd else None), (exc.rcvd.reason if exc.rcvd else "")


def get(url: str) -> tuple[int, str, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def test_page_is_served_and_other_paths_are_404(run_service: RunService, tmp_path: Path) -> None:
    stack = start_stack(run_service, tmp_path)
    status, ctype, body = get(f"http://127.0.0.1:{stack.ws_port}/")
    assert status == 200 and ctype.startswith("text/html")
    assert b"/chat.js" in body
    assert get(f"http://127.0.0.1:{stack.ws_port}/chat.js")[0] == 200
    assert get(f"http://127.0.0.1:{stack.ws_port}/../etc/passwd")[0] == 404


def test_healthcheck_passes_without_joining_the_room(
    run_service: RunService, tmp_path: Path
) -> None:
    stack = start_stack(run_service, tmp_path)
    tcp = TcpPeer(stack.chat_port)
    result = subprocess.run(
        [sys.executable, "-m", "ws_chat.healthcheck"],
        env={"WS_CHAT_PORT": str(stack.ws_port)},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    tcp.send("/who")
    assert tcp.expect("= who ") == f"= who 1: {tcp.nick}"


def test_healthcheck_fails_when_nothing_listens(tmp_path: Path) -> None:
    from tests.conftest import free_port

    result = subprocess.run(
        [sys.executable, "-m", "ws_chat.healthcheck"],
        env={"WS_CHAT_PORT": str(free_port())},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert result.returncode == 1


def test_handshake_with_allowed_origin_gets_the_welcome(
    run_service: RunService, tmp_path: Path
) -> None:
    stack = start_stack(run_service, tmp_path)
    with stack.connect() as ws:
        assert ws_expect(ws, "* welcome guest-").endswith("/quit to leave")
    with stack.connect(origin=f"http://localhost:{stack.ws_port}") as ws:
        ws_expect(ws, "* welcome guest-")


@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
def test_bad_origin_is_refused_with_403(
    run_service: RunService, tmp_path: Path, origin: str
) -> None:
    stack = start_stack(run_service, tmp_path)
    with pytest.raises(InvalidStatus) as info:
        stack.connect(origin=origin)
    assert info.value.response.status_code == 403


def test_no_origin_refused_when_required(run_service: RunService, tmp_path: Path) -> None:
    stack = start_stack(run_service, tmp_path, "--allow-no-origin", "false")
    with pytest.raises(InvalidStatus) as info:
        stack.connect(origin=None)
    assert info.value.response.status_code == 403


def test_lines_flow_both_ways_between_websocket_and_tcp(
    run_service: RunService, tmp_path: Path
) -> None:
    stack = start_stack(run_service, tmp_path)
    tcp = TcpPeer(stack.chat_port)
    with stack.connect() as ws:
        ws_nick = welcome_nick(ws)
        tcp.expect(f"* {ws_nick} joined")
        ws.send("hello from the browser ✓")
        assert ws_expect(ws, "> delivered to ") == "> delivered to 1: hello from the browser ✓"
        assert tcp.expect("<") == f"<{ws_nick}> hello from the browser ✓"
        tcp.send("hello from nc")
        assert ws_expect(ws, "<") == f"<{tcp.nick}> hello from nc"
    tcp.expect(f"* {ws_nick} left")


def test_nick_who_and_msg_work_as_in_tcp_chat(run_service: RunService, tmp_path: Path) -> None:
    stack = start_stack(run_service, tmp_path)
    tcp = TcpPeer(stack.chat_port)
    with stack.connect() as ws:
        _ = welcome_nick(ws)
        ws.send("/nick alice")
        assert ws_expect(ws, "= nick") == "= nick alice"
        tcp.expect("* ")  # joined
        ws.send("/who")
        assert ws_expect(ws, "= who") == f"= who 2: alice {tcp.nick}"
        ws.send(f"/msg {tcp.nick} psst")
        assert ws_expect(ws, "> sent to") == f"> sent to {tcp.nick}: psst"
        assert tcp.expect("[") == "[alice] psst"
        ws.send("/nosuch")
        assert ws_expect(ws, "! ").startswith("! unknown command: /nosuch")


def test_line_breaks_and_binary_frames_get_errors_and_stay_open(
    run_service: RunService, tmp_path: Path
) -> None:
    stack = start_stack(run_service, tmp_path)
    tcp = TcpPeer(stack.chat_port)
    with stack.connect() as ws:
        _ = welcome_nick(ws)
        ws.send("one\n/nick injected")
        assert ws_expect(ws, "! ") == LINE_BREAK_LINE
        ws.send(b"\x00\x01binary")
        assert ws_expect(ws, "! ") == BINARY_LINE
        ws.send("still here")
        assert ws_expect(ws, "> delivered") == "> delivered to 1: still here"
    assert tcp.expect("<").endswith("> still here")


def test_oversize_message_closes_with_1009(run_service: RunService, tmp_path: Path) -> None:
    stack = start_stack(run_service, tmp_path, "--max-message-bytes", "4096")
    with stack.connect() as ws:
        welcome_nick(ws)
        ws.send("x" * 4096)  # exactly the limit: tcp_chat's longest line, delivered
        assert ws_expect(ws, "> delivered").endswith("x" * 4096)
        ws.send("y" * 4097)
        assert closed_code(ws)[0] == 1009


def test_quit_closes_normally(run_service: RunService, tmp_path: Path) -> None:
    stack = start_stack(run_service, tmp_path)
    with stack.connect() as ws:
        nick = welcome_nick(ws)
        ws.send("/quit")
        assert ws_expect(ws, "* bye") == f"* bye {nick}"
        assert closed_code(ws) == (1000, "bye")


def test_tcp_chat_down_sends_unavailable_then_1013(
    run_service: RunService, tmp_path: Path
) -> None:
    stack = start_stack(run_service, tmp_path, with_chat=False)
    with stack.connect() as ws:
        assert ws.recv(timeout=5) == UNAVAILABLE_LINE
        assert closed_code(ws) == (1013, "chat server unavailable")


def test_tcp_chat_stopping_closes_websockets_with_1013(
    run_service: RunService, tmp_path: Path
) -> None:
    stack = start_stack(run_service, tmp_path)
    assert stack.chat is not None
    with stack.connect() as ws:
        welcome_nick(ws)
        stack.chat.send_signal(signal.SIGTERM)
        assert ws_expect(ws, "* server shutting down") == "* server shutting down"
        assert ws_expect(ws, "! ") == LOST_LINE
        code, reason = closed_code(ws)
        assert code == 1013 and "try again later" in reason
    stack.chat.wait(10)
    # ws_chat itself keeps serving: the next user is told the chat server is unavailable.
    with stack.connect() as ws:
        assert ws.recv(timeout=5) == UNAVAILABLE_LINE


def test_connection_cap_refuses_with_503(run_service: RunService, tmp_path: Path) -> None:
    stack = start_stack(run_service, tmp_path, "--max-connections", "2")
    with stack.connect() as first, stack.connect() as second:
        welcome_nick(first)
        welcome_nick(second)
        with pytest.raises(InvalidStatus) as info:
            stack.connect()
        assert info.value.response.status_code == 503
    # Places free up when users leave (handlers end a moment after the close handshake).
    for _ in range(50):
        try:
            with stack.connect() as third:
                welcome_nick(third)
                break
        except InvalidStatus:
            time.sleep(0.1)
    else:
        raise AssertionError("no place freed after two users left")


def test_browser_that_does_not_read_is_dropped(run_service: RunService, tmp_path: Path) -> None:
    """A user who stops reading fills its outbound queue and the bridge drops it (not tcp_chat,
    which would say "left (too slow)"); the sender carries on."""
    stack = start_stack(run_service, tmp_path, "--queue-lines", "4")
    with stack.connect(max_queue=1) as ws:  # buffers one frame, then stops reading its socket
        nick = welcome_nick(ws)
        sender = TcpPeer(stack.chat_port)
        line = "z" * 4000
        left = ""
        for _batch in range(200):  # at most 200 * 20 lines of 4 kB (16 MB) through the bridge
            for _ in range(20):
                sender.send(line)
            for _ in range(20):
                got = sender.expect("")
                if got.startswith(f"* {nick} left"):
                    left = got
                    break
                assert got.startswith(("> delivered to", "* ")), got[:80]
            if left:
                break
        assert left == f"* {nick} left"
        sender.send("/who")
        assert sender.expect("= who") == f"= who 1: {sender.nick}"


def test_sigterm_closes_websockets_with_1001_and_exits(
    run_service: RunService, tmp_path: Path
) -> None:
    stack = start_stack(run_service, tmp_path)
    tcp = TcpPeer(stack.chat_port)
    with stack.connect() as ws:
        nick = welcome_nick(ws)
        stack.ws.send_signal(signal.SIGTERM)
        assert closed_code(ws)[0] == 1001
    assert stack.ws.wait(10) == 0
    tcp.expect(f"* {nick} left")


def test_garbage_and_silent_clients_are_cut_off_and_others_served(
    run_service: RunService, tmp_path: Path
) -> None:
    import socket

    stack = start_stack(run_service, tmp_path, "--open-timeout", "1")
    silent = socket.create_connection(("127.0.0.1", stack.ws_port), timeout=10)
    garbage = socket.create_connection(("127.0.0.1", stack.ws_port), timeout=10)
    garbage.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
    assert garbage.recv(100) == b""  # closed, no reply
    long_line = socket.create_connection(("127.0.0.1", stack.ws_port), timeout=10)
    long_line.sendall(b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\n\r\n")
    assert long_line.recv(100).startswith(b"HTTP/1.1 414")
    with stack.connect() as ws:  # meanwhile, a real user is served
        welcome_nick(ws)
    assert silent.recv(100) == b""  # the server gave up on the silent one (open timeout)
    for s in (silent, garbage, long_line):
        s.close()


def test_peer_that_never_answers_pings_is_dropped(
    run_service: RunService, tmp_path: Path
) -> None:
    """A raw client completes the handshake and then never answers a ping: the keepalive drops
    it, and with it its tcp_chat membership."""
    import socket

    stack = start_stack(run_service, tmp_path, "--ping-interval", "0.3", "--ping-timeout", "0.3")
    tcp = TcpPeer(stack.chat_port)
    raw = socket.create_connection(("127.0.0.1", stack.ws_port), timeout=10)
    raw.sendall(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + f"Origin: {stack.origin}\r\n\r\n".encode()
    )
    assert raw.recv(12) == b"HTTP/1.1 101"
    joined = tcp.expect("* ").split()
    assert joined[2] == "joined"
    assert tcp.expect(f"* {joined[1]} left") == f"* {joined[1]} left"
    raw.close()


def test_two_origin_headers_are_refused(run_service: RunService, tmp_path: Path) -> None:
    import socket

    stack = start_stack(run_service, tmp_path)
    with socket.create_connection(("127.0.0.1", stack.ws_port), timeout=10) as raw:
        raw.sendall(
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + f"Origin: {stack.origin}\r\nOrigin: http://evil.example\r\n\r\n".encode()
        )
        assert raw.recv(12) == b"HTTP/1.1 403"


def test_control_characters_in_the_path_are_escaped_in_the_log(
    run_service: RunService, tmp_path: Path
) -> None:
    """The request path is the client's text: ESC or CR in it must not reach the log raw
    (terminal escapes, a line overwritten by CR)."""
    stack = start_stack(run_service, tmp_path)
    with socket.create_connection(("127.0.0.1", stack.ws_port), timeout=5) as sock:
        sock.sendall(b"GET /x\x1b[2J\rFAKE HTTP/1.1\r\nHost: a\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 404")
    deadline = time.monotonic() + 5
    text = ""
    while "FAKE" not in text and time.monotonic() < deadline:
        logs = tmp_path.glob("ws_chat*.log")
        text = "".join(p.read_bytes().decode(errors="replace") for p in logs)
        time.sleep(0.05)
    assert "FAKE" in text and "\x1b" not in text and "\r" not in text
