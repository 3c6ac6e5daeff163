"""A settable clock and an in-process executor for driving the scheduler without waiting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from listrak_sync.config.schedules import Schedule
from listrak_sync.runtime import RunResult, ScheduledRun


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class InlineExecutor:
    """Runs are "running" until :meth:`finish` ends them with a result (or ``auto`` ends each
    at once with ``auto(run)``)."""

    auto: Callable[[ScheduledRun], RunResult] | None = None
    started: list[ScheduledRun] = field(default_factory=list)
    going: dict[str, ScheduledRun] = field(default_factory=dict)
    done: list[tuple[str, RunResult]] = field(default_factory=list)

    def start(self, run: ScheduledRun, schedule: Schedule) -> None:
        self.started.append(run)
        if self.auto is not None:
            self.done.append((run.run_id, self.auto(run)))
        else:
            self.going[run.run_id] = run

    def finish(self, run_id: str, result: RunResult) -> None:
        del self.going[run_id]
        self.done.append((run_id, result))

    def running(self) -> set[str]:
        return set(self.going) | {r for r, _ in self.done}

    def collect(self) -> list[tuple[str, RunResult]]:
        done, self.done = self.done, []
        return done

    def stop(self, timeout: float) -> list[tuple[str, RunResult]]:
        for run_id in list(self.going):
            self.finish(run_id, RunResult(status="interrupted"))
        return self.collect()


def ok(run: ScheduledRun) -> RunResult:
    return RunResult(status="succeeded")
