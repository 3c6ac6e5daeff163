"""When a schedule fires: cron in an IANA time zone, or a fixed interval.

Cron times come from cronsim, which follows cronie (Debian's cron) across daylight-saving
changes: a time skipped by the spring change fires once, right after the jump (02:30 in
America/New_York fires at 03:00 EDT); a time repeated by the autumn change fires once, at its
first occurrence; ``*``-hour expressions fire in both copies of the repeated hour, as cron does.
Intervals are counted from the Unix epoch, so ``every: 6h`` fires at 00:00, 06:00, 12:00 and
18:00 UTC whatever time the scheduler started; nothing needs remembering to keep the rhythm.
``after:`` schedules have no time trigger: a finished run of the schedules they follow starts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim

from ..config.schedules import Schedule

__all__ = [
    "CronTrigger",
    "IntervalTrigger",
    "Trigger",
    "fires_between",
    "trigger_for",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CronTrigger:
    expression: str
    zone: ZoneInfo

    def next_after(self, moment: datetime) -> datetime:
        """The first fire strictly after ``moment`` (UTC)."""
        local = moment.astimezone(self.zone)
        return next(CronSim(self.expression, local)).astimezone(UTC)

    def describe(self) -> str:
        return f"cron {self.expression!r} ({self.zone.key})"


@dataclass(frozen=True)
class IntervalTrigger:
    interval: timedelta

    def next_after(self, moment: datetime) -> datetime:
        spent = (moment.astimezone(UTC) - _EPOCH) // self.interval
        return _EPOCH + (spent + 1) * self.interval

    def describe(self) -> str:
        return f"every {_interval_text(self.interval)}"


Trigger = CronTrigger | IntervalTrigger


def trigger_for(schedule: Schedule) -> Trigger | None:
    """The time trigger of ``schedule``; None for an ``after:`` schedule."""
    if schedule.cron is not None:
        return CronTrigger(schedule.cron, ZoneInfo(schedule.timezone))
    if schedule.every is not None:
        return IntervalTrigger(schedule.every)
    return None


def fires_between(trigger: Trigger, start: datetime, end: datetime) -> Iterator[datetime]:
    """Fires in (start, end], oldest first."""
    moment = trigger.next_after(start)
    while moment <= end:
        yield moment
        moment = trigger.next_after(moment)


def _interval_text(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
