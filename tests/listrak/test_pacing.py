"""The pacer on a fake clock: Retry-After gates everyone, AIMD cuts and recovers the rate."""

from __future__ import annotations

import itertools

import pytest

from listrak_sync.listrak import PacingPolicy
from listrak_sync.listrak._pacing import Pacer


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def pacer(time: FakeTime, **policy: float | bool | None) -> Pacer:
    return Pacer(PacingPolicy(**policy), clock=time.clock, sleep=time.sleep)  # type: ignore[arg-type]


async def test_unlimited_until_the_first_429() -> None:
    time = FakeTime()
    p = pacer(time)
    for _ in range(50):
        await p.acquire()
    assert time.sleeps == []
    assert p.rate is None


async def test_retry_after_holds_every_request_of_the_integration() -> None:
    time = FakeTime()
    p = pacer(time, adaptive=False)
    sent = await p.acquire()
    p.on_rate_limited(7.0, sent)
    other = await p.acquire()  # a different request, not the one that got the 429
    assert other >= sent + 7.0
    assert sum(time.sleeps) == pytest.approx(7.0)


async def test_a_blind_429_holds_every_request_for_the_blind_pause() -> None:
    # Real Listrak may send a 429 with no Retry-After: the bucket still needs time to drain.
    time = FakeTime()
    p = pacer(time, adaptive=False, blind_pause=1.5)
    sent = await p.acquire()
    p.on_rate_limited(None, sent)
    other = await p.acquire()
    assert other >= sent + 1.5
    assert sum(time.sleeps) == pytest.approx(1.5)


async def test_429_cuts_the_rate_from_what_was_observed() -> None:
    time = FakeTime()
    p = pacer(time, decrease=0.5)
    sent = [await p.acquire() for _ in range(40)]  # 40 requests within one second
    p.on_rate_limited(None, sent[-1])
    assert p.adaptive_rate == pytest.approx(20.0)
    # 429s answering requests sent before the cut do not cut again: one cut per round.
    p.on_rate_limited(None, sent[-2])
    assert p.adaptive_rate == pytest.approx(20.0)
    time.now += 0.01
    after = await p.acquire()
    p.on_rate_limited(None, after)
    assert p.adaptive_rate == pytest.approx(10.0)
    assert p.decreases == 2


async def test_clean_answers_raise_the_rate_until_unlimited() -> None:
    time = FakeTime()
    p = pacer(time, increase=2.0, unlimited_above=12.0)
    sent = [await p.acquire() for _ in range(20)]
    p.on_rate_limited(None, sent[-1])
    assert p.adaptive_rate == pytest.approx(10.0)
    p.on_success()
    assert p.adaptive_rate == pytest.approx(10.2)  # +increase per rate answers = +2/s per second
    for _ in range(30):
        p.on_success()
    assert p.adaptive_rate is None


async def test_limited_rate_spaces_sends() -> None:
    time = FakeTime()
    p = pacer(time, adaptive=False, rate_limit=10.0)
    sent = [await p.acquire() for _ in range(5)]
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(sent)]
    assert gaps == [0.1, 0.1, 0.1, 0.1]


async def test_fixed_cap_wins_over_a_higher_learnt_rate() -> None:
    time = FakeTime()
    p = pacer(time, rate_limit=5.0)
    sent = [await p.acquire() for _ in range(5)]
    p.on_rate_limited(None, sent[-1])
    assert p.adaptive_rate is not None
    assert p.rate == min(5.0, p.adaptive_rate)
