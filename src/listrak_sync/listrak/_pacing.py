"""Pacing: honour Retry-After for a whole integration, and adapt the send rate (AIMD).

Listrak throttles each integration with a leaky bucket whose size and leak rate it does not
publish, answering 429 with ``Retry-After`` when the bucket overflows. Guessing a fixed rate is
either too slow or too fast, so the pacer learns it the way TCP congestion control does:

* no limit until the first 429;
* on a 429, every request of the integration waits until ``Retry-After`` has passed (not just the
  one that got it: the bucket is shared), and the send rate is cut multiplicatively — once per
  round, since the 429s of requests sent before the cut say nothing about the new rate. Real
  Listrak may answer 429 with no Retry-After and no error code: such a "blind" 429 holds the
  integration for ``blind_pause`` seconds instead, and cuts the rate the same way;
* each clean answer raises the rate a little, so it grows by ``increase`` requests/s per second
  and the limit disappears once it passes ``unlimited_above``.

An optional fixed ``rate_limit`` caps the rate whatever the pacer has learnt. Clock and sleep are
injectable so tests can watch the waits instead of measuring wall time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

from ._config import PacingPolicy

__all__ = ["Clock", "Pacer", "Sleep"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_WINDOW = 1.0  # seconds of request starts used to estimate the current rate


class Pacer:
    """Send-time gate for one integration."""

    def __init__(
        self,
        policy: PacingPolicy,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._sleep = sleep
        self._adaptive_rate: float | None = None
        self._next_slot = -math.inf
        self._resume_at = -math.inf
        self._last_decrease = -math.inf
        self._starts: deque[float] = deque(maxlen=4096)
        self.decreases = 0

    @property
    def adaptive_rate(self) -> float | None:
        """The learnt limit in requests/s, or None while unlimited."""
        return self._adaptive_rate

    @property
    def rate(self) -> float | None:
        """The limit in force: the lower of the learnt one and the fixed cap."""
        rates = [r for r in (self._adaptive_rate, self.policy.rate_limit) if r is not None]
        return min(rates) if rates else None

    @property
    def resume_at(self) -> float:
        return self._resume_at

    async def acquire(self) -> float:
        """Wait for this request's turn; returns the clock reading at send time."""
        while True:
            now = self._clock()
            if self._resume_at > now:
                await self._sleep(self._resume_at - now)
                continue
            rate = self.rate
            if rate is None:
                break
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / rate
            if slot > now:
                await self._sleep(slot - now)
            if self._resume_at <= self._clock():
                break
        sent_at = self._clock()
        self._starts.append(sent_at)
        return sent_at

    def on_rate_limited(self, retry_after: float | None, sent_at: float) -> None:
        """A request sent at ``sent_at`` was answered 429."""
        now = self._clock()
        if retry_after:
            self._resume_at = max(self._resume_at, now + retry_after)
        elif retry_after is None and sent_at > self._last_decrease:
            # A blind 429: pause once per round, as for the rate cut below; the 429s of requests
            # sent before the pause say nothing new about the bucket.
            self._resume_at = max(self._resume_at, now + self.policy.blind_pause)
        if not self.policy.adaptive or sent_at <= self._last_decrease:
            return
        if self._adaptive_rate is None:
            base = max(self._observed_rate(now), self.policy.min_rate)
        else:
            base = self._adaptive_rate
        self._adaptive_rate = max(self.policy.min_rate, base * self.policy.decrease)
        self._last_decrease = now
        self.decreases += 1

    def on_success(self) -> None:
        """A clean answer (anything but 429): probe a little faster."""
        if self._adaptive_rate is None:
            return
        self._adaptive_rate += self.policy.increase / self._adaptive_rate
        if self._adaptive_rate > self.policy.unlimited_above:
            self._adaptive_rate = None

    def _observed_rate(self, now: float) -> float:
        recent = sum(1 for started in self._starts if started > now - _WINDOW)
        return recent / _WINDOW
