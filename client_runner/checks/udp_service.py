"""Checks of udp_service (docs/protocols/udp_service.md): ping RTT, time, echo, broadcast to
joined clients, garbage then still answering, and 1,000 sequenced datagrams with loss and
reordering counted. Standard library only.

UDP is lossy by design, so single request/reply checks retry a lost datagram a few times, and
the loss check passes up to ``UDP_SERVICE_MAX_LOSS_PCT`` percent (default 5): over loopback or a
compose network the loss is 0, and a broken server loses far more than that.
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid

from client_runner.checks.base import CheckFailed, Context, Target, check, expect, probe

SERVICE = "udp_service"
SEQ_COUNT = 1000
SEQ_WINDOW = 64  # datagrams in flight at once: paced so that neither socket buffer overflows


def _socket(target: Target, timeout: float) -> socket.socket:
    """A UDP socket connected to the target: it only hears from the server, and an ICMP
    "port unreachable" shows up as ConnectionRefusedError instead of a silent timeout."""
    infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_DGRAM)
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    sock.connect(address)
    return sock


def _ask(sock: socket.socket, request: bytes, prefix: bytes, timeout: float) -> bytes:
    """Send ``request`` until a reply starting with ``prefix`` comes (a few tries, UDP may lose
    one); other datagrams that arrive meanwhile are skipped."""
    deadline = time.monotonic() + timeout
    tries = 0
    last = b""
    while (left := deadline - time.monotonic()) > 0 and tries < 4:
        tries += 1
        sock.send(request)
        try_until = time.monotonic() + min(left, max(timeout / 4, 0.25))
        while (wait := try_until - time.monotonic()) > 0:
            sock.settimeout(wait)
            try:
                data = sock.recv(4096)
            except TimeoutError:
                break
            last = data
            if data.startswith(prefix):
                return data.rstrip(b"\n")
    raise CheckFailed(f"no {prefix.decode().strip()!r} reply to {request[:40]!r}",
                      expected=prefix.decode() + "...", got=last.decode(errors="replace") or None)


def _recv_matching(sock: socket.socket, needle: bytes, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            break
        if needle in data:
            return data.rstrip(b"\n")
    raise CheckFailed("broadcast not received by a joined client", expected=needle.decode())


@probe(SERVICE, 9999)
def probe_udp(target: Target, timeout: float) -> None:
    with _socket(target, min(timeout, 1.0)) as sock:
        _ask(sock, b"ping", b"PONG ", min(timeout, 1.0))


@check(SERVICE, "ping RTT")
def ping_rtt(ctx: Context) -> str:
    with _socket(ctx.target(SERVICE), ctx.timeout) as sock:
        rtts = []
        for _ in range(5):
            start = time.perf_counter()
            _ask(sock, b"ping", b"PONG ", ctx.timeout)
            rtts.append((time.perf_counter() - start) * 1000)
    rtts.sort()
    return f"rtt median {rtts[2]:.2f} ms, min {rtts[0]:.2f} ms (5 pings)"


@check(SERVICE, "time")
def server_time(ctx: Context) -> str:
    with _socket(ctx.target(SERVICE), ctx.timeout) as sock:
        reply = _ask(sock, b"time", b"TIME ", ctx.timeout).decode()
    parts = reply.split()
    expect(len(parts) == 3 and parts[1].endswith("Z"), "TIME reply malformed",
           expected="TIME <iso8601 UTC> <unix seconds>", got=reply)
    offset = float(parts[2]) - time.time()
    expect(abs(offset) < 300, "server clock far off", expected="< 300 s", got=f"{offset:.1f} s")
    return f"{parts[1]} (offset {offset * 1000:+.0f} ms)"


@check(SERVICE, "echo")
def echo(ctx: Context) -> str:
    text = f"héllo 你好 {uuid.uuid4().hex[:8]}"
    with _socket(ctx.target(SERVICE), ctx.timeout) as sock:
        reply = _ask(sock, text.encode(), b"ECHO ", ctx.timeout).decode()
    expect(reply == f"ECHO {text}", "echo differs", expected=f"ECHO {text}", got=reply)
    return reply


@check(SERVICE, "broadcast to joined clients")
def broadcast(ctx: Context) -> str:
    target = ctx.target(SERVICE)
    token = f"bcast-{uuid.uuid4().hex[:12]}"
    with _socket(target, ctx.timeout) as a, _socket(target, ctx.timeout) as b, \
            _socket(target, ctx.timeout) as c:
        try:
            for member in (a, b):
                _ask(member, b"join", b"JOINED ", ctx.timeout)
            sent = _ask(c, f"broadcast {token}".encode(), b"SENT ", ctx.timeout).decode()
            reached = int(sent.split()[1])
            expect(reached >= 2, "broadcast reached too few", expected=">= 2", got=sent)
            for member in (a, b):
                got = _recv_matching(member, token.encode(), ctx.timeout).decode()
                expect(got.startswith("FROM ") and got.endswith(" " + token),
                       "broadcast line malformed", expected=f"FROM ADDR {token}", got=got)
            c.settimeout(0.2)
            try:
                extra = c.recv(4096)
            except TimeoutError:
                extra = b""
            expect(token.encode() not in extra, "the sender got its own broadcast", got=extra)
        finally:
            for member in (a, b):
                with contextlib.suppress(OSError):
                    member.send(b"leave")
    return sent


@check(SERVICE, "garbage then still answering")
def garbage(ctx: Context) -> str:
    with _socket(ctx.target(SERVICE), ctx.timeout) as sock:
        bad = _ask(sock, b"\xff\xfe\x00\x80garbage", b"ERR ", ctx.timeout).decode()
        expect(bad.startswith("ERR invalid-utf8"), "wrong error", expected="ERR invalid-utf8...",
               got=bad)
        sock.send(b"")  # an empty datagram: dropped without a reply
        _ask(sock, b"ping", b"PONG ", ctx.timeout)
    return bad


@check(SERVICE, "1000 sequenced datagrams")
def sequenced(ctx: Context) -> str:
    """Send ``seq N ping`` for N in 0..999 with at most SEQ_WINDOW in flight; count replies that
    never came (loss), came after a higher number (reordered) or twice (duplicates)."""
    max_loss = float(ctx.setting("UDP_SERVICE_MAX_LOSS_PCT", "5"))
    seen: set[int] = set()
    reordered = duplicates = abandoned = sent = 0
    highest = -1
    start = time.perf_counter()
    with _socket(ctx.target(SERVICE), ctx.timeout) as sock:
        deadline = time.monotonic() + max(ctx.timeout * 4, 10.0)
        while len(seen) < SEQ_COUNT and time.monotonic() < deadline:
            while sent < SEQ_COUNT and sent - len(seen) - abandoned < SEQ_WINDOW:
                sock.send(f"seq {sent} ping".encode())
                sent += 1
            sock.settimeout(min(ctx.timeout, 1.0))
            try:
                data = sock.recv(4096)
            except TimeoutError:
                if sent >= SEQ_COUNT:
                    break  # whatever has not come by now is lost
                abandoned = sent - len(seen)  # give up on the window in flight and go on
                continue
            parts = data.split(maxsplit=3)
            if parts[:1] != [b"seq"] or len(parts) < 3 or parts[2] != b"PONG":
                continue
            if not parts[1].isdigit():
                continue
            n = int(parts[1])
            if n in seen:
                duplicates += 1
                continue
            if n < highest:
                reordered += 1
            highest = max(highest, n)
            seen.add(n)
    elapsed = time.perf_counter() - start
    received = len(seen)
    loss = 100.0 * (SEQ_COUNT - received) / SEQ_COUNT
    detail = (f"{SEQ_COUNT} sent, {received} replies, loss {loss:.1f}%, reordered {reordered}, "
              f"duplicates {duplicates}, {SEQ_COUNT / elapsed:,.0f} datagrams/s")
    expect(loss <= max_loss, f"loss above {max_loss:g}%", expected=f"<= {max_loss:g}%", got=detail)
    return detail

