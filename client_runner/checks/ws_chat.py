"""Checks of ws_chat (docs/protocols/ws_chat.md): the page answers, the handshake with an allowed
Origin gets tcp_chat's welcome, a foreign Origin is refused with 403, a line goes from a
WebSocket user to a raw TCP member of tcp_chat and back, and an oversize message closes with 1009.

The Origin the runner sends is the setting ``WS_CHAT_ORIGIN`` (default ``http://localhost:8765``,
on ws_chat's default allow-list); the oversize check sends ``WS_CHAT_MAX_MESSAGE_BYTES`` + 1
bytes (default 4096, ws_chat's default limit). websockets' sync client keeps each check linear.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from client_runner.checks.base import CheckFailed, Context, Target, check, expect, probe

SERVICE = "ws_chat"
CHAT = "tcp_chat"
DEFAULT_ORIGIN = "http://localhost:8765"
FOREIGN_ORIGIN = "http://evil.invalid"


def _url(target: Target, path: str, scheme: str = "ws") -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{scheme}://{host}:{target.port}{path}"


@contextmanager
def _ws(ctx: Context, origin: str | None = None, **kwargs: object) -> Iterator[ClientConnection]:
    origin = origin or ctx.setting("WS_CHAT_ORIGIN", DEFAULT_ORIGIN)
    with connect(
        _url(ctx.target(SERVICE), "/ws"),
        origin=origin,  # type: ignore[arg-type]
        open_timeout=ctx.timeout,
        close_timeout=min(ctx.timeout, 2.0),
        proxy=None,
        **kwargs,  # type: ignore[arg-type]
    ) as ws:
        yield ws


def _frames_until(ws: ClientConnection, prefix: str, timeout: float) -> str:
    """Receive frames until one starts with ``prefix`` (join notices and others are skipped)."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = ws.recv(timeout=left)
        except TimeoutError:
            break
        except ConnectionClosed as exc:
            raise CheckFailed(f"WebSocket closed while waiting for {prefix!r}",
                              expected=prefix + "...", got=f"{exc} after {seen[-3:]}") from None
        if isinstance(frame, str) and frame.startswith(prefix):
            return frame
        seen.append(frame if isinstance(frame, str) else repr(frame))
    raise CheckFailed(f"no frame starting {prefix!r}", expected=prefix + "...", got=seen[-3:])


def _welcome(ws: ClientConnection, timeout: float) -> str:
    """The nick tcp_chat gave this WebSocket user (its first frame is tcp_chat's welcome)."""
    line = _frames_until(ws, "* welcome ", timeout)
    return line.split()[2].rstrip(":")


class _TcpMember:
    """A raw member of tcp_chat's room, as ``nc`` would be."""

    def __init__(self, target: Target, timeout: float) -> None:
        self.timeout = timeout
        self.sock = socket.create_connection((target.host, target.port), timeout=timeout)
        self.buf = b""
        line = self.until("* welcome ")
        self.nick = line.split()[2].rstrip(":")

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\n")

    def until(self, prefix: str) -> str:
        deadline = time.monotonic() + self.timeout
        seen: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            while b"\n" in self.buf:
                raw, _, self.buf = self.buf.partition(b"\n")
                line = raw.decode("utf-8", "replace").rstrip("\r")
                if line.startswith(prefix):
                    return line
                seen.append(line)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            self.buf += data
        raise CheckFailed(f"tcp_chat member got no line starting {prefix!r}",
                          expected=prefix + "...", got=seen[-3:])

    def close(self) -> None:
        self.sock.close()


@probe(SERVICE, 8765)
def probe_page(target: Target, timeout: float) -> None:
    """GET / answers 200; it never opens /ws, so waiting adds no member to the room."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(_url(target, "/", "http"), timeout=min(timeout, 2.0)) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    expect(status == 200, "GET / did not answer 200", expected=200, got=status)


@check(SERVICE, "handshake")
def handshake(ctx: Context) -> str:
    started = time.perf_counter()
    with _ws(ctx) as ws:
        nick = _welcome(ws, ctx.timeout)
        ms = (time.perf_counter() - started) * 1000
    return f"welcome as {nick} in {ms:.1f} ms"


@check(SERVICE, "bad Origin refused")
def bad_origin(ctx: Context) -> str:
    try:
        with _ws(ctx, origin=FOREIGN_ORIGIN) as ws:
            ws.close()
    except InvalidStatus as exc:
        status = exc.response.status_code
        expect(status == 403, "foreign Origin not refused with 403", expected=403, got=status)
        return f"403 for Origin {FOREIGN_ORIGIN}"
    raise CheckFailed("handshake with a foreign Origin was accepted", expected="HTTP 403",
                      got="101 Switching Protocols")


@check(SERVICE, "WebSocket line reaches TCP")
def ws_to_tcp(ctx: Context) -> str:
    member = _TcpMember(ctx.target(CHAT), ctx.timeout)
    try:
        with _ws(ctx) as ws:
            nick = _welcome(ws, ctx.timeout)
            token = f"from the browser {uuid.uuid4().hex[:12]}"
            ws.send(token)
            _frames_until(ws, "> delivered to ", ctx.timeout)
            line = member.until(f"<{nick}> ")
            while line != f"<{nick}> {token}":
                line = member.until(f"<{nick}> ")
    finally:
        member.close()
    return f"{nick} -> {member.nick}"


@check(SERVICE, "TCP line reaches WebSocket")
def tcp_to_ws(ctx: Context) -> str:
    member = _TcpMember(ctx.target(CHAT), ctx.timeout)
    try:
        with _ws(ctx) as ws:
            nick = _welcome(ws, ctx.timeout)
            member.until(f"* {nick} joined")  # the bridge's member is in the room now
            token = f"from nc {uuid.uuid4().hex[:12]}"
            member.send(token)
            got = _frames_until(ws, f"<{member.nick}> ", ctx.timeout)
            while got != f"<{member.nick}> {token}":
                got = _frames_until(ws, f"<{member.nick}> ", ctx.timeout)
    finally:
        member.close()
    return f"{member.nick} -> {nick}"


@check(SERVICE, "oversize message closes with 1009")
def oversize(ctx: Context) -> str:
    limit = int(ctx.setting("WS_CHAT_MAX_MESSAGE_BYTES", "4096"))
    with _ws(ctx) as ws:
        _welcome(ws, ctx.timeout)
        ws.send("x" * (limit + 1))
        deadline = time.monotonic() + ctx.timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                frame = ws.recv(timeout=left)
                # "> delivered ..." or tcp_chat's "! line too long": it got through the bridge
                expect(not str(frame).startswith(("> ", "! ")),
                       "oversize message answered instead of closed",
                       expected="close 1009", got=str(frame)[:60])
        except TimeoutError:
            pass
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            expect(code == 1009, "closed with another code", expected=1009, got=code)
            return f"{limit + 1} bytes -> close 1009"
    raise CheckFailed("still open after an oversize message", expected="close 1009",
                      got="no close")
