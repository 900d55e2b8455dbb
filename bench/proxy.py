"""Benchmark: http_proxy beside direct access to the same loopback origin, in one run.

    python3 bench/proxy.py [--duration 5] [--connections 16] [--threads 2]

It starts a small asyncio origin (``/nostore``: ``Cache-Control: no-store``; ``/cache``: ``public,
max-age=600``; 1 KiB bodies, keep-alive) and ``python -m http_proxy`` on free loopback ports, then
loads four cases with wrk (absolute-form requests to the proxy through a Lua script) or, without
wrk, a small asyncio load generator: direct and proxied misses, direct and proxied hits. It prints
requests/s, p50 and p99, the ratio to direct, and the proxy's own CPU time per request (user +
system, from /proc: less sensitive than requests/s to other work on a shared machine). Each case
is preceded by --warmup seconds of the same load, not measured, for direct and proxied runs
alike: otherwise the first concurrent connects overflow the stdlib origin's 5-slot listen
backlog and a few requests wait a 1 s SYN retransmit, which is the kernel, not either server.
Only 127.0.0.1 is contacted; every case is bounded by --duration.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from procs import free_port, stop, wait_port

ROOT = Path(__file__).resolve().parent.parent
BODY = b"x" * 1024
Result = tuple[float, float, float]  # requests/s, p50 ms, p99 ms
LAST_COUNT = [0]  # requests completed by the last measured case




# --- the origin: fast enough that the proxy, not the origin, is what is measured ---------------

class Origin(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head, self.buf = self.buf[:end], self.buf[end + 4:]
            path = head.split(b" ", 2)[1]
            cc = b"public, max-age=600" if path.startswith(b"/cache") else b"no-store"
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: " + cc
                + b"\r\nContent-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
            )


def run_stdlib_origin(port: int) -> None:
    """The standard library's threaded server, as the course's own servers are built."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else head and body writes wait on delayed ACKs

        def do_GET(self) -> None:
            cc = "public, max-age=600" if self.path.startswith("/cache") else "no-store"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Cache-Control", cc)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.handle_error = lambda *args: None  # type: ignore[method-assign]  # resets at the end
    server.serve_forever()


def run_origin(port: int) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Origin, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# --- load generators ----------------------------------------------------------------------------

def wrk_case(url: str, proxy_port: int | None, args: argparse.Namespace,
             duration: float | None = None) -> Result:
    """wrk's numbers; through the proxy a Lua script makes the request target absolute."""
    duration = max(1, round(args.duration if duration is None else duration))  # wrk: whole s
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(f'wrk.path = "{url}"\n' if proxy_port else "")
        script = f.name
    try:
        target = f"http://127.0.0.1:{proxy_port}" if proxy_port else url
        out = subprocess.run([*cmd, "-s", script, target], capture_output=True, text=True,
                             timeout=duration + 30, check=True).stdout
    finally:
        os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = re.search(r"(\d+) requests in", out)
    LAST_COUNT[0] = int(count.group(1)) if count else 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        raise SystemExit(f"{non2xx.group(1)} error responses for {url}:\n{out}")
    return rps, _wrk_ms(out, "50%"), _wrk_ms(out, "99%")


def _wrk_ms(out: str, pct: str) -> float:
    m = re.search(rf"{re.escape(pct)}\s+([\d.]+)(us|ms|s)\b", out)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


async def _py_load(url: str, proxy_port: int | None, args: argparse.Namespace,
                   duration: float) -> Result:
    host_port, path = url[len("http://"):].split("/", 1)
    port = proxy_port or int(host_port.split(":")[1])
    target = url if proxy_port else "/" + path
    request = f"GET {target} HTTP/1.1\r\nHost: {host_port}\r\n\r\n".encode()
    latencies: list[float] = []
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.connections)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    LAST_COUNT[0] = len(latencies)
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return len(latencies) / elapsed, pick(0.50), pick(0.99)


def py_case(url: str, proxy_port: int | None, args: argparse.Namespace,
            duration: float | None = None) -> Result:
    return asyncio.run(_py_load(url, proxy_port, args,
                                args.duration if duration is None else duration))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")




Case = Callable[..., Result]


def run_cases(
    kind: str, case: Case, args: argparse.Namespace
) -> list[tuple[str, Result, Result, float]]:
    """Start one origin of ``kind`` and a fresh proxy; measure misses and hits, direct and via."""
    origin_port, proxy_port = free_port(), free_port()
    procs = [
        subprocess.Popen([sys.executable, __file__, "--origin", str(origin_port),
                          "--origin-kind", kind]),
        subprocess.Popen([sys.executable, "-m", "http_proxy", "--port", str(proxy_port),
                          "--max-connections", "1024"], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        wait_port(origin_port, procs[0])
        wait_port(proxy_port, procs[1])
        base = f"http://127.0.0.1:{origin_port}"
        rows = []
        for label, path in (("miss (no-store)", "/nostore"), ("hit (max-age)", "/cache")):
            if args.warmup > 0:
                case(base + path, None, args, args.warmup)
            direct = case(base + path, None, args)
            if args.warmup > 0:
                case(base + path, proxy_port, args, args.warmup)
            cpu = cpu_seconds(procs[1].pid)
            proxied = case(base + path, proxy_port, args)
            cpu = cpu_seconds(procs[1].pid) - cpu
            rows.append((label, direct, proxied, cpu / max(1, LAST_COUNT[0]) * 1e6))
        return rows
    finally:
        stop(*procs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=5, help="seconds per case")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--warmup", type=int, default=1,
                   help="seconds of unmeasured load before each case (0: none)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--python-load", action="store_true", help="use the asyncio load generator")
    p.add_argument("--origins", default="stdlib,raw",
                   help="origins to compare against: stdlib (threaded http.server, like the "
                   "lab's servers) and/or raw (asyncio, no parsing: the upper bound)")
    p.add_argument("--origin", type=int, help=argparse.SUPPRESS)
    p.add_argument("--origin-kind", default="raw", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.origin:
        (run_stdlib_origin if args.origin_kind == "stdlib" else run_origin)(args.origin)
        return 0
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    case = wrk_case if use_wrk else py_case
    tool = "wrk" if use_wrk else "asyncio load generator"
    print(f"http_proxy bench: {tool}, {args.connections} connections, {args.duration} s per "
          f"case after {args.warmup:g} s warm-up, 1 KiB bodies, one proxy process, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"{'origin':<8}{'case':<17}{'direct req/s':>13}{'proxy req/s':>13}{'ratio':>7}"
          f"{'direct p99':>12}{'proxy p50':>11}{'proxy p99':>11}{'proxy CPU/req':>15}")
    for kind in [k.strip() for k in args.origins.split(",") if k.strip()]:
        for label, (drps, _, dp99), (prps, pp50, pp99), cpu in run_cases(kind, case, args):
            print(f"{kind:<8}{label:<17}{drps:>13,.0f}{prps:>13,.0f}{prps / drps:>7.2f}"
                  f"{dp99:>10.2f}ms{pp50:>9.2f}ms{pp99:>9.2f}ms{cpu:>13.0f}us", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
