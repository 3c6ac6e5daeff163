"""Pacing: honour Retry-After for a whole integration, and learn the send rate.

Listrak throttles each integration with a leaky bucket whose size and leak rate it does not
publish, answering 429 with ``Retry-After`` when the bucket overflows. Guessing a fixed rate is
either too slow or too fast, so the pacer learns it:

* no limit until the first 429;
* on a 429, every request of the integration waits until ``Retry-After`` has passed (not just the
  one that got it: the bucket is shared), and the send rate is cut — once per round, since the
  429s of requests sent before the cut say nothing about the new rate. The cut aims at the
  bucket's drain rate: while the bucket overflows, the answers it lets through come at exactly
  its leak rate, so the rate of clean answers over the last ``window`` seconds measures it. The
  new rate is ``decrease`` times that when it is far under the current rate (an unpaced start,
  a limit that dropped, another process sharing the bucket), else ``decrease`` times the
  current rate (just over the bucket, as probing gets; there the window also counts time spent
  under the rate, so the estimate errs low); the send rate just observed stands in on the first
  cut when too few answers came to measure. Real Listrak may answer 429 with no
  Retry-After and no error code: the first such "blind" 429 holds the integration for
  ``blind_pause`` seconds (the burst it sent unpaced has to drain); once a rate has been learnt,
  pacing below it drains the bucket without a pause;
* each clean answer raises the rate a little, so it grows by ``probe`` times itself (at least
  ``increase`` requests/s) per second — faster the longer no 429 came (twice as fast after 5 s,
  three times after 10 s) — and the limit disappears once it passes ``unlimited_above``.
  Probing in proportion keeps the time between two 429s about the same at 10 and at 500
  requests/s, so 429s stay a small share of the requests at any rate; speeding up finds a rate
  cut too far, or a bucket that grew, again in seconds.

An optional fixed ``rate_limit`` caps the rate whatever the pacer has learnt. Clock and sleep are
injectable so tests can watch the waits instead of measuring wall time. benchmarks/README.md
("Pacing") compares this with AIMD halving, a fixed rate and no pacing.
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

_WINDOW = 1.0  # seconds of request starts used to estimate the current send rate
_MIN_ANSWERS = 5  # clean answers needed in the policy's window to measure the drain rate
_STEADY_ANSWERS = 40  # answers a drain estimate spans at low rates (up to 4 windows)
_OVERSHOOT = 0.8  # a drain rate under this share of the current rate is taken over it
_SPEED_UP = 5.0  # seconds without a 429 after which probing is twice as fast


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
        self._answers: deque[float] = deque(maxlen=16384)
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
        new_round = sent_at > self._last_decrease
        # Measured before this 429 pauses anything: the answers since the last pause ended.
        drain = self._drain_rate(now) if self.policy.adaptive and new_round else None
        if retry_after:
            self._resume_at = max(self._resume_at, now + retry_after)
        elif retry_after is None and new_round and not self._learnt():
            # A blind 429 before any rate was learnt: pause once per round, for the unpaced
            # burst to drain; the 429s of requests sent before the pause say nothing new.
            self._resume_at = max(self._resume_at, now + self.policy.blind_pause)
        if not self.policy.adaptive or not new_round:
            return
        current = self._adaptive_rate
        if current is None:
            base = (
                drain if drain is not None else max(self._observed_rate(now), self.policy.min_rate)
            )
        elif drain is not None and drain < _OVERSHOOT * current:
            base = drain  # far over the bucket: a limit dropped, or two processes share it
        else:
            # Just over it, as probing gets: the current rate is the better measure (the
            # window's answers also count the time spent under the rate since the last cut).
            base = current
        self._adaptive_rate = max(self.policy.min_rate, base * self.policy.decrease)
        self._last_decrease = now
        self.decreases += 1

    def on_success(self) -> None:
        """A clean answer (anything but 429): the bucket took it; probe a little faster."""
        now = self._clock()
        self._answers.append(now)
        rate = self._adaptive_rate
        if rate is None:
            return
        # Requests/s gained per second; quicker the longer the rate has held without a 429,
        # so a rate cut too far (or a bucket that grew) is found again in seconds.
        quiet = max(0.0, now - self._last_decrease) / _SPEED_UP
        gain = max(self.policy.increase, self.policy.probe * rate * (1.0 + quiet))
        self._adaptive_rate = rate + gain / rate
        if self._adaptive_rate > self.policy.unlimited_above:
            self._adaptive_rate = None

    def _learnt(self) -> bool:
        return self.policy.adaptive and self._adaptive_rate is not None

    def _observed_rate(self, now: float) -> float:
        recent = sum(1 for started in self._starts if started > now - _WINDOW)
        return recent / _WINDOW

    def _drain_rate(self, now: float) -> float | None:
        """Clean answers per second over the last ``window`` seconds, if there were enough —
        or over the last ``_STEADY_ANSWERS`` answers when the window holds fewer (at 10/s two
        seconds hold 20, too few for an estimate that is then taken as a minimum).

        Time the integration was held (Retry-After, a blind pause) is left out: nothing was
        sent then, so counting it would take the pause for a slower bucket."""
        window = self.policy.window
        floor = now - 4 * window
        if self._resume_at <= now:
            floor = max(floor, self._resume_at)
        if self._answers:
            floor = max(floor, self._answers[0])
        since = now - window
        if len(self._answers) >= _STEADY_ANSWERS:
            since = min(since, self._answers[-_STEADY_ANSWERS])
        since = max(since, floor)
        span = now - since
        recent = sum(1 for at in self._answers if at > since)
        if recent < _MIN_ANSWERS or span < window / 8:
            return None
        return recent / span
