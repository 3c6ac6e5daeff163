"""Alert conditions from finished runs and from time; the metrics they count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from listrak_sync.config.schedules import Schedule
from listrak_sync.runtime import (
    RunResult,
    Scheduler,
    SchedulerMetrics,
    SchedulerState,
    TargetResult,
)

from .helpers import Clock, InlineExecutor

START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _target(status: str = "succeeded", **values: object) -> TargetResult:
    return TargetResult.model_validate(
        {
            "kind": "sync",
            "name": "spring",
            "destination": "newsletter",
            "status": status,
            "run_id": "r-1",
            **values,
        }
    )


def _run_through(
    tmp_path: Path, spec: dict[str, object], results: list[RunResult], clock: Clock
) -> Scheduler:
    schedule = Schedule.model_validate({"every": "1h", "campaigns": ["spring"], **spec})
    queue = list(results)
    executor = InlineExecutor(auto=lambda run: queue.pop(0))
    scheduler = Scheduler(
        {"n": schedule}, SchedulerState(tmp_path / "s.sqlite"), executor, clock=clock
    )
    scheduler.recover()
    for _ in results:
        clock.advance(hours=1)
        scheduler.tick()
        scheduler.tick()
    return scheduler


def test_a_run_over_the_rejected_share_alerts_until_it_drops(tmp_path: Path) -> None:
    clock = Clock(START)
    sample = ["customer C000007: invalid_email (j***@e***.com)"]
    bad = RunResult(
        status="partial",
        targets=[
            _target(
                "partial",
                audience_total=100,
                audience_ok=90,
                counts={"failed": 2},
                rejected_sample=sample,
            )
        ],
    )
    good = RunResult(status="succeeded", targets=[_target(audience_total=100, audience_ok=99)])
    spec = {"conditions": {"rejected_share": 0.1}}
    scheduler = _run_through(tmp_path, spec, [bad], clock)
    alert = scheduler.state.alert("n/rejected_share/newsletter")
    assert alert is not None
    assert alert.active
    assert "12.0% of 100 audience rows" in alert.message
    assert "listrak-sync runs r-1" in alert.message
    assert "- customer C000007: invalid_email (j***@e***.com)" in alert.message
    scheduler.state.close()
    scheduler = _run_through(tmp_path, spec, [good], clock)
    cleared = scheduler.state.alert("n/rejected_share/newsletter")
    assert cleared is not None
    assert not cleared.active
    assert "back to 1.0%" in cleared.message


def test_an_audience_that_jumps_alerts_and_a_steady_one_clears(tmp_path: Path) -> None:
    clock = Clock(START)
    runs = [
        RunResult(status="succeeded", targets=[_target(audience_total=100, audience_ok=100)]),
        RunResult(status="succeeded", targets=[_target(audience_total=160, audience_ok=160)]),
    ]
    spec = {"conditions": {"audience_change_percent": 25}}
    scheduler = _run_through(tmp_path, spec, runs, clock)
    alert = scheduler.state.alert("n/audience_change/newsletter")
    assert alert is not None
    assert alert.active
    assert "from 100 to 160 (+60.0%" in alert.message


def test_no_success_for_too_long_alerts_then_clears(tmp_path: Path) -> None:
    clock = Clock(START)
    failed = RunResult(status="failed", error="warehouse unreachable at jane@example.com")
    spec = {"conditions": {"no_success_for": "3h"}, "max_failures": 10}
    scheduler = _run_through(tmp_path, spec, [failed] * 4, clock)
    alert = scheduler.state.alert("n/no_success")
    assert alert is not None
    assert alert.active
    failed_alert = scheduler.state.alert("n/failed")
    assert failed_alert is not None
    assert "jane@example.com" not in failed_alert.message  # masked
    assert "j***@e***.com" in failed_alert.message


def test_metrics_count_runs_rows_durations_and_paused(tmp_path: Path) -> None:
    clock = Clock(START)
    done = RunResult(
        status="succeeded",
        targets=[_target(counts={"added": 7, "applied": 3, "failed": 0})],
    )
    metrics = SchedulerMetrics()
    schedule = Schedule.model_validate({"every": "1h", "campaigns": ["spring"]})
    executor = InlineExecutor(auto=lambda run: done)
    scheduler = Scheduler(
        {"n": schedule},
        SchedulerState(tmp_path / "s.sqlite"),
        executor,
        clock=clock,
        metrics=metrics,
    )
    scheduler.recover()
    clock.advance(hours=1)
    scheduler.tick()
    clock.advance(minutes=5)
    scheduler.tick()
    scheduler.pause("n")
    text = metrics.render().decode()
    assert 'listrak_sync_scheduled_runs_total{schedule="n",status="succeeded"} 1.0' in text
    assert 'listrak_sync_rows_total{destination="newsletter",outcome="added"} 7.0' in text
    assert 'outcome="failed"' not in text
    assert 'listrak_sync_run_duration_seconds_bucket{le="300.0",schedule="n"} 1.0' in text
    stamp = (START + timedelta(hours=1, minutes=5)).timestamp()
    last = metrics.registry.get_sample_value(
        "listrak_sync_last_success_timestamp_seconds", {"destination": "newsletter"}
    )
    assert last == stamp
    assert "listrak_sync_schedules_paused 1.0" in text


def test_a_restarted_scheduler_reports_the_last_success_it_knows(tmp_path: Path) -> None:
    clock = Clock(START)
    done = RunResult(status="succeeded", targets=[_target()])
    scheduler = _run_through(tmp_path, {}, [done], clock)
    scheduler.state.close()
    metrics = SchedulerMetrics()
    schedule = Schedule.model_validate({"every": "1h", "campaigns": ["spring"]})
    again = Scheduler(
        {"n": schedule},
        SchedulerState(tmp_path / "s.sqlite"),
        InlineExecutor(),
        clock=clock,
        metrics=metrics,
    )
    again.recover()
    last = metrics.registry.get_sample_value(
        "listrak_sync_last_success_timestamp_seconds", {"destination": "newsletter"}
    )
    assert last == (START + timedelta(hours=1)).timestamp()
