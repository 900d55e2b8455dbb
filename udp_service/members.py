"""Who joined the broadcast list, and until when: opt-in with expiry instead of "everyone ever".

Members are kept in order of last activity, so expiring the silent ones and picking the most
recently active recipients are both cheap. No sockets, no clock: the caller passes ``now``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


def host_of(address: Hashable) -> Hashable:
    """The IP of an ``(ip, port)`` address; anything else is its own host."""
    return address[0] if isinstance(address, tuple) else address


class Members:
    """Joined addresses; one expires ``ttl`` seconds after its last datagram.

    ``max_per_host`` caps the members one IP may hold. UDP sources can be forged, so without it
    anyone could join a victim's IP on many ports and have every broadcast reach it many times
    over (an amplifier); with it, one broadcast sends a host at most ``max_per_host`` datagrams.
    """

    def __init__(self, ttl: float, max_members: int, max_per_host: int | None = None) -> None:
        self.ttl = ttl
        self.max_members = max_members
        self.max_per_host = max_per_host
        self._last_seen: OrderedDict[Hashable, float] = OrderedDict()
        self._per_host: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._last_seen)

    def __contains__(self, address: object) -> bool:
        return address in self._last_seen

    def expire(self, now: float) -> int:
        """Forget members silent for ``ttl`` seconds or more; return how many went."""
        gone = 0
        while self._last_seen:
            address, seen = next(iter(self._last_seen.items()))
            if now - seen < self.ttl:
                break
            self._forget(address)
            gone += 1
        return gone

    def touch(self, address: Hashable, now: float) -> None:
        """Any datagram from a member keeps it alive."""
        if address in self._last_seen:
            self._last_seen[address] = now
            self._last_seen.move_to_end(address)

    def join(self, address: Hashable, now: float) -> bool:
        """Add or refresh ``address``; False when it is not a member and the list, or its
        host's share of it, is full."""
        if address not in self._last_seen:
            host = host_of(address)
            if len(self._last_seen) >= self.max_members:
                return False
            if self.max_per_host is not None and self._per_host.get(host, 0) >= self.max_per_host:
                return False
            self._per_host[host] = self._per_host.get(host, 0) + 1
        self._last_seen[address] = now
        self._last_seen.move_to_end(address)
        return True

    def leave(self, address: Hashable) -> bool:
        if address not in self._last_seen:
            return False
        self._forget(address)
        return True

    def _forget(self, address: Hashable) -> None:
        del self._last_seen[address]
        host = host_of(address)
        left = self._per_host[host] - 1
        if left:
            self._per_host[host] = left
        else:
            del self._per_host[host]

    def recipients(self, exclude: Hashable, limit: int) -> tuple[list[Hashable], int]:
        """Up to ``limit`` members other than ``exclude``, most recently active first, and how
        many were eligible in all."""
        chosen: list[Hashable] = []
        eligible = 0
        for address in reversed(self._last_seen):
            if address == exclude:
                continue
            eligible += 1
            if len(chosen) < limit:
                chosen.append(address)
        return chosen, eligible
