"""The scheduler: which schedules are due, what runs, what is skipped, missed or paused.

It is driven by :meth:`Scheduler.tick` with time from an injected clock, so tests walk it through
DST days and downtime without waiting. A tick: collect finished runs (record them, count
failures, evaluate alerts, start ``after:`` followers), fire what is due, check the alerts time
alone turns on, deliver the alert news channels have not heard. Every decision is committed to
the state file before it acts (see _state.py).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ..config.schedules import Schedule
from ..state.store import stale_process
from ._alerts import Notice, apply_changes, evaluate_run, evaluate_time
from ._metrics import SchedulerMetrics
from ._results import RunResult
from ._state import RunStatus, ScheduledRun, SchedulerState
from ._triggers import Trigger, fires_between, trigger_for

__all__ = ["Clock", "Executor", "Notifier", "Scheduler", "utc_now"]

log = logging.getLogger("listrak_sync.scheduler")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Executor(Protocol):
    """Runs scheduled runs. ``start`` returns at once; ``collect`` hands back those that ended."""

    def start(self, run: ScheduledRun, schedule: Schedule) -> None: ...

    def running(self) -> set[str]: ...

    def collect(self) -> list[tuple[str, RunResult]]: ...

    def stop(self, timeout: float) -> list[tuple[str, RunResult]]: ...


class Notifier(Protocol):
    def send(self, channel: str, notice: Notice) -> None: ...


_RETRY_NOTICE = timedelta(minutes=1)


class Scheduler:
    def __init__(
        self,
        schedules: Mapping[str, Schedule],
        state: SchedulerState,
        executor: Executor,
        *,
        clock: Clock = utc_now,
        notifier: Notifier | None = None,
        metrics: SchedulerMetrics | None = None,
    ) -> None:
        self.schedules = dict(schedules)
        self.state = state
        self.executor = executor
        self.clock = clock
        self.notifier = notifier
        self.metrics = metrics or SchedulerMetrics()
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.last_tick: datetime | None = None
        self._triggers: dict[str, Trigger | None] = {
            name: trigger_for(schedule) for name, schedule in self.schedules.items()
        }
        self._notice_retry: dict[tuple[str, str], datetime] = {}

    # --- start ------------------------------------------------------------------------------

    def recover(self) -> list[ScheduledRun]:
        """At start: runs a dead scheduler left ``running`` or ``interrupted`` start again
        (their sync journal lets them finish what they began, without sending anything twice)."""
        now = self.clock()
        restarted: list[ScheduledRun] = []
        for name in self.schedules:
            self.state.schedule(name, now)
        for status in ("running", "interrupted"):
            for run in self.state.runs(status=status, limit=1000):
                if run.detail.get("abandoned"):
                    continue
                if run.status == "running" and _owner_alive(run.detail.get("owner"), self.owner):
                    continue  # a `schedules trigger` in another process still runs it
                schedule = self.schedules.get(run.schedule)
                why = None
                if schedule is None or self.state.schedule(run.schedule, now).paused:
                    why = "not restarted: schedule removed or paused"
                elif run.schedule in {r.schedule for r in restarted}:
                    why = "not restarted: a later run of the schedule was"  # no overlap
                if why is not None or schedule is None:
                    self.state.finish(
                        run.run_id,
                        "interrupted",
                        now,
                        {**run.detail, "abandoned": why},
                        max_failures=10**9,
                    )
                    continue
                again = self.state.restart(run.run_id)
                self._launch(again, schedule)
                restarted.append(again)
        self._refresh_paused()
        self._restore_last_success()
        return restarted

    def _restore_last_success(self) -> None:
        """Metrics start empty in a new process; the last success per destination is known from
        the state, and an alert on its age must not go blind after a restart."""
        seen: set[str] = set()
        for run in self.state.runs(limit=500):
            result = run.detail.get("result")
            if run.finished_at is None or not isinstance(result, dict):
                continue
            for target in result.get("targets", []):
                where = str(target.get("destination"))
                if where not in seen and target.get("status") in ("succeeded", "partial"):
                    seen.add(where)
                    self.metrics.last_success.labels(where).set(run.finished_at.timestamp())

    # --- the loop ---------------------------------------------------------------------------

    def tick(self) -> datetime | None:
        """Do everything due now; the next time something is due (None: nothing timed)."""
        now = self.clock()
        self.last_tick = now
        for run_id, result in self.executor.collect():
            self._finished(run_id, result, now)
        self._reap_orphans(now)
        for name in self.schedules:
            self._fire_due(name, now)
        for name, schedule in self.schedules.items():
            apply_changes(
                self.state,
                name,
                evaluate_time(name, schedule, self.state.schedule(name, now), now),
                now,
            )
        self.deliver(now)
        return self.next_due(now)

    def next_due(self, now: datetime) -> datetime | None:
        upcoming = [
            trigger.next_after(max(now, self.state.schedule(name, now).last_fire or now))
            for name, trigger in self._triggers.items()
            if trigger is not None
        ]
        return min(upcoming, default=None)

    def describe(self, name: str) -> str:
        """``cron '30 2 * * *' (America/New_York)``, ``every 6h`` or ``after consent``."""
        trigger = self._triggers[name]
        if trigger is None:
            return "after " + ", ".join(self.schedules[name].after)
        return trigger.describe()

    def next_fires(self, name: str, count: int, after: datetime | None = None) -> list[datetime]:
        trigger = self._triggers[name]
        if trigger is None:
            return []
        moment = after or self.clock()
        fires = []
        for _ in range(count):
            moment = trigger.next_after(moment)
            fires.append(moment)
        return fires

    def _fire_due(self, name: str, now: datetime) -> None:
        trigger = self._triggers[name]
        if trigger is None:
            return
        current = self.state.schedule(name, now)
        since = current.last_fire or current.first_seen
        due = list(fires_between(trigger, since, now))
        if not due:
            return
        if current.paused:
            self.state.record_missed(name, now, due)
            self.metrics.observe(name, "missed", None, None, now.timestamp())
            return
        schedule = self.schedules[name]
        fresh = [f for f in due if now - f <= schedule.grace]
        missed = [f for f in due if now - f > schedule.grace]
        if not fresh:
            self.state.record_missed(name, now, missed)
            self.metrics.observe(name, "missed", None, None, now.timestamp())
            log.warning(
                "%s: %d fire(s) missed, older than the grace window",
                name,
                len(missed),
                extra={"schedule": name, "phase": "missed"},
            )
            return
        # Several fresh fires after downtime coalesce into one run, for the newest.
        reason = (
            "catch-up"
            if (len(fresh) > 1 or now - fresh[-1] > timedelta(minutes=1))
            else ("cron" if schedule.cron else "interval")
        )
        self._begin(name, now, reason=reason, fire_time=fresh[-1], missed=missed)

    def run_now(self, name: str, poll: Callable[[], None]) -> ScheduledRun:
        """Trigger ``name`` and wait for its run to end, and for the ``after:`` runs it starts
        (``poll`` waits a little between looks); no timed fire happens meanwhile. For
        ``schedules trigger``."""
        run = self.trigger(name)
        while self.executor.running():
            for run_id, result in self.executor.collect():
                self._finished(run_id, result, self.clock())
            if self.executor.running():
                poll()
        self.deliver()
        return self.state.run(run.run_id)

    def trigger(self, name: str, reason: str = "trigger") -> ScheduledRun:
        """Start ``name`` now, whatever its timing (skipped if its last run still goes)."""
        if name not in self.schedules:
            raise KeyError(name)
        return self._begin(name, self.clock(), reason=reason, fire_time=None, missed=[])

    def _begin(
        self,
        name: str,
        now: datetime,
        *,
        reason: str,
        fire_time: datetime | None,
        missed: list[datetime],
    ) -> ScheduledRun:
        going = self.state.runs(name, status="running", limit=1)
        skipped = None
        if reason != "trigger" and self.state.schedule(name, now).paused:
            # A paused schedule's timed fires are recorded missed before they get here; an
            # `after:` start is recorded as a skip. A trigger by hand still runs.
            skipped = "the schedule is paused"
        elif going:
            skipped = (
                f"previous run {going[0].run_id} (started {going[0].created_at.isoformat()}) "
                "is still running"
            )
        run = self.state.begin(
            name, now, reason=reason, fire_time=fire_time, missed=missed, skipped=skipped
        )
        if missed:
            self.metrics.observe(name, "missed", None, None, now.timestamp())
        if skipped is not None:
            log.info(
                "%s: skipped: %s",
                name,
                skipped,
                extra={"schedule": name, "run_id": run.run_id, "phase": "skipped"},
            )
            self.metrics.observe(name, "skipped", None, None, now.timestamp())
            return run
        self._launch(run, self.schedules[name])
        return run

    def _launch(self, run: ScheduledRun, schedule: Schedule) -> None:
        # The owner lets another process tell a live run from one a dead scheduler left.
        self.state.set_owner(run.run_id, self.owner)
        log.info(
            "%s: run %s starts (%s)",
            run.schedule,
            run.run_id,
            run.reason,
            extra={"schedule": run.schedule, "run_id": run.run_id, "phase": "started"},
        )
        self.executor.start(run, schedule)

    def _reap_orphans(self, now: datetime) -> None:
        """A run left ``running`` by a process that died (e.g. a killed `schedules trigger`)
        would block its schedule forever: mark it interrupted, and resume it."""
        mine = self.executor.running()
        for run in self.state.runs(status="running", limit=1000):
            owner = run.detail.get("owner")
            if run.run_id in mine or owner == self.owner or _owner_alive(owner, self.owner):
                continue
            schedule = self.schedules.get(run.schedule)
            if schedule is None:
                continue
            again = self.state.restart(run.run_id)
            self._launch(again, schedule)

    # --- a run ended ------------------------------------------------------------------------

    def _finished(self, run_id: str, result: RunResult, now: datetime) -> None:
        run = self.state.run(run_id)
        name = run.schedule
        schedule = self.schedules.get(name)
        status: RunStatus = result.status
        previous = self.state.last_finished(name, before=run_id)
        detail = {**run.detail, "result": result.model_dump()}
        finished, after = self.state.finish(
            run_id,
            status,
            now,
            detail,
            max_failures=schedule.max_failures if schedule else 10**9,
        )
        seconds = (now - run.created_at).total_seconds()
        self.metrics.observe(name, status, result, seconds, now.timestamp())
        for target in result.targets:
            log.info(
                "%s: %s %s: %s",
                name,
                target.kind,
                target.destination,
                target.status,
                extra={
                    "schedule": name,
                    "run_id": run_id,
                    "destination": target.destination,
                    "sync_run_id": target.run_id,
                    "phase": target.status,
                },
            )
        log.info(
            "%s: run %s %s",
            name,
            run_id,
            status,
            extra={"schedule": name, "run_id": run_id, "phase": status},
        )
        if schedule is None or status == "interrupted":
            return
        earlier = (
            RunResult.model_validate(previous.detail["result"])
            if previous is not None and "result" in previous.detail
            else None
        )
        apply_changes(
            self.state, name, evaluate_run(name, schedule, finished, result, after, earlier), now
        )
        self._refresh_paused()
        if status in ("succeeded", "partial"):
            for follower, other in self.schedules.items():
                if name in other.after:
                    self._begin(follower, now, reason=f"after {name}", fire_time=None, missed=[])

    def _refresh_paused(self) -> None:
        now = self.clock()
        self.metrics.paused.set(
            sum(1 for name in self.schedules if self.state.schedule(name, now).paused)
        )

    # --- pause, resume ---------------------------------------------------------------------

    def pause(self, name: str, reason: str = "paused by hand") -> None:
        self.state.set_paused(name, self.clock(), reason)
        self._refresh_paused()

    def resume(self, name: str) -> None:
        """Resume ``name``: failures reset, the auto-pause alert clears (channels hear it), and
        fires owed while it was paused are not run (they were recorded as missed)."""
        now = self.clock()
        self.state.set_paused(name, now, None)
        self.state.set_alert(
            f"{name}/paused", name, "paused", False, now, f"Schedule {name!r} resumed."
        )
        self._refresh_paused()
        self.deliver(now)

    # --- alerts -----------------------------------------------------------------------------

    def deliver(self, now: datetime | None = None) -> list[tuple[str, str]]:
        """Tell each channel the alert changes it has not heard; (key, channel) delivered."""
        if self.notifier is None:
            return []
        now = now or self.clock()
        sent = []
        for alert in self.state.alerts():
            schedule = self.schedules.get(alert.schedule)
            if schedule is None:
                continue
            for channel in schedule.alerts:
                if self.state.told(alert.key, channel) == alert.active:
                    continue
                retry = self._notice_retry.get((alert.key, channel))
                if retry is not None and now < retry:
                    continue
                notice = Notice(
                    key=alert.key,
                    schedule=alert.schedule,
                    condition=alert.condition,
                    active=alert.active,
                    title=_title(alert.schedule, alert.condition, alert.active),
                    text=alert.message,
                    fields={k: v for k, v in alert.detail.items() if k != "owner"},
                )
                try:
                    self.notifier.send(channel, notice)
                except Exception as exc:  # a channel down must not stop the scheduler
                    log.warning(
                        "alert %s not delivered: %s",
                        alert.key,
                        exc,
                        extra={"schedule": alert.schedule, "alert": alert.key, "channel": channel},
                    )
                    self._notice_retry[(alert.key, channel)] = now + _RETRY_NOTICE
                    continue
                self._notice_retry.pop((alert.key, channel), None)
                self.state.mark_told(alert.key, channel, alert.active, now)
                sent.append((alert.key, channel))
        return sent

    # --- stop -------------------------------------------------------------------------------

    def shutdown(self, timeout: float) -> None:
        """Ask running runs to stop at a safe point; record them interrupted (the next start
        resumes them)."""
        now = self.clock()
        for run_id, result in self.executor.stop(timeout):
            self._finished(run_id, result, now)


_TITLES = {
    "failed": "run failed",
    "removal_guard": "stopped by the removal guard",
    "rejected_share": "many rows rejected",
    "no_success": "no successful run",
    "audience_change": "audience size changed",
    "paused": "schedule paused itself",
}


def _title(schedule: str, condition: str, active: bool) -> str:
    what = _TITLES.get(condition, condition)
    return f"{schedule}: {what}" if active else f"{schedule}: recovered ({what})"


def _owner_alive(owner: object, me: str) -> bool:
    """Whether the process named ``host:pid`` still lives (another host: assume it does)."""
    if not isinstance(owner, str) or ":" not in owner or owner == me:
        return False
    host, _, pid = owner.rpartition(":")
    return not pid.isdigit() or not stale_process(host, int(pid))
