"""HTTP benchmark: req/s and p99 with wrk, each lab server beside the course's design.

  (a) http_custom (threads, keep-alive, limits, access log on) beside the course's single-threaded
      ``socketserver.TCPServer`` + ``http.server`` handler (bench/http_baseline.py, HTTP/1.0);
  (b) flask_api under gunicorn (flask_api/gunicorn.conf.py) beside Flask's development server.
Both on ``GET /api/data`` at concurrency 1, 16 and 64, plus a slow-client scenario: 50 clients
trickle header bytes while wrk runs at concurrency 16. Every server runs on 127.0.0.1 on a free
port and is stopped afterwards; every point is bounded by --duration.

    python3 bench/http_servers.py                      # everything (about 3 minutes)
    python3 bench/http_servers.py --only http_custom   # part (a) only
    python3 bench/http_servers.py --duration 3 --concurrency 1,16
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from procs import free_port

ROOT = Path(__file__).resolve().parent.parent
PATH = "/api/data"
SLOW_HEAD = b"GET /api/data HTTP/1.1\r\nHost: bench\r\nX-Slow: "


@dataclass
class Point:
    server: str
    concurrency: int
    rps: float
    p99_ms: float
    non2xx: int
    errors: int
    note: str = ""




def wait_http(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {PATH} HTTP/1.0\r\n\r\n".encode())
                if s.recv(12).startswith(b"HTTP/1."):
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing answers on 127.0.0.1:{port}")


@contextmanager
def running(cmd: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[None]:
    """A server process (output discarded, as a log shipper would take it) for one block."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_http(port, proc)
        yield
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(port: int, concurrency: int, duration: float) -> tuple[float, float, int, int]:
    """(req/s, p99 ms, non-2xx responses, socket errors) of one bounded wrk run."""
    threads = min(concurrency, 2)
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{duration:g}s", "--timeout", "2s",
             "--latency", f"http://127.0.0.1:{port}{PATH}"],
            capture_output=True, text=True, timeout=duration + 10,
        ).stdout
    except subprocess.TimeoutExpired:  # wrk waits forever on connections never accepted
        return 0.0, float("nan"), 0, concurrency
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s|m)\b", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return (
        float(rps[1]) if rps else 0.0,
        _ms(p99[1], p99[2]) if p99 else float("nan"),
        int(non2xx[1]) if non2xx else 0,
        sum(int(n) for n in errors.groups()) if errors else 0,
    )


class SlowClients:
    """``count`` connections that each send one header byte every ``interval`` seconds and
    reconnect when the server cuts them off: the slowloris pattern, kept up for the whole run."""

    def __init__(self, port: int, count: int = 50, interval: float = 0.5) -> None:
        self.port, self.count, self.interval = port, count, interval
        self.stop = threading.Event()
        self.reconnects = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=0.2)
            sock.setblocking(False)
            sock.send(SLOW_HEAD)
            return sock
        except OSError:
            return None

    def _run(self) -> None:
        socks: list[socket.socket | None] = [self._connect() for _ in range(self.count)]
        while not self.stop.wait(self.interval):
            for i, sock in enumerate(socks):
                try:
                    if sock is None:
                        raise OSError
                    sock.send(b"a")
                except OSError:
                    if sock is not None:
                        sock.close()
                    self.reconnects += 1
                    socks[i] = self._connect()
        for sock in socks:
            if sock is not None:
                sock.close()

    def __enter__(self) -> SlowClients:
        self.thread.start()
        time.sleep(1.0)  # let every slow connection be accepted first
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def compare(servers: list[tuple[str, int]], levels: list[int], duration: float, rounds: int,
            slow: int) -> list[Point]:
    """Each concurrency level on each server, interleaved, ``rounds`` times, keeping each
    server's best req/s and best p99 over its rounds: on a shared machine a burst of load from
    elsewhere then hurts neither side's figure (the slow-client points are single runs)."""
    points = []
    for c in levels:
        best: dict[str, Point] = {}
        for _ in range(rounds):
            for name, port in servers:
                p = Point(name, c, *wrk(port, c, duration))
                if name in best:
                    prev = best[name]
                    p99s = [x for x in (prev.p99_ms, p.p99_ms) if not math.isnan(x)]
                    p99 = min(p99s) if p99s else math.nan
                    p = p if p.rps > prev.rps else prev
                    p = Point(p.server, c, p.rps, p99, p.non2xx, p.errors)
                best[name] = p
        for name, _ in servers:
            p = best[name]
            points.append(p)
            print(f"  {name:<36} c={c:<3} {p.rps:>9.0f} req/s  p99 {p.p99_ms:7.1f} ms",
                  flush=True)
    if slow:
        for name, port in reversed(servers):  # the baseline last: it may stay stuck afterwards
            with SlowClients(port, slow):
                p = Point(name, 16, *wrk(port, 16, duration), note=f"{slow} slow clients")
            points.append(p)
            print(f"  {name:<36} c=16 + {slow} slow {p.rps:>9.0f} req/s  p99 {p.p99_ms:7.1f} ms",
                  flush=True)
    return points


def part_http_custom(levels: list[int], duration: float, rounds: int, slow: int) -> list[Point]:
    print("(a) http_custom vs the course's single-threaded http.server", flush=True)
    base, mine = free_port(), free_port()
    # Run with -m from the repo root, so the baseline is importable as bench.http_baseline.
    with running([sys.executable, "-m", "bench.http_baseline", str(base)], base), \
            running([sys.executable, "-m", "http_custom", "--port", str(mine)], mine):
        servers = [("baseline: TCPServer + http.server", base),
                   ("http_custom (ThreadingHTTPServer)", mine)]
        return compare(servers, levels, duration, rounds, slow)


def part_flask(levels: list[int], duration: float, rounds: int, workers: int | None,
               threads: int | None) -> list[Point]:
    print("(b) flask_api: gunicorn vs Flask's development server", flush=True)
    if not (ROOT / "flask_api" / "gunicorn.conf.py").is_file():
        print("  flask_api/gunicorn.conf.py not found: part (b) skipped", flush=True)
        return []
    with tempfile.TemporaryDirectory(prefix="bench-flask-") as tmp:
        env = {"FLASK_API_DB": str(Path(tmp) / "bench.db"), "FLASK_API_HOST": "127.0.0.1"}
        dev, gun = free_port(), free_port()
        dev_cmd = ("from flask_api import create_app; create_app().run("
                   f"host='127.0.0.1', port={dev}, debug=False, use_reloader=False)")
        genv = {**env, "FLASK_API_PORT": str(gun)}
        if workers:
            genv["FLASK_API_WORKERS"] = str(workers)
        if threads:
            genv["FLASK_API_THREADS"] = str(threads)
        gun_cmd = [sys.executable, "-m", "gunicorn", "-c", "flask_api/gunicorn.conf.py",
                   "flask_api:create_app()"]
        label = f"flask_api: gunicorn ({workers or 'conf'} workers, {threads or 'conf'} threads)"
        floor = free_port()
        fenv = {**genv, "FLASK_API_PORT": str(floor)}
        floor_cmd = [sys.executable, "-m", "gunicorn", "-c", "flask_api/gunicorn.conf.py",
                     "bench.flask_floor:app"]
        with running([sys.executable, "-c", dev_cmd], dev, env), running(gun_cmd, gun, genv), \
                running(floor_cmd, floor, fenv):
            servers = [("baseline: Flask development server", dev), (label, gun),
                       ("reference: bare Flask app, same gunicorn settings", floor)]
            return compare(servers, levels, duration, rounds, 0)


def table(points: list[Point]) -> str:
    rows = ["| server | concurrency | req/s | p99 ms | non-2xx | socket errors |",
            "|---|---|---:|---:|---:|---:|"]
    for p in points:
        c = f"{p.concurrency}" + (f" + {p.note}" if p.note else "")
        rows.append(f"| {p.server} | {c} | {p.rps:.0f} | {p.p99_ms:.1f} | {p.non2xx} | "
                    f"{p.errors} |")
    return "\n".join(rows)


def find(points: list[Point], prefix: str, c: int, slow: bool = False) -> Point | None:
    return next((p for p in points if p.server.startswith(prefix) and p.concurrency == c
                 and bool(p.note) == slow), None)


def verdicts(points: list[Point]) -> list[str]:
    """Each aim of issue 3 as a ratio measured in this very run."""
    out = []

    def ratio(a: Point | None, b: Point | None, what: str, aim: float) -> None:
        if a and b and b.rps > 0:
            r = a.rps / b.rps
            out.append(f"{what}: {r:.2f}x (aim >= {aim:g}x) {'ok' if r >= aim else 'MISSED'}")
        elif a and b:
            out.append(f"{what}: {a.rps:.0f} vs 0 req/s (aim >= {aim:g}x) ok")

    for c in sorted({p.concurrency for p in points if not p.note}):
        ratio(find(points, "http_custom", c), find(points, "baseline: TCPServer", c),
              f"http_custom / single-threaded at c={c}", 0.8)
    ratio(find(points, "http_custom", 16, slow=True), find(points, "http_custom", 16),
          "http_custom under slow clients / normal (c=16)", 0.5)
    base_slow = find(points, "baseline: TCPServer", 16, slow=True)
    if base_slow:
        out.append(f"single-threaded under slow clients: {base_slow.rps:.0f} req/s, "
                   f"{base_slow.errors} socket errors")
    ratio(find(points, "flask_api", 16), find(points, "baseline: Flask", 16),
          "gunicorn / development server at c=16", 3.0)
    floor = find(points, "reference: bare Flask", 16)
    mine = find(points, "flask_api", 16)
    if floor and mine and floor.rps > 0:
        out.append(f"flask_api / bare Flask app under the same gunicorn settings at c=16: "
                   f"{mine.rps / floor.rps:.2f}x (how much the lab's request id, security headers "
                   f"and blueprints cost; {floor.rps:.0f} req/s is this machine's ceiling here)")
    for prefix, aim_rps in (("http_custom", None), ("flask_api", 5000.0)):
        p = find(points, prefix, 16)
        if p:
            out.append(f"{prefix} p99 at c=16: {p.p99_ms:.1f} ms (aim <= 50) "
                       f"{'ok' if p.p99_ms <= 50 else 'MISSED'}")
            if aim_rps:
                out.append(f"{prefix} req/s at c=16: {p.rps:.0f} (aim >= {aim_rps:.0f}) "
                           f"{'ok' if p.rps >= aim_rps else 'MISSED'}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("http_custom", "flask_api"))
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per point (<= 30)")
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds, best kept")
    parser.add_argument("--slow", type=int, default=50, help="slow clients; 0 skips the scenario")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: the conf's)")
    parser.add_argument("--threads", type=int, help="gunicorn threads (default: the conf's)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    duration = min(max(args.duration, 1.0), 30.0)
    levels = [int(c) for c in args.concurrency.split(",")]
    rounds = min(max(args.rounds, 1), 5)
    args.rounds = rounds
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load:.1f}, "
          f"{duration:g} s per point, best of {rounds}, GET {PATH}, wrk --latency", flush=True)
    points: list[Point] = []
    if args.only in (None, "http_custom"):
        points += part_http_custom(levels, duration, args.rounds, args.slow)
    if args.only in (None, "flask_api"):
        points += part_flask(levels, duration, args.rounds, args.workers, args.threads)
    print()
    print(table(points))
    print()
    for line in verdicts(points):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
