"""Cron in a time zone across DST changes, fixed intervals, and cron validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from listrak_sync.config.schedules import Schedule, check_cron
from listrak_sync.runtime import CronTrigger, IntervalTrigger, fires_between

NEW_YORK = ZoneInfo("America/New_York")


def _local_fires(expression: str, day_before: datetime, days: int) -> list[datetime]:
    trigger = CronTrigger(expression, NEW_YORK)
    start = day_before.astimezone(UTC)
    return [f.astimezone(NEW_YORK) for f in fires_between(trigger, start, start + timedelta(days))]


def test_0230_in_new_york_runs_once_on_the_spring_change_day() -> None:
    # 2026-03-08: clocks jump from 02:00 to 03:00; 02:30 does not exist that day.
    fires = _local_fires("30 2 * * *", datetime(2026, 3, 7, 12, tzinfo=NEW_YORK), 3)
    on_day = [f for f in fires if f.date() == datetime(2026, 3, 8).date()]
    assert len(on_day) == 1
    assert on_day[0].hour == 3
    assert on_day[0].minute == 0
    assert [f.strftime("%m-%d %H:%M") for f in fires] == [
        "03-08 03:00",
        "03-09 02:30",
        "03-10 02:30",
    ]


def test_0230_in_new_york_runs_once_on_the_autumn_change_day() -> None:
    # 2026-11-01: 01:00-02:00 happens twice; 02:30 once.
    fires = _local_fires("30 2 * * *", datetime(2026, 10, 31, 12, tzinfo=NEW_YORK), 3)
    on_day = [f for f in fires if f.date() == datetime(2026, 11, 1).date()]
    assert len(on_day) == 1
    utc = [f.astimezone(UTC).strftime("%m-%d %H:%M") for f in fires]
    assert utc == ["11-01 07:30", "11-02 07:30", "11-03 07:30"]  # 24 h apart in EST


def test_a_time_in_the_repeated_hour_runs_once() -> None:
    fires = _local_fires("30 1 * * *", datetime(2026, 10, 31, 12, tzinfo=NEW_YORK), 1)
    assert len(fires) == 1
    assert fires[0].utcoffset() == timedelta(hours=-4)  # the first 01:30 (EDT)


def test_the_next_fire_is_strictly_after_the_moment() -> None:
    trigger = CronTrigger("0 6 * * *", ZoneInfo("UTC"))
    six = datetime(2026, 5, 1, 6, tzinfo=UTC)
    assert trigger.next_after(six) == six + timedelta(days=1)
    assert trigger.next_after(six - timedelta(seconds=1)) == six


def test_intervals_keep_their_rhythm_from_the_epoch() -> None:
    trigger = IntervalTrigger(timedelta(hours=6))
    assert trigger.next_after(datetime(2026, 5, 1, 7, 13, tzinfo=UTC)) == datetime(
        2026, 5, 1, 12, tzinfo=UTC
    )
    start = datetime(2026, 5, 1, tzinfo=UTC)
    assert len(list(fires_between(trigger, start, start + timedelta(days=1)))) == 4


@pytest.mark.parametrize(
    ("expression", "message"),
    [("61 * * * *", "minute"), ("* * * *", "five fields"), ("0 6 * * funday", "invalid cron")],
)
def test_bad_cron_expressions_are_refused(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_cron(expression)


def test_a_schedule_has_one_trigger_and_something_to_run() -> None:
    with pytest.raises(ValueError, match="exactly one of"):
        Schedule.model_validate({"cron": "0 6 * * *", "every": "1h", "campaigns": ["c"]})
    with pytest.raises(ValueError, match="runs something"):
        Schedule.model_validate({"every": "1h"})
    with pytest.raises(ValueError, match="unknown time zone"):
        Schedule.model_validate({"cron": "0 6 * * *", "timezone": "Mars/Olympus", "pulls": ["s"]})
    schedule = Schedule.model_validate({"every": "90m", "grace": "2h", "pulls": ["s"]})
    assert schedule.every == timedelta(minutes=90)
    assert schedule.grace == timedelta(hours=2)
