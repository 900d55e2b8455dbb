"""ws_chat fan-out: messages/s delivered to N WebSocket users, beside N raw TCP members.

    python3 bench/ws.py                          # 100 and 1,000 receivers, 200 messages each
    python3 bench/ws.py --clients 100 --messages 500

For each N, in this one run on this machine: tcp_chat and ws_chat start as subprocesses on free
127.0.0.1 ports; N receivers join through ws_chat (each is one WebSocket, so one more TCP member
of tcp_chat behind the bridge) and one WebSocket sender sends M numbered lines as fast as it can.
The time runs from the first send until every receiver has every line. The baseline is the same
fan-out with N raw TCP members of tcp_chat and a TCP sender (no bridge), so the ratio is the
price of the WebSocket hop. All clients live in this one asyncio process, which is often the
limit at N=1,000: the numbers compare designs on one machine, they are not a capacity claim.
Bounded: at most --timeout seconds per measurement, traffic to loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import subprocess
import sys
import time
from pathlib import Path

from procs import free_port, stop, wait_port
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent







def start(module: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Counter:
    """Lines from the sender seen by each receiver; ``done`` once all have all of them."""

    def __init__(self, receivers: int, messages: int) -> None:
        self.messages = messages
        self.left = receivers
        self.done = asyncio.Event()

    def finished_one(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.done.set()


async def ws_receiver(ws: ClientConnection, prefix: str, counter: Counter) -> None:
    got = 0
    async for frame in ws:
        if isinstance(frame, str) and frame.startswith(prefix):
            got += 1
            if got == counter.messages:
                counter.finished_one()
                return


async def tcp_receiver(reader: asyncio.StreamReader, prefix: bytes, counter: Counter) -> None:
    got = 0
    while line := await reader.readline():
        if line.startswith(prefix):
            got += 1
            if got == counter.messages:
                counter.finished_one()
                return


async def ws_join(url: str, origin: str, stack: contextlib.AsyncExitStack) -> tuple[
        ClientConnection, str]:
    ws = await stack.enter_async_context(
        connect(url, origin=origin, open_timeout=30, compression=None, max_queue=None))  # type: ignore[arg-type]
    welcome = await asyncio.wait_for(ws.recv(), 30)
    assert isinstance(welcome, str) and welcome.startswith("* welcome "), welcome
    return ws, welcome.split()[2].rstrip(":")


async def tcp_join(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**16)
    welcome = (await asyncio.wait_for(reader.readline(), 30)).decode()
    assert welcome.startswith("* welcome "), welcome
    return reader, writer, welcome.split()[2].rstrip(":")


async def measure_ws(ws_port: int, n: int, messages: int, size: int, timeout: float) -> float:
    url, origin = f"ws://127.0.0.1:{ws_port}/ws", f"http://127.0.0.1:{ws_port}"
    async with contextlib.AsyncExitStack() as stack:
        receivers: list[ClientConnection] = []
        for i in range(0, n, 100):  # join in batches: a burst of 1,000 handshakes is not the test
            joined = await asyncio.gather(*(ws_join(url, origin, stack)
                                            for _ in range(min(100, n - i))))
            receivers += [ws for ws, _ in joined]
        sender, nick = await ws_join(url, origin, stack)
        counter = Counter(n, messages)
        tasks = [asyncio.create_task(ws_receiver(ws, f"<{nick}> m", counter)) for ws in receivers]
        body = "x" * max(0, size - 8)
        started = time.perf_counter()
        for i in range(messages):
            await sender.send(f"m{i:06d} {body}")
        try:
            await asyncio.wait_for(counter.done.wait(), timeout)
        finally:
            for t in tasks:
                t.cancel()
        return time.perf_counter() - started


async def measure_tcp(chat_port: int, n: int, messages: int, size: int, timeout: float) -> float:
    members = []
    for i in range(0, n, 100):
        members += await asyncio.gather(*(tcp_join(chat_port) for _ in range(min(100, n - i))))
    s_reader, s_writer, nick = await tcp_join(chat_port)
    counter = Counter(n, messages)
    prefix = f"<{nick}> m".encode()
    tasks = [asyncio.create_task(tcp_receiver(r, prefix, counter)) for r, _, _ in members]
    drain = asyncio.create_task(tcp_receiver(s_reader, b"\0", counter))  # read the sender's acks
    body = "x" * max(0, size - 8)
    started = time.perf_counter()
    try:
        for i in range(messages):
            s_writer.write(f"m{i:06d} {body}\n".encode())
            await s_writer.drain()
        await asyncio.wait_for(counter.done.wait(), timeout)
        return time.perf_counter() - started
    finally:
        for t in [*tasks, drain]:
            t.cancel()
        for _, w, _ in [*members, (s_reader, s_writer, nick)]:
            w.close()


def run_one(n: int, messages: int, size: int, timeout: float) -> tuple[float, float]:
    chat_port, ws_port = free_port(), free_port()
    # Room big enough, no join-notice storm, queues deeper than one burst so nobody is dropped.
    chat = start("tcp_chat", "--port", str(chat_port), "--max-clients", str(2 * n + 10),
                 "--announce-limit", "10", "--queue-lines", str(messages + 64),
                 "--heartbeat-file", "")
    bridge = start("ws_chat", "--port", str(ws_port), "--chat-addr", f"127.0.0.1:{chat_port}",
                   "--origins", f"http://127.0.0.1:{ws_port}", "--max-connections", str(n + 10),
                   "--queue-lines", str(messages + 64))
    try:
        wait_port(chat_port, chat)
        wait_port(ws_port, bridge)
        ws_time = asyncio.run(measure_ws(ws_port, n, messages, size, timeout))
        tcp_time = asyncio.run(measure_tcp(chat_port, n, messages, size, timeout))
        return ws_time, tcp_time
    finally:
        stop(bridge, chat)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clients", default="100,1000", help="receiver counts, comma-separated")
    p.add_argument("--messages", type=int, default=200, help="lines the sender sends per run")
    p.add_argument("--size", type=int, default=64, help="bytes per line")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per measurement at most")
    args = p.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 3 * max(counts) + 100
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    print(f"fan-out: 1 sender, N receivers, {args.messages} lines of {args.size} bytes; "
          "deliveries = N x lines")
    print(f"{'N':>6} {'ws_chat msg/s':>14} {'deliveries/s':>13} {'tcp direct msg/s':>17} "
          f"{'deliveries/s':>13} {'ws/tcp':>7}")
    for n in counts:
        ws_time, tcp_time = run_one(n, args.messages, args.size, args.timeout)
        ws_rate, tcp_rate = args.messages / ws_time, args.messages / tcp_time
        print(f"{n:>6} {ws_rate:>14.0f} {ws_rate * n:>13.0f} {tcp_rate:>17.0f} "
              f"{tcp_rate * n:>13.0f} {ws_rate / tcp_rate:>7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
