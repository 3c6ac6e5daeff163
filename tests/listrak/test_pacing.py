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
    p = pacer(time, decrease=0.5, probe=0.0, increase=2.0, unlimited_above=12.0)
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


async def _answered(time: FakeTime, p: Pacer, count: int, seconds: float) -> float:
    """``count`` requests sent and answered cleanly, evenly over ``seconds``; the last send."""
    sent = 0.0
    for _ in range(count):
        time.now += seconds / count
        sent = await p.acquire()
        p.on_success()
    return sent


async def test_a_429_cuts_to_the_rate_the_bucket_let_through() -> None:
    # While the bucket overflows, the clean answers come at its drain rate: 30 in the last two
    # seconds is 15/s, whatever the client was sending.
    time = FakeTime()
    p = pacer(time, decrease=0.9, window=2.0, blind_pause=0.0)
    await _answered(time, p, 45, 3.0)
    time.now += 0.01  # off the window's edge
    burst = [await p.acquire() for _ in range(40)]  # sent, then refused
    p.on_rate_limited(None, burst[-1])
    assert p.adaptive_rate == pytest.approx(0.9 * 15.0, rel=0.01)
    # Never raised by a 429: a later cut takes the lower of the drain rate and the current one.
    time.now += 0.01
    later = await p.acquire()
    p.on_rate_limited(None, later)
    assert p.adaptive_rate == pytest.approx(0.9 * 0.9 * 15.0, rel=0.01)


async def test_probing_grows_the_rate_in_proportion() -> None:
    # 2% a second at 400/s is 8/s more after a second of clean answers (20 times the floor of
    # 0.1/s a second that a 10/s integration gets), so 429s come about as often at any rate.
    time = FakeTime()
    p = pacer(time, probe=0.02, increase=0.1, unlimited_above=10_000)
    await _answered(time, p, 500, 1.0)
    p.on_rate_limited(None, await p.acquire())
    learnt = p.adaptive_rate
    assert learnt is not None
    for _ in range(round(learnt)):  # one second of answers at the learnt rate
        p.on_success()
    assert p.adaptive_rate == pytest.approx(learnt * 1.02, rel=1e-3)


async def test_a_blind_429_pauses_only_until_a_rate_is_learnt() -> None:
    time = FakeTime()
    p = pacer(time, blind_pause=1.0)
    await _answered(time, p, 20, 1.0)
    first = await p.acquire()
    p.on_rate_limited(None, first)  # the first: the unpaced burst has to drain
    assert p.resume_at == pytest.approx(time.now + 1.0)
    time.now = p.resume_at
    await _answered(time, p, 10, 1.0)
    rate = p.adaptive_rate
    assert rate is not None
    again = await p.acquire()
    p.on_rate_limited(None, again)  # paced already: sending below the cut rate drains it
    assert p.resume_at < time.now
    before = time.now
    await p.acquire()
    assert time.now - before <= 1.0 / p.adaptive_rate + 1e-9  # only the pacing interval


async def test_time_held_by_a_pause_is_not_taken_for_a_slower_bucket() -> None:
    time = FakeTime()
    p = pacer(time, decrease=0.9, window=2.0)
    await _answered(time, p, 10, 1.0)
    p.on_rate_limited(3.0, await p.acquire())  # held three seconds by a Retry-After
    cut = p.adaptive_rate
    assert cut is not None
    held_until = time.now = p.resume_at
    await _answered(time, p, 5, 1.0)  # five answers in the second since the hold: a lower limit
    last = await p.acquire()
    since_hold = time.now - held_until
    p.on_rate_limited(None, last)
    # Five answers since the hold ended, not five in the whole two-second window.
    assert 1.0 <= since_hold < 2.0
    assert p.adaptive_rate == pytest.approx(0.9 * 5 / since_hold)


async def test_just_over_the_bucket_the_cut_takes_the_current_rate() -> None:
    # Probing crossed the limit by a little: the answers of the window, which also count the
    # time spent under the rate since the last cut, would cut too far.
    time = FakeTime()
    p = pacer(time, decrease=0.9, window=2.0, blind_pause=0.0)
    await _answered(time, p, 30, 3.0)
    p.on_rate_limited(None, await p.acquire())
    current = p.adaptive_rate
    assert current is not None
    await _answered(time, p, round(current * 2 * 0.9), 2.0)  # 90% of the rate for two seconds
    rate = p.adaptive_rate
    assert rate is not None
    p.on_rate_limited(None, await p.acquire())
    assert p.adaptive_rate == pytest.approx(0.9 * rate)


async def test_probing_speeds_up_the_longer_no_429_came() -> None:
    time = FakeTime()
    p = pacer(time, probe=0.02, increase=0.1, unlimited_above=10_000)
    await _answered(time, p, 200, 1.0)
    p.on_rate_limited(None, await p.acquire())
    learnt = p.adaptive_rate
    assert learnt is not None
    time.now += 10.0  # ten seconds since the cut without a 429
    for _ in range(round(learnt)):  # a second's answers at the learnt rate
        p.on_success()
    assert p.adaptive_rate == pytest.approx(learnt * (1 + 0.02 * 3), rel=2e-3)
