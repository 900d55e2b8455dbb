"""Who joined the broadcast list, and until when: opt-in with expiry instead of "everyone ever".

Members are kept in order of last activity, so expiring the silent ones and picking the most
recently active recipients are both cheap. No sockets, no clock: the caller passes ``now``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class Members:
    """Joined addresses; one expires ``ttl`` seconds after its last datagram."""

    def __init__(self, ttl: float, max_members: int) -> None:
        self.ttl = ttl
        self.max_members = max_members
        self._last_seen: OrderedDict[Hashable, float] = OrderedDict()

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
            del self._last_seen[address]
            gone += 1
        return gone

    def touch(self, address: Hashable, now: float) -> None:
        """Any datagram from a member keeps it alive."""
        if address in self._last_seen:
            self._last_seen[address] = now
            self._last_seen.move_to_end(address)

    def join(self, address: Hashable, now: float) -> bool:
        """Add or refresh ``address``; False when the list is full and it is not a member."""
        if address not in self._last_seen and len(self._last_seen) >= self.max_members:
            return False
        self._last_seen[address] = now
        self._last_seen.move_to_end(address)
        return True

    def leave(self, address: Hashable) -> bool:
        return self._last_seen.pop(address, None) is not None

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
