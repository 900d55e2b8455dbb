"""tls_server beside `openssl s_server`: full and resumed handshakes/s and echo throughput, with
an ECDSA P-256 and an RSA-2048 certificate.

    python3 bench/tls.py           # both key types, 3 alternating rounds, 2 s per measurement
    python3 bench/tls.py --seconds 1 --rounds 1 --kinds ec --lines 5000

Everything runs in this process's run, on this machine, over 127.0.0.1 (free ports):
- certificates from tls_server/make_certs.sh (ec and rsa) in a temporary folder;
- tls_server (`python3 -m tls_server`, one asyncio thread) and `openssl s_server -rev` (C,
  serves one connection at a time, reverses each line) with the same certificate and key;
- handshakes are driven by `openssl s_time` (a C client, the same for both servers): `-new` for
  full handshakes, `-reuse` for TLS 1.2 resumption; TLS 1.3 resumption (tickets) by a Python
  client that checks `session_reused`; rate = connections / wall-clock seconds;
- echo throughput: one Python client pipelines N lines of 64 bytes and reads N replies.
Aim (issue 4): tls_server's full-handshake rate >= 40 % of openssl s_server's.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from procs import free_port, wait_port

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = b"0123456789abcdef" * 4  # 64 bytes






def start_tls_server(certs: Path) -> tuple[subprocess.Popen[bytes], int]:
    port, mtls = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tls_server", "--port", str(port), "--mtls-port", str(mtls),
         "--cert-file", str(certs / "server.crt"), "--key-file", str(certs / "server.key"),
         "--ca-file", str(certs / "ca.crt"), "--log-level", "ERROR",
         "--max-line", "4096", "--max-connections", "1000"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_port(mtls, proc)
    return proc, port


def start_s_server(certs: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = ROOT / "tls_server" / "openssl.cnf"  # same groups and minimum version
    proc = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(certs / "server.crt"),
         "-key", str(certs / "server.key"), "-rev", "-quiet",
         "-cipher", "ECDHE+AESGCM:ECDHE+CHACHA20"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "OPENSSL_CONF": str(conf)},
    )
    wait_port(port, proc)
    return proc, port


def s_time(port: int, ca: Path, seconds: float, *flags: str) -> float:
    """Connections per wall-clock second, by `openssl s_time`."""
    start = time.perf_counter()
    done = subprocess.run(
        ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-CAfile", str(ca),
         "-time", str(max(1, round(seconds))), *flags],
        capture_output=True, text=True, timeout=seconds + 30,
    )
    elapsed = time.perf_counter() - start
    counts = re.findall(r"(\d+) connections in [\d.]+s", done.stdout)
    if not counts:
        raise RuntimeError(f"s_time said: {done.stdout[-500:]} {done.stderr[-500:]}")
    return int(counts[-1]) / elapsed


def tls13_resumed(port: int, ca: Path, seconds: float, greets: bool) -> tuple[float, float]:
    """(handshakes/s, share resumed) with TLS 1.3 tickets; one line each way per connection so
    that the ticket, sent after the handshake, is read."""
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    session = None
    count = reused = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        with socket.create_connection(("127.0.0.1", port)) as raw, ctx.wrap_socket(
            raw, server_hostname="localhost", session=session
        ) as sock:
            with sock.makefile("rb") as reader:  # an open makefile keeps the socket open
                if greets:
                    reader.readline()
                sock.sendall(b"echo x\n" if greets else b"x\n")
                reader.readline()
            reused += sock.session_reused
            session = sock.session
            count += 1
    return count / (time.perf_counter() - start), reused / max(count, 1)


def echo_throughput(port: int, ca: Path, lines: int, greets: bool) -> float:
    """MB/s of payload echoed: one writer thread, the reader here."""
    ctx = ssl.create_default_context(cafile=str(ca))
    line = (b"echo " if greets else b"") + PAYLOAD + b"\n"
    with socket.create_connection(("127.0.0.1", port)) as raw, ctx.wrap_socket(
        raw, server_hostname="localhost"
    ) as sock, sock.makefile("rb") as reader:
        if greets:
            reader.readline()
        start = time.perf_counter()
        writer = threading.Thread(target=sock.sendall, args=(line * lines,))
        writer.start()
        for _ in range(lines):
            if not reader.readline():
                raise RuntimeError("server closed during the echo run")
        elapsed = time.perf_counter() - start
        writer.join()
    return len(PAYLOAD) * lines / elapsed / 1e6


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def one_round(port: int, ca: Path, greets: bool, args: argparse.Namespace) -> dict[str, float]:
    r = {
        "full TLS 1.3 /s": s_time(port, ca, args.seconds, "-new", "-tls1_3"),
        "full TLS 1.2 /s": s_time(port, ca, args.seconds, "-new", "-tls1_2"),
        "resumed TLS 1.2 /s": s_time(port, ca, args.seconds, "-reuse", "-tls1_2"),
    }
    rate, share = tls13_resumed(port, ca, args.seconds, greets)
    r["resumed TLS 1.3 /s (py client)"] = rate
    r["  share resumed"] = share
    r["echo MB/s (64 B lines)"] = echo_throughput(port, ca, args.lines, greets)
    return r


def measure(kind: str, certs: Path, args: argparse.Namespace) -> list[tuple[str, float, float]]:
    """Both servers up at once; rounds alternate between them and each metric is the median of
    the rounds, so that a load change on a shared machine hits both alike."""
    ours, ours_port = start_tls_server(certs)
    theirs, theirs_port = start_s_server(certs)
    ca = certs / "ca.crt"
    samples: dict[str, list[dict[str, float]]] = {"tls_server": [], "s_server": []}
    try:
        for _ in range(args.rounds):
            samples["tls_server"].append(one_round(ours_port, ca, True, args))
            samples["s_server"].append(one_round(theirs_port, ca, False, args))
    finally:
        stop(ours)
        stop(theirs)
    rows = []
    for metric in samples["tls_server"][0]:
        a = statistics.median(r[metric] for r in samples["tls_server"])
        b = statistics.median(r[metric] for r in samples["s_server"])
        rows.append((f"{kind} {metric}", a, b))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per handshake measurement")
    parser.add_argument("--lines", type=int, default=20000, help="echo lines per run")
    parser.add_argument("--kinds", default="ec,rsa", help="certificate kinds: ec, rsa")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    args = parser.parse_args()
    print(f"# bench/tls.py on {os.cpu_count()} CPUs, {ssl.OPENSSL_VERSION}, "
          f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    print(f"| {'metric':<42} | {'tls_server':>10} | {'s_server':>10} | {'ratio':>6} |")
    print(f"|{'-' * 44}|{'-' * 12}|{'-' * 12}|{'-' * 8}|")
    full_ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            certs = Path(tmp) / kind
            subprocess.run(["sh", str(ROOT / "tls_server" / "make_certs.sh"), str(certs), kind],
                           check=True, capture_output=True)
            for metric, ours, theirs in measure(kind, certs, args):
                ratio = ours / theirs if theirs else float("nan")
                if "full" in metric:
                    full_ratios.append(ratio)
                print(f"| {metric:<42} | {ours:>10.2f} | {theirs:>10.2f} | {ratio:>5.0%} |",
                      flush=True)
    worst = min(full_ratios)
    print(f"\nworst full-handshake ratio: {worst:.0%} (aim >= 40%): "
          f"{'met' if worst >= 0.4 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
