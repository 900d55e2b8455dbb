"""Per-source token buckets: the bound on what any one address can make the server send.

UDP source addresses can be forged, so a rate limit is what keeps the server from being a
reflector: a source (keyed by IP, since ports are free for an attacker) pays one token per
datagram it makes the server send, and buckets refill at ``rate`` per second up to ``burst``.
No sockets and no clock here: the caller passes ``now`` (monotonic seconds).
"""

from __future__ import annotations

from collections import OrderedDict


class TokenBuckets:
    """Token buckets per key, at most ``max_keys`` of them (least recently used evicted).

    ``rate <= 0`` disables limiting (every take succeeds). Evicting a bucket forgets its debt; with
    ``max_keys`` well above the number of real sources that only helps an attacker who already
    controls that many addresses.
    """

    def __init__(self, rate: float, burst: float, max_keys: int) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be >= 1")
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def _refill(self, key: str, now: float) -> list[float]:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._buckets.popitem(last=False)
            bucket = [self.burst, now]
            self._buckets[key] = bucket
        else:
            elapsed = max(0.0, now - bucket[1])
            bucket[0] = min(self.burst, bucket[0] + elapsed * self.rate)
            bucket[1] = now
            self._buckets.move_to_end(key)
        return bucket

    def allow(self, key: str, now: float) -> bool:
        """Take one token for ``key``; False (and nothing taken) when the bucket has less."""
        if not self.enabled:
            return True
        bucket = self._refill(key, now)
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True
        return False

    def take_up_to(self, key: str, now: float, wanted: int) -> int:
        """Take as many whole tokens as are there, at most ``wanted``; return how many."""
        if not self.enabled or wanted <= 0:
            return max(wanted, 0)
        bucket = self._refill(key, now)
        got = min(wanted, int(bucket[0]))
        bucket[0] -= got
        return got
