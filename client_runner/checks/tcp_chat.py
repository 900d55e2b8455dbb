"""Checks of tcp_chat (docs/protocols/tcp_chat.md): two and three clients, nicks, broadcast to
all others but not the sender, the sender's one acknowledgement, join/leave notices, private
messages, /who, and bad input (invalid UTF-8, an overlong line) leaving the server serving others.

The room may hold other people (someone chatting with ``nc``, another runner): every check uses
fresh connections with unique nicks and texts, skips lines that are not its own, and closes what
it opened. Standard library only.
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import Callable, Iterator

from client_runner.checks.base import CheckFailed, Context, Target, check, expect, probe

SERVICE = "tcp_chat"


class Chat:
    """One connection speaking the line protocol, with a deadline on every wait."""

    def __init__(self, target: Target, timeout: float) -> None:
        self.timeout = timeout
        self.sock = socket.create_connection((target.host, target.port), timeout=timeout)
        self.buf = b""
        self.seen: list[str] = []  # every line read, for failure reports
        welcome = self.next_line()
        if not welcome.startswith("* welcome "):
            raise CheckFailed("no welcome line", expected="* welcome guest-N: ...", got=welcome)
        self.nick = welcome.split()[2].rstrip(":")

    def send(self, data: str | bytes) -> None:
        self.sock.sendall(data if isinstance(data, bytes) else data.encode() + b"\n")

    def next_line(self, deadline: float | None = None) -> str:
        deadline = deadline or time.monotonic() + self.timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete line in time")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise CheckFailed("server closed the connection", got=self.seen[-5:])
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\n", 1)
        line = raw.decode("utf-8", errors="replace")
        self.seen.append(line)
        return line

    def wait_for(self, want: Callable[[str], bool], what: str) -> tuple[str, list[str]]:
        """Read until a line satisfies ``want``; return it and the lines skipped before it."""
        deadline = time.monotonic() + self.timeout
        skipped: list[str] = []
        while True:
            try:
                line = self.next_line(deadline)
            except TimeoutError:
                raise CheckFailed(f"{self.nick} never got {what}", expected=what,
                                  got=skipped[-5:] or "nothing") from None
            if want(line):
                return line, skipped
            skipped.append(line)

    def expect_line(self, line: str) -> list[str]:
        return self.wait_for(line.__eq__, repr(line))[1]

    def rename(self, role: str) -> str:
        nick = f"{role}{uuid.uuid4().hex[:8]}"
        self.send(f"/nick {nick}")
        self.expect_line(f"= nick {nick}")
        self.nick = nick
        return nick

    def quiet_until_sync(self) -> list[str]:
        """Round-trip a /time: every line that was on its way to us arrives before the reply."""
        self.send("/time")
        return self.wait_for(lambda s: s.startswith("= time "), "'= time ...'")[1]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@contextlib.contextmanager
def members(ctx: Context, *roles: str) -> Iterator[list[Chat]]:
    """Connect one client per role, each renamed to a unique nick; all closed at the end."""
    target = ctx.target(SERVICE)
    chats: list[Chat] = []
    try:
        for role in roles:
            chats.append(Chat(target, ctx.timeout))
            chats[-1].rename(role)
        yield chats
    finally:
        for chat in chats:
            chat.close()


def token() -> str:
    return uuid.uuid4().hex[:12]


def say(sender: Chat, text: str) -> int:
    """Send room text; return N from the sender's ``> delivered to N: TEXT``."""
    sender.send(text)
    ack, _ = sender.wait_for(lambda s: s.startswith("> delivered to ") and s.endswith(": " + text),
                             f"'> delivered to N: {text}'")
    return int(ack.split()[3].rstrip(":"))


def max_line(ctx: Context) -> int:
    return int(ctx.setting("TCP_CHAT_MAX_LINE_BYTES", "4096"))


@probe(SERVICE, 8888)
def probe_chat(target: Target, timeout: float) -> None:
    chat = Chat(target, timeout)
    try:
        chat.send("/quit")
    finally:
        chat.close()


@check(SERVICE, "two clients")
def two_clients(ctx: Context) -> str:
    with members(ctx, "a", "b") as (a, b):
        t1, t2 = token(), token()
        say(a, t1)
        b.expect_line(f"<{a.nick}> {t1}")
        say(b, t2)
        a.expect_line(f"<{b.nick}> {t2}")
    return "each heard the other"


@check(SERVICE, "three clients: broadcast reaches all others, not the sender")
def three_clients(ctx: Context) -> str:
    with members(ctx, "a", "b", "c") as (a, b, c):
        text = token()
        n = say(a, text)
        expect(n >= 2, "delivery count too small", expected=">= 2", got=n)
        for other in (b, c):
            other.expect_line(f"<{a.nick}> {text}")
        echoed = [s for s in a.quiet_until_sync() if s == f"<{a.nick}> {text}"]
        expect(not echoed, "the sender got its own message back", expected="nothing", got=echoed)
    return f"delivered to {n}"


@check(SERVICE, "sender's acknowledgement")
def acknowledgement(ctx: Context) -> str:
    with members(ctx, "a", "b") as (a, _b):
        text = token()
        n = say(a, text)
        extra = [s for s in a.quiet_until_sync() if s.startswith("> ")]
        expect(not extra, "more than one acknowledgement", expected="exactly one", got=extra)
    return f"'> delivered to {n}: ...'"


@check(SERVICE, "nick")
def nick(ctx: Context) -> str:
    with members(ctx, "a") as (a,):
        b = Chat(ctx.target(SERVICE), ctx.timeout)
        try:
            old = b.nick
            a.expect_line(f"* {old} joined")
            new = f"n{token()[:8]}"
            b.send(f"/nick {new}")
            b.expect_line(f"= nick {new}")
            a.expect_line(f"* {old} is now {new}")
            a.send(f"/nick {new.upper()}")
            a.expect_line(f"! nick taken: {new.upper()}")
            a.send("/nick 9bad")
            a.wait_for(lambda s: s.startswith("! invalid nick"), "'! invalid nick: ...'")
        finally:
            b.close()
    return f"{old} -> {new}; taken and invalid refused"


@check(SERVICE, "join and leave notices")
def join_leave(ctx: Context) -> str:
    with members(ctx, "a") as (a,):
        b = Chat(ctx.target(SERVICE), ctx.timeout)
        try:
            a.expect_line(f"* {b.nick} joined")
            b.send("/quit")
            b.expect_line(f"* bye {b.nick}")
            a.expect_line(f"* {b.nick} left")
        finally:
            b.close()
    return "joined, bye, left"


@check(SERVICE, "private message")
def private_message(ctx: Context) -> str:
    with members(ctx, "a", "b", "c") as (a, b, c):
        text = token()
        a.send(f"/msg {b.nick} {text}")
        a.expect_line(f"> sent to {b.nick}: {text}")
        b.expect_line(f"[{a.nick}] {text}")
        leaked = [s for s in c.quiet_until_sync() if text in s]
        expect(not leaked, "a third member saw the private message", expected="nothing",
               got=leaked)
    return "only the recipient saw it"


@check(SERVICE, "/who")
def who(ctx: Context) -> str:
    with members(ctx, "a", "b") as (a, b):
        a.send("/who")
        line, _ = a.wait_for(lambda s: s.startswith("= who "), "'= who N: ...'")
        head, _, names = line.partition(": ")
        listed = names.split()
        expect(int(head.split()[2]) == len(listed), "count differs from names", got=line)
        expect({a.nick, b.nick} <= set(listed), "members missing from /who",
               expected=f"{a.nick} and {b.nick}", got=line)
        expect(listed == sorted(listed, key=lambda n: (n.casefold(), n)), "not sorted", got=line)
    return f"{len(listed)} in the room"


def _bad_input_then_chat(ctx: Context, bad: bytes, error: str) -> None:
    with members(ctx, "a", "b") as (a, b):
        a.send(bad)
        a.wait_for(lambda s: s == error, repr(error))
        t1, t2 = token(), token()
        say(a, t1)
        b.expect_line(f"<{a.nick}> {t1}")
        say(b, t2)
        a.expect_line(f"<{b.nick}> {t2}")


@check(SERVICE, "invalid UTF-8 leaves the server serving others")
def invalid_utf8(ctx: Context) -> str:
    _bad_input_then_chat(ctx, b"bad \xff\xfe\xc3\x28\n", "! invalid UTF-8: line dropped")
    return "error line, then chat as usual"


@check(SERVICE, "overlong line leaves the server serving others")
def overlong_line(ctx: Context) -> str:
    limit = max_line(ctx)
    _bad_input_then_chat(ctx, b"x" * (limit + 100) + b"\n", f"! line too long: max {limit} bytes")
    return f"{limit + 100} bytes refused, then chat as usual"
