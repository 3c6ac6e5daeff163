"""The scheduler driven by an injected clock: due runs, overlap, downtime, restarts, pauses,
``after:`` chains. The state is a real SQLite file; runs end when the test says so."""

from __future__ import annotations

import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from listrak_sync.config.schedules import Schedule
from listrak_sync.runtime import RunResult, Scheduler, SchedulerState, TargetResult

from .helpers import Clock, InlineExecutor, ok


def dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _schedules(**specs: dict[str, object]) -> dict[str, Schedule]:
    return {name: Schedule.model_validate(spec) for name, spec in specs.items()}


def _scheduler(
    tmp_path: Path, schedules: dict[str, Schedule], clock: Clock, executor: InlineExecutor
) -> Scheduler:
    state = SchedulerState(tmp_path / "scheduler.sqlite")
    return Scheduler(schedules, state, executor, clock=clock)


def test_a_daily_new_york_schedule_runs_once_a_day_across_both_dst_changes(
    tmp_path: Path,
) -> None:
    clock = Clock(datetime(2026, 3, 1, tzinfo=UTC))
    executor = InlineExecutor(auto=ok)
    daily = {"cron": "30 2 * * *", "timezone": "America/New_York", "campaigns": ["c"]}
    scheduler = _scheduler(tmp_path, _schedules(daily=daily), clock, executor)
    scheduler.recover()
    # Tick every 15 minutes through ten days of March and of November (both change days inside).
    for start in (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC)):
        clock.now = start
        scheduler.state.set_paused("daily", clock.now, None)
        while clock.now < start + timedelta(days=10):
            scheduler.tick()
            clock.advance(minutes=15)
    fired = [r.fire_time for r in executor.started]
    assert all(f is not None for f in fired)
    days = [f.astimezone(scheduler._triggers["daily"].zone).date() for f in fired if f]  # type: ignore[union-attr]
    assert len(days) == len(set(days))  # never twice a day
    assert datetime(2026, 3, 8).date() in days
    assert datetime(2026, 11, 1).date() in days
    runs = scheduler.state.runs("daily", limit=100)
    assert {r.status for r in runs} <= {"succeeded", "missed"}


def test_a_run_still_going_makes_the_next_fire_a_recorded_skip(tmp_path: Path) -> None:
    clock = Clock(START)
    executor = InlineExecutor()
    scheduler = _scheduler(
        tmp_path, _schedules(hourly={"every": "1h", "campaigns": ["c"]}), clock, executor
    )
    scheduler.recover()
    clock.advance(hours=1)
    scheduler.tick()
    assert len(executor.started) == 1
    first = executor.started[0]
    clock.advance(hours=1)
    scheduler.tick()
    assert len(executor.started) == 1
    skipped = scheduler.state.runs("hourly", status="skipped")
    assert len(skipped) == 1
    assert f"previous run {first.run_id}" in skipped[0].detail["skipped"]
    executor.finish(first.run_id, RunResult(status="succeeded"))
    clock.advance(hours=1)
    scheduler.tick()
    assert len(executor.started) == 2
    assert scheduler.state.run(first.run_id).status == "succeeded"


def test_downtime_runs_the_fires_inside_the_grace_window_once(tmp_path: Path) -> None:
    clock = Clock(START)
    spec = {"every": "15m", "grace": "1h", "campaigns": ["c"]}
    executor = InlineExecutor(auto=ok)
    scheduler = _scheduler(tmp_path, _schedules(q=spec), clock, executor)
    scheduler.recover()
    clock.advance(minutes=15)
    scheduler.tick()
    assert len(executor.started) == 1
    scheduler.tick()  # collects the run
    scheduler.state.close()
    # Down for three hours: 12 fires owed, 4 of them less than an hour old.
    clock.advance(hours=3, minutes=5)
    executor = InlineExecutor(auto=ok)
    scheduler = _scheduler(tmp_path, _schedules(q=spec), clock, executor)
    scheduler.recover()
    scheduler.tick()
    assert len(executor.started) == 1
    run = executor.started[0]
    assert run.reason == "catch-up"
    assert run.fire_time == datetime(2026, 3, 1, 15, 15, tzinfo=UTC)
    missed = scheduler.state.runs("q", status="missed")
    assert len(missed) == 1
    assert missed[0].detail["count"] == 8
    scheduler.tick()  # nothing more owed now
    assert len(executor.started) == 1


def test_a_new_schedule_owes_nothing_from_before_it_was_seen(tmp_path: Path) -> None:
    clock = Clock(START)
    executor = InlineExecutor(auto=ok)
    scheduler = _scheduler(
        tmp_path, _schedules(d={"cron": "0 6 * * *", "campaigns": ["c"]}), clock, executor
    )
    scheduler.recover()
    scheduler.tick()
    assert executor.started == []
    assert scheduler.next_due(clock.now) == datetime(2026, 3, 2, 6, tzinfo=UTC)


def test_a_restart_after_a_kill_resumes_the_run_and_fires_nothing_twice(tmp_path: Path) -> None:
    clock = Clock(START)
    spec = {"every": "1h", "campaigns": ["c"]}
    executor = InlineExecutor()
    scheduler = _scheduler(tmp_path, _schedules(h=spec), clock, executor)
    scheduler.recover()
    clock.advance(hours=1)
    scheduler.tick()
    (run,) = executor.started
    # The process dies here (no shutdown): its state file is all that is left.
    scheduler.state.close()
    clock.advance(minutes=10)
    executor = InlineExecutor()
    state = SchedulerState(tmp_path / "scheduler.sqlite")
    # A dead owner: the row names another host:pid that no longer exists.
    state.set_owner(run.run_id, f"{socket.gethostname()}:{dead_pid()}")
    scheduler = Scheduler(_schedules(h=spec), state, executor, clock=clock)
    resumed = scheduler.recover()
    assert [r.run_id for r in resumed] == [run.run_id]
    assert resumed[0].attempts == 2
    scheduler.tick()
    assert [r.run_id for r in executor.started] == [run.run_id]  # no new fire for 13:00


def test_failures_in_a_row_pause_the_schedule_and_resume_clears_them(tmp_path: Path) -> None:
    clock = Clock(START)
    failing = RunResult(
        status="failed",
        targets=[
            TargetResult(kind="sync", name="c", destination="news", status="failed", error="boom")
        ],
    )
    executor = InlineExecutor(auto=lambda run: failing)
    spec = {"every": "1h", "campaigns": ["c"], "max_failures": 2}
    scheduler = _scheduler(tmp_path, _schedules(h=spec), clock, executor)
    scheduler.recover()
    for _ in range(2):
        clock.advance(hours=1)
        scheduler.tick()
    scheduler.tick()  # collect the second failure
    state = scheduler.state.schedule("h", clock.now)
    assert state.paused
    assert state.failures == 2
    assert "2 failed runs in a row" in (state.paused_reason or "")
    paused = scheduler.state.alert("h/paused")
    assert paused is not None
    assert paused.active
    clock.advance(hours=3)
    scheduler.tick()
    assert len(executor.started) == 2  # paused: the fires are recorded missed, not run
    assert scheduler.state.runs("h", status="missed")
    scheduler.resume("h")
    state = scheduler.state.schedule("h", clock.now)
    assert not state.paused
    assert state.failures == 0
    alert = scheduler.state.alert("h/paused")
    assert alert is not None
    assert not alert.active
    clock.advance(hours=1)
    scheduler.tick()
    assert len(executor.started) == 3


def test_after_starts_a_schedule_when_the_one_it_follows_succeeds(tmp_path: Path) -> None:
    clock = Clock(START)
    executor = InlineExecutor()
    schedules = _schedules(
        consent={"every": "1h", "pulls": ["sms"]},
        sync={"after": ["consent"], "campaigns": ["c"]},
    )
    scheduler = _scheduler(tmp_path, schedules, clock, executor)
    scheduler.recover()
    clock.advance(hours=1)
    scheduler.tick()
    (pull,) = executor.started
    executor.finish(pull.run_id, RunResult(status="failed"))
    scheduler.tick()
    assert len(executor.started) == 1  # no follower after a failure
    clock.advance(hours=1)
    scheduler.tick()
    executor.finish(executor.started[1].run_id, RunResult(status="succeeded"))
    scheduler.tick()
    assert [r.schedule for r in executor.started] == ["consent", "consent", "sync"]
    assert executor.started[2].reason == "after consent"


def test_trigger_runs_now_and_next_fires_are_listed(tmp_path: Path) -> None:
    clock = Clock(START)
    executor = InlineExecutor(auto=ok)
    spec = {"cron": "30 2 * * *", "timezone": "America/New_York", "campaigns": ["c"]}
    scheduler = _scheduler(tmp_path, _schedules(n=spec), clock, executor)
    run = scheduler.run_now("n", poll=lambda: None)
    assert run.status == "succeeded"
    assert run.reason == "trigger"
    fires = scheduler.next_fires("n", 3)
    assert fires[0] == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


def test_a_paused_follower_is_skipped_with_its_reason(tmp_path: Path) -> None:
    clock = Clock(START)
    executor = InlineExecutor(auto=ok)
    schedules = _schedules(
        consent={"every": "1h", "pulls": ["sms"]},
        sync={"after": ["consent"], "campaigns": ["c"]},
    )
    scheduler = _scheduler(tmp_path, schedules, clock, executor)
    scheduler.recover()
    scheduler.pause("sync")
    clock.advance(hours=1)
    scheduler.tick()
    scheduler.tick()
    assert [r.schedule for r in executor.started] == ["consent"]
    (skipped,) = scheduler.state.runs("sync", status="skipped")
    assert skipped.detail["skipped"] == "the schedule is paused"
