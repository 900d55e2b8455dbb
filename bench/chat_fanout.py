"""Benchmark tcp_chat fan-out: N clients receive broadcasts of 64-byte lines.

For each model (asyncio, threads) and each client count, a server runs as a subprocess on a free
loopback port; receiver processes (selectors, so the client side is not the bottleneck) hold the
N connections, and one sender broadcasts M lines with a window of unacknowledged lines. Each line
carries its send time (CLOCK_MONOTONIC is system-wide on Linux), so receivers measure delivery
latency. Reported: deliveries/s end to end (first send to last receipt), deliveries/s as the
server saw them (first send to last acknowledgement), p50/p99 latency and lost lines.

Then K idle connections are held against the asyncio server and its RSS is read from
/proc/PID/status. Joins of N members cost N² notices, which is not what is measured here, so
every server runs with ``--announce-limit 100`` (no notices in rooms above 100 members).

    python3 bench/chat_fanout.py                       # 100 and 1000 clients, 10000 idle
    python3 bench/chat_fanout.py --clients 100 --idle 1000 --deliveries 50000   # quick

Bounded: every phase has a deadline, traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from procs import stop

ROOT = Path(__file__).resolve().parent.parent
PREFIX = b"<bench> "
TS = slice(len(PREFIX) + 9, len(PREFIX) + 29)  # "<bench> SSSSSSSS TTTTTTTTTTTTTTTTTTTT xxx"
LINE_BYTES = 64
PHASE_TIMEOUT = 120.0


def raise_nofile(need: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < need:
        sys.exit(f"need {need} file descriptors, the hard limit is {hard}")
    return target


def start_server(model: str, *extra: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    heartbeat = Path(tempfile.mkdtemp(prefix="chat-bench-")) / "alive"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tcp_chat", "--port", "0", "--model", model,
         "--heartbeat-file", str(heartbeat), "--log-level", "WARNING", *extra],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            return proc, int(heartbeat.read_text().split()[1]), heartbeat
        except (OSError, IndexError, ValueError):
            if proc.poll() is not None:
                sys.exit(f"server exited with {proc.returncode}")
            time.sleep(0.05)
    proc.kill()
    sys.exit("server did not start")




def connect_many(port: int, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        socks.append(s)
    return socks


def receiver(port: int, n: int, messages: int, ready: Connection, result: Connection) -> None:
    """Hold n connections; count and time every ``<bench>`` line until all arrived."""
    socks = connect_many(port, n)
    ready.send(n)
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
    bufs = [b""] * n
    counts = [0] * n
    remaining = n * messages
    latencies: list[int] = []
    last = 0
    deadline = time.monotonic() + PHASE_TIMEOUT
    while remaining > 0 and time.monotonic() < deadline:
        for key, _ in sel.select(0.5):
            data = key.fileobj.recv(262144)  # type: ignore[union-attr]
            now = time.monotonic_ns()
            i = key.data
            if not data:  # dropped by the server (too slow): expect no more on it
                sel.unregister(key.fileobj)
                remaining -= messages - counts[i]
                continue
            lines = (bufs[i] + data).split(b"\n")
            bufs[i] = lines.pop()
            for line in lines:
                if line.startswith(PREFIX):
                    latencies.append(now - int(line[TS]))
                    counts[i] += 1
                    remaining -= 1
                    last = now
    result.send((len(latencies), last, latencies))
    for s in socks:
        s.close()


def read_until(sock: socket.socket, buf: bytearray, prefix: bytes) -> bytes:
    while True:
        idx = buf.find(b"\n")
        while idx >= 0:
            line = bytes(buf[:idx])
            del buf[: idx + 1]
            if line.startswith(prefix):
                return line
            idx = buf.find(b"\n")
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the sender")
        buf += data


def fanout(model: str, clients: int, messages: int, procs: int, window: int) -> dict[str, float]:
    # No join notices above 100 members: N joins would cost N² lines before the measurement.
    proc, port, _ = start_server(model, "--max-clients", str(clients + 10),
                                 "--announce-limit", "100")
    try:
        ctx = mp.get_context("fork")
        shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
        pipes, workers = [], []
        for share in shares:
            ready_r, ready_w = ctx.Pipe(False)
            res_r, res_w = ctx.Pipe(False)
            w = ctx.Process(target=receiver, args=(port, share, messages, ready_w, res_w))
            w.start()
            workers.append(w)
            pipes.append((ready_r, res_r))
        for ready_r, _ in pipes:
            if not ready_r.poll(PHASE_TIMEOUT):
                raise TimeoutError("receivers did not connect")
            ready_r.recv()
        sender = socket.create_connection(("127.0.0.1", port), timeout=PHASE_TIMEOUT)
        buf = bytearray()
        read_until(sender, buf, b"* welcome ")
        sender.sendall(b"/nick bench\n/who\n")
        read_until(sender, buf, b"= who ")  # every join was handled before this reply
        start = time.monotonic_ns()
        sent = acked = 0
        while acked < messages:
            batch = []
            while sent < messages and sent - acked < window:
                text = f"{sent:08d} {time.monotonic_ns():020d} "
                batch.append((text + "x" * (LINE_BYTES - len(text)) + "\n").encode())
                sent += 1
            if batch:
                sender.sendall(b"".join(batch))
            data = sender.recv(65536)
            if not data:
                raise ConnectionError("server closed the sender")
            buf += data
            acked += buf.count(b"> delivered to ")
            del buf[: buf.rfind(b"\n") + 1]
        server_done = time.monotonic_ns()
        received, last, latencies = 0, start, []
        for _, res_r in pipes:
            if not res_r.poll(PHASE_TIMEOUT + 10):
                raise TimeoutError("receivers did not report")
            got, got_last, lat = res_r.recv()
            received += got
            last = max(last, got_last)
            latencies.extend(lat)
        for w in workers:
            w.join(10)
        sender.close()
    finally:
        stop(proc)
    expected = clients * messages
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "deliveries": received,
        "lost": expected - received,
        "e2e_rate": received / ((last - start) / 1e9),
        "server_rate": expected / ((server_done - start) / 1e9),
        "p50_ms": q[49] / 1e6,
        "p99_ms": q[98] / 1e6,
    }


def rss_mb(pid: int) -> tuple[float, float]:
    fields = {}
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = row.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def idle_memory(count: int) -> dict[str, float]:
    proc, port, _ = start_server("asyncio", "--max-clients", str(count + 10),
                                 "--announce-limit", "100")
    try:
        time.sleep(0.3)
        base, _ = rss_mb(proc.pid)
        socks = connect_many(port, count)
        probe = socket.create_connection(("127.0.0.1", port), timeout=PHASE_TIMEOUT)
        buf = bytearray()
        read_until(probe, buf, b"* welcome ")
        probe.sendall(b"/who\n")
        who = read_until(probe, buf, b"= who ")
        members = int(who.split()[2].rstrip(b":"))
        rss, peak = rss_mb(proc.pid)
        probe.close()
        for s in socks:
            s.close()
    finally:
        stop(proc)
    return {"members": members, "base": base, "rss": rss, "peak": peak}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", default="100,1000", help="comma-separated client counts")
    p.add_argument("--models", default="asyncio,threads")
    p.add_argument("--deliveries", type=int, default=300_000, help="target per run (N x M)")
    p.add_argument("--procs", type=int, default=2, help="receiver processes")
    p.add_argument("--window", type=int, default=8, help="unacknowledged lines in flight")
    p.add_argument("--idle", type=int, default=10_000, help="idle connections (0 skips)")
    args = p.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    raise_nofile(max([*counts, args.idle]) + 200)  # server and clients are separate processes
    print(f"# chat_fanout on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"64-byte lines, window {args.window}, {args.procs} receiver processes")
    print(f"{'model':8} {'clients':>7} {'msgs':>6} {'deliveries':>10} {'e2e deliv/s':>12} "
          f"{'server deliv/s':>14} {'p50 ms':>8} {'p99 ms':>8} {'lost':>5}")
    results: dict[tuple[str, int], dict[str, float]] = {}
    for clients in counts:
        messages = max(20, args.deliveries // clients)
        for model in args.models.split(","):
            r = fanout(model, clients, messages, args.procs, args.window)
            results[(model, clients)] = r
            print(f"{model:8} {clients:>7} {messages:>6} {r['deliveries']:>10,} "
                  f"{r['e2e_rate']:>12,.0f} {r['server_rate']:>14,.0f} {r['p50_ms']:>8.2f} "
                  f"{r['p99_ms']:>8.2f} {r['lost']:>5}", flush=True)
    for clients in counts:
        a, t = results.get(("asyncio", clients)), results.get(("threads", clients))
        if a and t:
            print(f"asyncio/threads at {clients} clients: "
                  f"e2e x{a['e2e_rate'] / t['e2e_rate']:.2f}, p99 x{a['p99_ms'] / t['p99_ms']:.2f}")
    if ("asyncio", 1000) in results:
        rate = results[("asyncio", 1000)]["e2e_rate"]
        print(f"aim >= 100,000 deliveries/s (asyncio, 1000 clients): {rate:,.0f} -> "
              f"{'met' if rate >= 100_000 else 'NOT met'}")
    if args.idle:
        m = idle_memory(args.idle)
        print(f"idle: {m['members']:,} members held by asyncio: RSS {m['rss']:.1f} MB "
              f"(empty server {m['base']:.1f} MB, peak {m['peak']:.1f} MB, "
              f"{(m['rss'] - m['base']) * 1024 / max(1, m['members']):.1f} KB per connection)")
        if args.idle >= 10_000:
            print(f"aim 10,000 idle connections in <= 200 MB RSS: "
                  f"{'met' if m['rss'] <= 200 and m['members'] >= 10_000 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
