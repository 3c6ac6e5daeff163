"""The Privacy API's published rate limits as leaky buckets: 20 requests / 10 s, 60 / minute.

Unlike the other APIs (whose limit is unpublished; see ``faults.py``), the Privacy spec states
its limits, so the emulator enforces them always, per integration, on the emulator's clock. A
bucket holds up to ``capacity`` requests and drains at ``capacity / period`` per second; a
request that would overflow either bucket is answered 429 and not counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["LIMITS", "PrivacyLimiter"]

# (capacity, period in seconds), from the spec's "Rate Limits" table.
LIMITS = ((20, 10.0), (60, 60.0))


@dataclass
class _Bucket:
    capacity: int
    period: float
    level: float = 0.0
    at: float = 0.0

    def drain(self, now: float) -> None:
        leaked = (now - self.at) * self.capacity / self.period
        self.level = max(0.0, self.level - leaked)
        self.at = now

    def wait(self) -> float:
        """Seconds until one more request fits."""
        over = self.level + 1 - self.capacity
        return 0.0 if over <= 0 else over * self.period / self.capacity


@dataclass
class PrivacyLimiter:
    """One pair of buckets per client id."""

    buckets: dict[str, list[_Bucket]] = field(default_factory=dict)

    def take(self, client_id: str, now: float) -> int | None:
        """Count one request; None when allowed, else the whole seconds to wait (Retry-After)."""
        buckets = self.buckets.setdefault(
            client_id, [_Bucket(capacity, period, at=now) for capacity, period in LIMITS]
        )
        for bucket in buckets:
            bucket.drain(now)
        wait = max(bucket.wait() for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.level += 1
        return None

    def clear(self) -> None:
        self.buckets.clear()
