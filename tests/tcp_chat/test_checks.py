"""The runner's tcp_chat checks against a real server (pass, even with strangers in the room)
and against a naive server (fail)."""

from __future__ import annotations

import socketserver
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from client_runner.checks import base
from client_runner.checks import tcp_chat as chat_checks
from tests.tcp_chat.chatclient import Peer, wait_heartbeat

CHECKS = [c for c in base.CHECKS if c.service == "tcp_chat"]


def context(port: int, timeout: float = 5.0) -> base.Context:
    return base.Context(targets={"tcp_chat": base.Target("127.0.0.1", port)}, timeout=timeout,
                        settings={})


@pytest.fixture(params=["asyncio", "threads"])
def server_port(request: pytest.FixtureRequest, run_service: Callable[..., subprocess.Popen[bytes]],
                tmp_path: Path) -> int:
    heartbeat = tmp_path / "hb"
    proc = run_service("tcp_chat", "--port", "0", "--model", request.param,
                       "--heartbeat-file", str(heartbeat))
    return wait_heartbeat(heartbeat, proc)


def test_all_named_checks_registered() -> None:
    names = [c.name for c in CHECKS]
    assert len(names) == len(set(names)) >= 9
    assert "tcp_chat" in base.PROBES and base.DEFAULT_PORTS["tcp_chat"] == 8888


def test_probe_and_checks_pass_against_real_server(server_port: int) -> None:
    base.PROBES["tcp_chat"](base.Target("127.0.0.1", server_port), 5.0)
    for chk in CHECKS:
        chk.fn(context(server_port))


def test_checks_tolerate_a_chatty_stranger(server_port: int) -> None:
    """Someone with nc keeps talking while the checks run: they must still pass."""
    stranger = Peer(server_port)
    stranger.welcome()
    stop = threading.Event()

    def chatter() -> None:
        n = 0
        while not stop.wait(0.005):
            stranger.send(f"noise {n} from a human")
            n += 1

    def drain() -> None:  # the stranger reads too, or the server would drop it as too slow
        stranger.sock.settimeout(0.1)
        while not stop.is_set():
            try:
                stranger.sock.recv(1 << 20)
            except TimeoutError:
                continue
            except OSError:
                return

    threads = [threading.Thread(target=f, daemon=True) for f in (chatter, drain)]
    for t in threads:
        t.start()
    try:
        for chk in CHECKS:
            chk.fn(context(server_port))
    finally:
        stop.set()
        for t in threads:
            t.join()
        stranger.close()


class NaiveHandler(socketserver.StreamRequestHandler):
    """The course's design: answers its own client only, no room, dies on bad bytes."""

    counter = iter(range(1, 1_000_000))

    def handle(self) -> None:
        self.wfile.write(f"* welcome guest-{next(self.counter)}: hi\n".encode())
        for raw in self.rfile:
            text = raw.decode("utf-8").rstrip("\n")  # raises on invalid UTF-8: connection dies
            if len(raw) > 4097:
                return
            if text.startswith("/nick "):
                reply = f"= nick {text[6:]}"
            elif text == "/time":
                reply = "= time 2026-01-01T00:00:00Z"
            elif text == "/quit":
                return
            else:
                reply = f"> delivered to 0: {text}"
            self.wfile.write(reply.encode() + b"\n")


@pytest.fixture
def naive_port() -> Iterator[int]:
    socketserver.ThreadingTCPServer.daemon_threads = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), NaiveHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_checks_fail_against_a_naive_server(naive_port: int) -> None:
    passed, failed = [], []
    for chk in CHECKS:
        try:
            chk.fn(context(naive_port, timeout=0.5))
        except (base.CheckFailed, OSError):
            failed.append(chk.name)
        else:
            passed.append(chk.name)
    # Only the acknowledgement can be faked by a server that has no room at all.
    assert passed == ["sender's acknowledgement"]
    assert len(failed) == len(CHECKS) - 1


def test_failure_names_what_was_expected(naive_port: int) -> None:
    with pytest.raises(base.CheckFailed) as info:
        chat_checks.two_clients(context(naive_port, timeout=0.5))
    assert info.value.expected is not None and "<a" in str(info.value.expected)
