"""The chat room: members, nicks and commands as plain state (sans-IO, no sockets here).

Every operation returns an ``Outcome``: the lines to deliver, each to one connection id, and the
connections to close once their lines are out. The transports only move those bytes, which is
why the asyncio server and the thread-per-client server behave identically.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from tcp_chat.protocol import scrub

NICK_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,15}")
HELP = "= help /nick NAME, /who, /msg NAME TEXT, /time, /help, /quit"
WELCOME = "* welcome {nick}: type to talk, /help for commands, /quit to leave"
SERVER_FULL = "! server full: try again later"
IDLE_GOODBYE = "! idle too long: goodbye"
SHUTTING_DOWN = "* server shutting down"
INVALID_NICK = "! invalid nick: 1 to 16 of A-Z a-z 0-9 _ -, starting with a letter"
IDLE = "idle"
TOO_SLOW = "too slow"


@dataclass
class Outcome:
    """What an event caused: ``(connection id, line)`` deliveries in order, then closes."""

    deliveries: list[tuple[int, str]] = field(default_factory=list)
    close: list[int] = field(default_factory=list)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Room:
    """One chat room. Connection ids are the transport's; nicks are unique ignoring case.

    ``announce_limit`` stops join/leave/nick notices while the room holds more members than
    that (each notice costs one line per member, so mass joins would cost N² lines); the default
    equals the default client limit, so by default every change is announced.
    """

    def __init__(
        self,
        max_clients: int = 1000,
        announce_limit: int = 1000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.max_clients = max_clients
        self.announce_limit = announce_limit
        self._clock = clock
        self._nicks: dict[int, str] = {}  # id -> nick, in join order
        self._by_name: dict[str, int] = {}  # nick.casefold() -> id
        self._next_guest = 1

    # -- queries ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._nicks)

    def __contains__(self, cid: object) -> bool:
        return cid in self._nicks

    def nick(self, cid: int) -> str | None:
        return self._nicks.get(cid)

    def nicks(self) -> list[str]:
        return sorted(self._nicks.values(), key=lambda n: (n.casefold(), n))

    # -- membership ------------------------------------------------------------------------
    def join(self, cid: int) -> Outcome:
        """A connection arrived: welcome it as ``guest-N`` or refuse it when the room is full."""
        if cid in self._nicks:
            raise ValueError(f"connection {cid} already joined")
        if len(self._nicks) >= self.max_clients:
            return Outcome([(cid, SERVER_FULL)], [cid])
        nick = self._guest_nick()
        out = Outcome()
        self._announce(out, f"* {nick} joined", exclude=cid)
        self._nicks[cid] = nick
        self._by_name[nick.casefold()] = cid
        out.deliveries.append((cid, WELCOME.format(nick=nick)))
        return out

    def leave(self, cid: int, reason: str | None = None) -> Outcome:
        """A member goes: it quit or disconnected (no reason) or was dropped (``idle``,
        ``too slow``). Unknown ids give an empty outcome, so calling twice is harmless."""
        out = Outcome()
        nick = self._nicks.pop(cid, None)
        if nick is None:
            return out
        del self._by_name[nick.casefold()]
        if reason == IDLE:
            out.deliveries.append((cid, IDLE_GOODBYE))
        if reason is not None:
            out.close.append(cid)
        suffix = f" ({reason})" if reason else ""
        self._announce(out, f"* {nick} left{suffix}", exclude=cid)
        return out

    def shutdown(self) -> Outcome:
        """The server stops: tell everyone, close everyone, forget everyone."""
        ids = list(self._nicks)
        self._nicks.clear()
        self._by_name.clear()
        return Outcome([(cid, SHUTTING_DOWN) for cid in ids], ids)

    # -- lines -----------------------------------------------------------------------------
    def handle_line(self, cid: int, raw: str) -> Outcome:
        """One framed line from member ``cid`` (not yet scrubbed)."""
        if cid not in self._nicks:
            return Outcome()
        text = scrub(raw)
        if not text:
            return Outcome()
        if text.strip().casefold() == "exit":
            return self._quit(cid)
        if text.startswith("//"):
            return self._say(cid, text[1:])
        if text.startswith("/"):
            command, _, arg = text.partition(" ")
            handler = self._COMMANDS.get(command.casefold())
            if handler is None:
                return self._reply(cid, f"! unknown command: {command} (try /help)")
            return handler(self, cid, arg.strip())
        return self._say(cid, text)

    def _say(self, cid: int, text: str) -> Outcome:
        line = f"<{self._nicks[cid]}> {text}"
        out = Outcome([(other, line) for other in self._nicks if other != cid])
        out.deliveries.append((cid, f"> delivered to {len(out.deliveries)}: {text}"))
        return out

    def _nick(self, cid: int, name: str) -> Outcome:
        if not name:
            return self._reply(cid, "! usage: /nick NAME")
        if not NICK_RE.fullmatch(name):
            return self._reply(cid, INVALID_NICK)
        owner = self._by_name.get(name.casefold())
        if owner is not None and owner != cid:
            return self._reply(cid, f"! nick taken: {name}")
        old = self._nicks[cid]
        out = Outcome()
        if name != old:
            del self._by_name[old.casefold()]
            self._nicks[cid] = name
            self._by_name[name.casefold()] = cid
            self._announce(out, f"* {old} is now {name}", exclude=cid)
        out.deliveries.append((cid, f"= nick {name}"))
        return out

    def _who(self, cid: int, _arg: str) -> Outcome:
        names = self.nicks()
        return self._reply(cid, f"= who {len(names)}: {' '.join(names)}")

    def _msg(self, cid: int, arg: str) -> Outcome:
        name, _, text = arg.partition(" ")
        text = text.strip()
        if not name or not text:
            return self._reply(cid, "! usage: /msg NAME TEXT")
        target = self._by_name.get(name.casefold())
        if target is None:
            return self._reply(cid, f"! no such user: {name}")
        target_nick = self._nicks[target]
        return Outcome(
            [(target, f"[{self._nicks[cid]}] {text}"), (cid, f"> sent to {target_nick}: {text}")]
        )

    def _time(self, cid: int, _arg: str) -> Outcome:
        now = self._clock().astimezone(UTC)
        return self._reply(cid, f"= time {now.strftime('%Y-%m-%dT%H:%M:%SZ')}")

    def _help(self, cid: int, _arg: str) -> Outcome:
        return self._reply(cid, HELP)

    def _quit(self, cid: int, _arg: str = "") -> Outcome:
        nick = self._nicks[cid]
        out = Outcome([(cid, f"* bye {nick}")])
        left = self.leave(cid)
        out.deliveries.extend(left.deliveries)
        out.close.append(cid)
        return out

    _COMMANDS: ClassVar[dict[str, Callable[[Room, int, str], Outcome]]] = {
        "/nick": _nick,
        "/who": _who,
        "/msg": _msg,
        "/time": _time,
        "/help": _help,
        "/quit": _quit,
    }

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _reply(cid: int, line: str) -> Outcome:
        return Outcome([(cid, line)])

    def _announce(self, out: Outcome, line: str, *, exclude: int) -> None:
        if len(self._nicks) > self.announce_limit:
            return
        out.deliveries.extend((other, line) for other in self._nicks if other != exclude)

    def _guest_nick(self) -> str:
        while True:
            nick = f"guest-{self._next_guest}"
            self._next_guest += 1
            if nick.casefold() not in self._by_name:
                return nick
