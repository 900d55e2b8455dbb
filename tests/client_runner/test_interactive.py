"""The terminal clients against tiny fake servers on 127.0.0.1, fed stdin through a pipe."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from client_runner.chat_client import run_chat
from client_runner.udp_client import run_udp

pytestmark = pytest.mark.timeout(30)


class LineServer:
    """One connection: greets, answers each line like tcp_chat would, records what came."""

    def __init__(self, close_after_welcome: bool = False) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.close_after_welcome = close_after_welcome
        self.received: list[str] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"* welcome guest-1: type to talk\n* evil \x1b[2J clear\n")
            if self.close_after_welcome:
                return
            for raw in lines:
                line = raw.decode().rstrip("\n")
                self.received.append(line)
                if line == "/quit":
                    conn.sendall(b"* bye guest-1\n")
                    return
                conn.sendall(f"> delivered to 0: {line}\n".encode())
                conn.sendall("<bob> 你好\n".encode())

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def stdin_pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        with contextlib.suppress(OSError):
            os.close(fd)


def chat(server: LineServer, stdin_fd: int) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_chat("127.0.0.1", server.port, stdin_fd=stdin_fd, out=out, err=err, timeout=5)
    return code, out.getvalue(), err.getvalue()


def test_chat_sends_lines_prints_replies_and_quits(stdin_pipe: tuple[int, int]) -> None:
    server = LineServer()
    r, w = stdin_pipe
    os.write(w, b"hello room\r\n/quit\n")
    code, out, _ = chat(server, r)
    server.close()
    assert code == 0
    assert server.received == ["hello room", "/quit"]
    lines = out.splitlines()
    assert lines[0] == "* welcome guest-1: type to talk"
    assert "> delivered to 0: hello room" in lines
    assert "<bob> 你好" in lines
    assert lines[-1] == "* bye guest-1"  # waited for the goodbye before leaving


def test_server_escape_sequences_are_not_printed(stdin_pipe: tuple[int, int]) -> None:
    server = LineServer()
    r, w = stdin_pipe
    os.write(w, b"/quit\n")
    _, out, _ = chat(server, r)
    server.close()
    assert "\x1b" not in out and "* evil ?[2J clear" in out


def test_eof_on_stdin_sends_quit(stdin_pipe: tuple[int, int]) -> None:
    server = LineServer()
    r, w = stdin_pipe
    os.write(w, b"last words")  # no newline, then EOF
    os.close(w)
    code, out, _ = chat(server, r)
    server.close()
    assert code == 0
    assert server.received == ["last words", "/quit"]
    assert out.splitlines()[-1] == "* bye guest-1"


def test_server_close_ends_the_client_while_stdin_stays_open(
    stdin_pipe: tuple[int, int],
) -> None:
    server = LineServer(close_after_welcome=True)
    r, _w = stdin_pipe  # nobody types and stdin never ends: only the server's close can end it
    code, out, err = chat(server, r)
    server.close()
    assert code == 0
    assert out.startswith("* welcome guest-1")
    assert "the server closed the connection" in err


def test_chat_to_a_closed_port_fails_clearly(stdin_pipe: tuple[int, int]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    out, err = io.StringIO(), io.StringIO()
    code = run_chat("127.0.0.1", port, stdin_fd=stdin_pipe[0], out=out, err=err, timeout=2)
    assert code == 1 and f"cannot connect to 127.0.0.1:{port}" in err.getvalue()


class UdpServer:
    """Answers each datagram ``ECHO <text>`` and, for ``join``, also sends a broadcast."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.got: list[bytes] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            self.got.append(data)
            self.sock.sendto(b"ECHO " + data, addr)
            if data == b"join":
                self.sock.sendto(b"[broadcast] alice: hi", addr)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def test_udp_prompt_prints_replies_with_rtt_and_broadcasts(stdin_pipe: tuple[int, int]) -> None:
    server = UdpServer()
    r, w = stdin_pipe
    os.write(w, b"ping\n\njoin\n")
    os.close(w)
    out, err = io.StringIO(), io.StringIO()
    code = run_udp("127.0.0.1", server.port, stdin_fd=r, out=out, err=err, timeout=5)
    server.close()
    assert code == 0
    assert server.got == [b"ping", b"join"]  # the empty line was not sent
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("< ECHO ping  (") and lines[0].endswith(" ms)")
    assert lines[1].startswith("< ECHO join  (")
    assert lines[2] == "< [broadcast] alice: hi"  # unsolicited: no RTT


def test_udp_prompt_reports_a_silent_port(stdin_pipe: tuple[int, int]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r, w = stdin_pipe
    os.write(w, b"ping\n")
    os.close(w)  # EOF: the client waits (up to its timeout) for the reply that never comes
    out, err = io.StringIO(), io.StringIO()
    code = run_udp("127.0.0.1", port, stdin_fd=r, out=out, err=err, timeout=0.5)
    assert code == 0
    # Linux answers a connected UDP socket on loopback with "port unreachable"
    assert out.getvalue() == f"! nothing is listening at 127.0.0.1:{port} (port unreachable)\n"


def test_ctrl_c_in_the_chat_process_says_quit_and_exits_cleanly() -> None:
    server = LineServer()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "client_runner", "chat", "--target", f"127.0.0.1:{server.port}"],
        cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("* welcome guest-1")  # connected and reading
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    server.close()
    assert proc.returncode == 0, err
    assert server.received == ["/quit"]
    assert "* bye guest-1" in out and "Traceback" not in err
