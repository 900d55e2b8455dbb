"""udp_service over real sockets: a server process on 127.0.0.1 and UDP clients."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .conftest import UdpServer, free_udp_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def client(port: int, timeout: float = 3.0) -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.connect(("127.0.0.1", port))
        yield s


def ask(s: socket.socket, data: bytes) -> str:
    s.send(data)
    return s.recv(4096).decode()


def stats(port: int) -> dict[str, int]:
    with client(port) as s:
        text = ask(s, b"stats")
    assert text.startswith("STATS "), text
    return {k: int(v) for k, v in (p.split("=") for p in text.split()[1:])}


def silent(s: socket.socket, wait: float = 0.3) -> bool:
    """True when nothing arrives within ``wait`` (used only to show an absence)."""
    s.settimeout(wait)
    try:
        s.recv(4096)
    except TimeoutError:
        return True
    return False


def test_ping_time_echo(udp_server: UdpServer) -> None:
    port, _ = udp_server()
    with client(port) as s:
        assert ask(s, b"ping\n").startswith("PONG 20")
        assert ask(s, b"TIME").startswith("TIME 20")
        assert ask(s, "bonjour 你好".encode()) == "ECHO bonjour 你好\n"
        assert ask(s, b"seq 42 ping").startswith("seq 42 PONG ")


def test_join_and_broadcast_reach_joined_clients_only(udp_server: UdpServer) -> None:
    port, _ = udp_server()
    with client(port) as a, client(port) as b, client(port) as c, client(port) as outsider:
        assert ask(a, b"join").startswith("JOINED ttl=60 members=1")
        assert ask(b, b"join").startswith("JOINED ttl=60 members=2")
        assert ask(outsider, b"ping").startswith("PONG")  # known to the server, not joined
        assert ask(c, b"broadcast hi all") == "SENT 2 of 2\n"
        c_port = c.getsockname()[1]
        assert a.recv(4096) == f"FROM 127.0.0.1:{c_port} hi all\n".encode()
        assert b.recv(4096) == f"FROM 127.0.0.1:{c_port} hi all\n".encode()
        assert silent(outsider) and silent(c)
        assert ask(b, b"leave") == "LEFT members=1\n"
        a.settimeout(3)
        assert ask(c, b"broadcast again") == "SENT 1 of 1\n"
        assert a.recv(4096).endswith(b" again\n")
        assert silent(b)


def test_join_expires_after_ttl_of_silence(udp_server: UdpServer) -> None:
    port, _ = udp_server("--join-ttl", "0.5")
    with client(port) as a, client(port) as c:
        assert ask(a, b"join").startswith("JOINED ttl=0.5 ")
        deadline = time.monotonic() + 10
        while ask(c, b"broadcast x") != "SENT 0 of 0\n":
            assert time.monotonic() < deadline, "member never expired"
            a.recv(4096)
            time.sleep(0.2)


def test_bad_input_is_answered_or_dropped_and_serving_goes_on(udp_server: UdpServer) -> None:
    port, proc = udp_server("--max-datagram", "512")
    with client(port) as s:
        assert ask(s, b"\xff\xfe\x00garbage") == "ERR invalid-utf8: datagram dropped\n"
        assert ask(s, b"\x00\x01\x02") == "ERR control-chars: datagram dropped\n"
        assert ask(s, b"A" * 513) == "ERR too-long: max 512 bytes\n"
        assert ask(s, b"A" * 60000) == "ERR too-long: max 512 bytes\n"
        s.send(b"")
        s.send(b"  \n")
        assert ask(s, b"ping").startswith("PONG ")
    counts = stats(port)
    assert counts["err.utf8"] == 1 and counts["err.control"] == 1
    assert counts["err.oversize"] == 2 and counts["drop.empty"] == 2
    assert proc.poll() is None


def test_rate_limit_drops_are_counted_in_stats(udp_server: UdpServer) -> None:
    port, _ = udp_server("--rate", "1", "--burst", "50")
    with client(port, timeout=0.5) as s:
        for i in range(200):
            s.send(f"seq {i} ping".encode())
        replies = 0
        while True:
            try:
                s.recv(4096)
                replies += 1
            except TimeoutError:
                break
    assert replies < 60  # the burst plus what refilled meanwhile, never all 200
    time.sleep(1.1)  # let one token come back for the stats request itself
    counts = stats(port)
    assert counts["drop.ratelimit"] >= 140
    assert counts["received"] >= 201


def test_env_variables_configure_the_server(udp_server: UdpServer) -> None:
    port, _ = udp_server(env={"UDP_SERVICE_MAX_DATAGRAM": "8", "UDP_SERVICE_JOIN_TTL": "7"})
    with client(port) as s:
        assert ask(s, b"123456789") == "ERR too-long: max 8 bytes\n"
        assert ask(s, b"join") == "JOINED ttl=7 members=1\n"


def test_port_zero_logs_the_bound_port_and_sigterm_exits_quickly(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "udp_service", "--port", "0"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while "listening on" not in log.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.05)
        port = int(log.read_text().split("listening on 127.0.0.1:")[1].split("/udp")[0])
        with client(port) as s:
            assert ask(s, b"ping").startswith("PONG ")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=2) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "shutting down" in log.read_text()


def test_healthcheck_passes_when_up_and_fails_when_down(udp_server: UdpServer) -> None:
    port, _ = udp_server()
    env = {"UDP_SERVICE_PORT": str(port), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "udp_service.healthcheck"], cwd=ROOT, env=env,
                        capture_output=True, timeout=10)
    assert ok.returncode == 0, ok
    env["UDP_SERVICE_PORT"] = str(free_udp_port())
    down = subprocess.run([sys.executable, "-m", "udp_service.healthcheck"], cwd=ROOT, env=env,
                          capture_output=True, timeout=10)
    assert down.returncode == 1


def test_bad_flag_values_are_refused(tmp_path: Path) -> None:
    for args, env in ((["--port", "70000"], {}), ([], {"UDP_SERVICE_MAX_FANOUT": "many"})):
        done = subprocess.run([sys.executable, "-m", "udp_service", *args], cwd=ROOT,
                              env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, timeout=10)
        assert done.returncode == 2, done
