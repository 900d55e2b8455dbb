"""udp_service under rising offered load: replies/s, loss and RTT, against a naive baseline.

    python3 bench/udp_rps.py                       # 1k, 5k, 20k, 50k datagrams/s, 2 s each
    python3 bench/udp_rps.py --loads 1000,10000 --duration 1 --no-baseline

Both servers run as subprocesses on 127.0.0.1 (free ports) in this run, on this machine:
- ``udp_service`` started with ``--rate 0`` (rate limiting off, so the server itself is measured,
  not its per-source limit, which would drop everything past the burst from this one client);
- the baseline: the course's design, a blocking ``recvfrom``/``sendto`` loop that answers
  ``PONG`` with no checks at all, i.e. the ceiling of a single Python thread doing UDP.
The client paces ``seq N ping`` datagrams from one socket in one thread and counts the replies
in another. Traffic goes to loopback only, bounded by --duration per load.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from procs import stop

ROOT = Path(__file__).resolve().parent.parent
BASELINE = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    data, addr = s.recvfrom(2048)
    head, _, rest = data.partition(b" ping")
    s.sendto(head + b" PONG " + rest, addr)
"""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_reply(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            s.sendto(b"seq 0 ping", ("127.0.0.1", port))
            try:
                s.recv(2048)
                return
            except OSError:
                time.sleep(0.05)
    raise TimeoutError(f"nothing answers on 127.0.0.1:{port}")


def run_load(port: int, rate: int, duration: float) -> dict[str, float]:
    """Offer ``rate`` datagrams/s for ``duration`` s; return what came back."""
    total = int(rate * duration)
    sent_at = [0.0] * total
    rtts: list[float] = []
    received = 0
    stop = threading.Event()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(0.1)

    def receive() -> None:
        nonlocal received
        while not stop.is_set():
            try:
                data = sock.recv(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.perf_counter()
            parts = data.split(maxsplit=2)
            if len(parts) >= 2 and parts[1].isdigit():
                n = int(parts[1])
                if n < total:
                    received += 1
                    rtts.append(now - sent_at[n])

    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    start = time.perf_counter()
    n = 0
    errors = 0
    while n < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        if n >= due:
            time.sleep(0.0002)
            continue
        while n < due:
            sent_at[n] = time.perf_counter()
            try:
                sock.send(b"seq %d ping" % n)
            except OSError:  # ENOBUFS and the like: the datagram never left
                errors += 1
            n += 1
    send_time = time.perf_counter() - start
    time.sleep(0.5)  # let the last replies arrive
    stop.set()
    receiver.join()
    sock.close()
    rtts.sort()
    return {
        "offered": rate,
        "achieved": total / send_time,
        "replies_s": received / send_time,
        "loss_pct": 100.0 * (total - received) / total,
        "p50_ms": 1000 * statistics.median(rtts) if rtts else float("nan"),
        "p99_ms": 1000 * rtts[int(len(rtts) * 0.99) - 1] if rtts else float("nan"),
        "send_errors": errors,
    }


def bench(name: str, cmd: list[str], port: int, loads: list[int], duration: float) -> list[dict]:
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_reply(port)
        return [{"server": name, **run_load(port, rate, duration)} for rate in loads]
    finally:
        stop(proc)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--loads", default="1000,5000,20000,50000", help="offered datagrams/s, a list")
    p.add_argument("--duration", type=float, default=2.0, help="seconds per load (max 10)")
    p.add_argument("--no-baseline", action="store_true", help="skip the naive baseline server")
    args = p.parse_args()
    loads = [int(x) for x in args.loads.split(",") if x]
    duration = min(max(args.duration, 0.2), 10.0)

    rows: list[dict] = []
    port = free_udp_port()
    rows += bench(
        "udp_service",
        [sys.executable, "-m", "udp_service", "--port", str(port), "--rate", "0",
         "--log-level", "WARNING"],
        port, loads, duration,
    )
    if not args.no_baseline:
        port = free_udp_port()
        naive = [sys.executable, "-c", BASELINE, str(port)]
        rows += bench("baseline", naive, port, loads, duration)

    base = {r["offered"]: r for r in rows if r["server"] == "baseline"}
    version = sys.version.split()[0]
    print(f"udp_rps: {duration:g} s per load, 1 client socket, loopback, python {version}")
    header = f"{'server':<12} {'offered/s':>9} {'sent/s':>9} {'replies/s':>10} {'loss':>7} " \
             f"{'p50 ms':>8} {'p99 ms':>8} {'vs base':>8}"
    print(header)
    print("-" * len(header))
    for r in rows:
        b = base.get(r["offered"])
        ratio = f"{r['replies_s'] / b['replies_s']:.2f}x" if b and b["replies_s"] else "-"
        print(f"{r['server']:<12} {r['offered']:>9,} {r['achieved']:>9,.0f} "
              f"{r['replies_s']:>10,.0f} {r['loss_pct']:>6.1f}% {r['p50_ms']:>8.2f} "
              f"{r['p99_ms']:>8.2f} {ratio:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
