"""Running unattended: the scheduler, its triggers and durable state, alerts and metrics.

>>> from listrak_sync.runtime import Scheduler, SchedulerState, ProcessExecutor
>>> state = SchedulerState(".listrak-sync/scheduler.sqlite")             # doctest: +SKIP
>>> scheduler = Scheduler(project.config.schedules, state, executor)   # doctest: +SKIP
>>> scheduler.recover(); next_due = scheduler.tick()                     # doctest: +SKIP

Time comes from an injectable clock, so tests drive :meth:`Scheduler.tick` through DST days
and downtime. ``listrak-sync scheduler`` and ``schedules``/``alerts`` commands are in ``cli``.
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from ._alerts import AlertChange, Notice, evaluate_run, evaluate_time
    from ._channels import AlertDeliveryError, Channels, SecretResolver, sign
    from ._executor import ProcessExecutor
    from ._metrics import SchedulerMetrics, metrics_app
    from ._results import RunResult, TargetResult, TargetStatus
    from ._scheduler import Clock, Executor, Notifier, Scheduler, utc_now
    from ._state import AlertRecord, RunStatus, ScheduledRun, SchedulerState, ScheduleState
    from ._triggers import (
        CronTrigger,
        IntervalTrigger,
        Trigger,
        fires_between,
        trigger_for,
    )

__all__ = [
    "AlertChange",
    "AlertDeliveryError",
    "AlertRecord",
    "Channels",
    "Clock",
    "CronTrigger",
    "Executor",
    "IntervalTrigger",
    "Notice",
    "Notifier",
    "ProcessExecutor",
    "RunResult",
    "RunStatus",
    "ScheduleState",
    "ScheduledRun",
    "Scheduler",
    "SchedulerMetrics",
    "SchedulerState",
    "SecretResolver",
    "TargetResult",
    "TargetStatus",
    "Trigger",
    "evaluate_run",
    "evaluate_time",
    "fires_between",
    "metrics_app",
    "sign",
    "trigger_for",
    "utc_now",
]

# The settings are listrak_sync.config.schedules; the rest (HTTP, metrics, cronsim) loads on
# first use.
__getattr__ = lazy_exports(
    __name__,
    {
        "AlertChange": "_alerts",
        "AlertDeliveryError": "_channels",
        "AlertRecord": "_state",
        "Channels": "_channels",
        "Clock": "_scheduler",
        "CronTrigger": "_triggers",
        "Executor": "_scheduler",
        "IntervalTrigger": "_triggers",
        "Notice": "_alerts",
        "Notifier": "_scheduler",
        "ProcessExecutor": "_executor",
        "RunResult": "_results",
        "RunStatus": "_state",
        "ScheduleState": "_state",
        "ScheduledRun": "_state",
        "Scheduler": "_scheduler",
        "SchedulerMetrics": "_metrics",
        "SchedulerState": "_state",
        "SecretResolver": "_channels",
        "TargetResult": "_results",
        "TargetStatus": "_results",
        "Trigger": "_triggers",
        "evaluate_run": "_alerts",
        "evaluate_time": "_alerts",
        "fires_between": "_triggers",
        "metrics_app": "_metrics",
        "sign": "_channels",
        "trigger_for": "_triggers",
        "utc_now": "_scheduler",
    },
)
