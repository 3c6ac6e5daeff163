"""A project's scheduler, wired: its state file, worker processes, alert channels (secrets
resolved from the project), and the metrics server. The commands in ``cli`` call these; the
scheduler itself (``_scheduler``) knows nothing of the project file.

Files, under ``.listrak-sync/``: ``scheduler.sqlite`` (the scheduler's state) and
``scheduler/`` (each run's result and worker output).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from pydantic import SecretStr

from ..config.credentials import EnvRef, SecretFileRef
from ..project.loader import Project
from ..project.secrets import resolve_secret
from ..serving import BackgroundServer
from ..state import LockHeld, StateStore
from ..sync.workspace import Workspace
from ._channels import Channels
from ._executor import ProcessExecutor
from ._metrics import SchedulerMetrics, metrics_app
from ._scheduler import Clock, Executor, Scheduler, utc_now
from ._state import SchedulerState

__all__ = ["MetricsServer", "channels_for", "open_scheduler", "run_forever"]

SCHEDULER_LOCK = "scheduler"
log = logging.getLogger("listrak_sync.scheduler")


def channels_for(project: Project) -> Channels:
    def resolve(ref: EnvRef | SecretFileRef, path: tuple[str | int, ...]) -> SecretStr:
        return resolve_secret(project, ref, path)

    return Channels(project.config.alerts, resolve)


@contextmanager
def open_scheduler(
    project: Project,
    *,
    executor: Executor | None = None,
    clock: Clock = utc_now,
    metrics: SchedulerMetrics | None = None,
) -> Iterator[Scheduler]:
    workspace = Workspace.in_project(project.root)
    with SchedulerState(workspace.root / "scheduler.sqlite") as state:
        yield Scheduler(
            project.config.schedules,
            state,
            executor or ProcessExecutor(project.root, workspace.root / "scheduler"),
            clock=clock,
            notifier=channels_for(project),
            metrics=metrics,
        )


class MetricsServer(BackgroundServer):
    """``/metrics`` and ``/healthz`` in a daemon thread."""

    def __init__(self, scheduler: Scheduler, *, host: str, port: int, stale_after: float) -> None:
        def health() -> dict[str, Any]:
            last = scheduler.last_tick
            age = (utc_now() - last).total_seconds() if last else None
            return {
                "ok": age is not None and age < stale_after,
                "last_tick": last.isoformat() if last else None,
                "running": sorted(scheduler.executor.running()),
            }

        config = uvicorn.Config(
            metrics_app(scheduler.metrics, health), host=host, port=port, log_level="warning"
        )
        super().__init__(
            uvicorn.Server(config),
            host=host,
            port=port,
            thread_name="listrak-sync-metrics",
            failure="the metrics server did not start",
            stop_timeout=5.0,
        )


def run_forever(
    project: Project,
    *,
    metrics_port: int | None = None,
    on_ready: Any = None,
) -> int:
    """``listrak-sync scheduler``: tick until SIGTERM or SIGINT, then stop runs at a safe
    point. Exit code 0, or 5 when another scheduler runs this project."""
    settings = project.config.scheduler
    workspace = Workspace.in_project(project.root)
    token = f"scheduler {datetime.now().isoformat()}"
    with StateStore(workspace.state_path) as store:
        try:
            store.acquire_lock(SCHEDULER_LOCK, token)
        except LockHeld as exc:
            raise SchedulerBusy(str(exc)) from None
        try:
            return _loop(project, settings, metrics_port, on_ready)
        finally:
            store.release_lock(SCHEDULER_LOCK, token)


class SchedulerBusy(Exception):
    """Another scheduler holds this project."""


def _loop(project: Project, settings: Any, metrics_port: int | None, on_ready: Any) -> int:
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    poll = settings.poll_interval.total_seconds()
    try:
        with open_scheduler(project) as scheduler:
            scheduler.recover()
            port = settings.metrics_port if metrics_port is None else metrics_port
            server = MetricsServer(
                scheduler, host=settings.metrics_host, port=port, stale_after=max(60.0, 10 * poll)
            )
            with server:
                if on_ready is not None:
                    on_ready(scheduler, server)
                while not stop.is_set():
                    try:
                        due = scheduler.tick()
                    except Exception:  # e.g. a locked state file: log, try again next poll
                        log.exception("scheduler tick failed")
                        due = None
                    wait = poll
                    if due is not None:
                        wait = min(poll, max(0.0, (due - utc_now()).total_seconds()))
                    stop.wait(wait)
                scheduler.shutdown(settings.shutdown_timeout.total_seconds())
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


def run_dir(project: Project) -> Path:
    return Workspace.in_project(project.root).root / "scheduler"
