"""The udp_service protocol, sans-IO: datagram bytes in, (destination, bytes) pairs out.

``UdpService.handle(data, source, now)`` does everything the server does for one datagram:
limits, decoding, the ``seq N`` form, commands, broadcast fan-out, counters. The transport only
moves bytes, so every rule here is unit-tested without sockets or sleeps (``now`` is injected,
and so is the wall clock used for ``PONG``/``TIME``).

The exact grammar and replies are in docs/protocols/udp_service.md.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from udp_service.members import Members
from udp_service.ratelimit import TokenBuckets

Address = tuple  # (host, port) for IPv4, (host, port, flowinfo, scope_id) for IPv6
Outgoing = list[tuple[Address, bytes]]

COUNTERS = ("received", "replied", "forwarded")
ERRORS = ("oversize", "utf8", "control", "usage", "full", "amplify")
DROPS = ("empty", "ratelimit", "backlog", "sendfail")

HELP = (
    "HELP ping | time | join | leave | broadcast TEXT | stats | help | seq N COMMAND;"
    " any other text is echoed as ECHO TEXT"
)
MAX_SEQ = 2**64 - 1
# C0 controls except tab, DEL and C1 controls: never forwarded (they would forge lines on a
# terminal) and never echoed.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Limits:
    """Every size and count the service bounds; each is a CLI flag and an environment variable."""

    max_datagram: int = 1024
    join_ttl: float = 60.0
    max_members: int = 1000
    max_members_per_host: int = 4
    max_fanout: int = 32
    rate: float = 1000.0
    burst: float = 2000.0
    max_sources: int = 65536
    amp_factor: float = 4.0
    amp_floor: int = 400


class Stats:
    """Counters reported by ``stats`` and logged by the transport."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.errors = dict.fromkeys(ERRORS, 0)
        self.drops = dict.fromkeys(DROPS, 0)

    def drop(self, reason: str) -> None:
        self.drops[reason] += 1

    def render(self, joined: int) -> str:
        parts = [f"{k}={v}" for k, v in self.counts.items()]
        parts.append(f"joined={joined}")
        parts += [f"err.{k}={v}" for k, v in self.errors.items()]
        parts += [f"drop.{k}={v}" for k, v in self.drops.items()]
        return "STATS " + " ".join(parts)


def format_address(address: Address) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def iso_utc(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


class UdpService:
    """All state of one server: joined members, rate buckets and counters."""

    def __init__(self, limits: Limits | None = None, wall_clock: Callable[[], float] = time.time):
        self.limits = limits or Limits()
        self.wall_clock = wall_clock
        self.members = Members(
            self.limits.join_ttl, self.limits.max_members, self.limits.max_members_per_host
        )
        self.buckets = TokenBuckets(self.limits.rate, self.limits.burst, self.limits.max_sources)
        self.stats = Stats()

    # -- the one entry point ---------------------------------------------------------------

    def handle(self, data: bytes, source: Address, now: float) -> Outgoing:
        """Process one datagram from ``source`` at monotonic time ``now``; return what to send."""
        stats = self.stats
        stats.counts["received"] += 1
        if not self.buckets.allow(str(source[0]), now):
            stats.drop("ratelimit")
            return []
        self.members.expire(now)
        self.members.touch(source, now)

        if len(data) > self.limits.max_datagram:
            limit = self.limits.max_datagram
            return self._error(source, "oversize", f"ERR too-long: max {limit} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return self._error(source, "utf8", "ERR invalid-utf8: datagram dropped")
        text = text.strip()
        if not text:
            stats.drop("empty")  # a reply to nothing would be pure amplification
            return []
        if _CONTROL.search(text):
            return self._error(source, "control", "ERR control-chars: datagram dropped")

        prefix = ""
        word, _, rest = text.partition(" ")
        if word.lower() == "seq":
            seq, _, body = rest.strip().partition(" ")
            body = body.strip()
            digits = seq.lstrip("0") or "0"  # int() refuses over 4300 digits: bound them first
            if (not seq.isascii() or not seq.isdigit() or len(digits) > 20
                    or int(digits) > MAX_SEQ or not body):
                return self._error(source, "usage", "ERR usage: seq N COMMAND (N 0..2^64-1)")
            prefix = f"seq {int(digits)} "
            text = body
            word, _, rest = text.partition(" ")
            if word.lower() == "seq":
                return self._error(source, "usage", prefix + "ERR usage: seq cannot nest")

        out: Outgoing = []
        reply = self._command(word.lower(), rest.strip(), text, source, now, out)
        return self._reply(source, prefix, reply, len(data), out)

    # -- commands --------------------------------------------------------------------------

    def _command(
        self, word: str, arg: str, text: str, source: Address, now: float, out: Outgoing
    ) -> str:
        if word == "ping":
            return f"PONG {iso_utc(self.wall_clock())}"
        if word == "time":
            wall = self.wall_clock()
            return f"TIME {iso_utc(wall)} {wall:.3f}"
        if word == "join":
            if not self.members.join(source, now):
                self.stats.errors["full"] += 1
                if len(self.members) < self.limits.max_members:
                    return f"ERR full: {self.limits.max_members_per_host} members per host"
                return f"ERR full: {self.limits.max_members} members"
            return f"JOINED ttl={self.limits.join_ttl:g} members={len(self.members)}"
        if word == "leave":
            self.members.leave(source)
            return f"LEFT members={len(self.members)}"
        if word == "broadcast":
            if not arg:
                self.stats.errors["usage"] += 1
                return "ERR usage: broadcast TEXT"
            return self._broadcast(arg, source, now, out)
        if word == "stats":
            return self.stats.render(len(self.members))
        if word == "help":
            return HELP
        return f"ECHO {text}"

    def _broadcast(self, text: str, source: Address, now: float, out: Outgoing) -> str:
        chosen, eligible = self.members.recipients(source, self.limits.max_fanout)
        # The sender pays a token per datagram it makes us send to others.
        allowed = self.buckets.take_up_to(str(source[0]), now, len(chosen))
        if allowed < len(chosen):
            self.stats.drops["ratelimit"] += len(chosen) - allowed
        payload = f"FROM {format_address(source)} {text}\n".encode()
        for address in chosen[:allowed]:
            out.append((address, payload))
        self.stats.counts["forwarded"] += allowed
        return f"SENT {allowed} of {eligible}"

    # -- replies ---------------------------------------------------------------------------

    def _error(self, source: Address, reason: str, message: str) -> Outgoing:
        self.stats.errors[reason] += 1
        self.stats.counts["replied"] += 1
        return [(source, (message + "\n").encode())]

    def _reply(
        self, source: Address, prefix: str, reply: str, request_len: int, out: Outgoing
    ) -> Outgoing:
        """Send ``reply`` unless it breaks the amplification budget, then a short error."""
        payload = f"{prefix}{reply}\n".encode()
        if len(payload) > self.reply_budget(request_len):
            need = math.ceil(len(payload) / self.limits.amp_factor)
            self.stats.errors["amplify"] += 1
            payload = f"{prefix}ERR amplify: pad the request to {need} bytes\n".encode()
        self.stats.counts["replied"] += 1
        return [(source, payload), *out]

    def reply_budget(self, request_len: int) -> int:
        """The most bytes a reply to a request of ``request_len`` bytes may have."""
        return max(self.limits.amp_floor, int(self.limits.amp_factor * request_len))
