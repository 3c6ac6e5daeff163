"""Prometheus metrics of the scheduler, and the small web app that serves them with /healthz.

Each scheduler has its own registry (tests run several in one process). Runs are counted per
schedule and status, and per destination and status; rows per destination and outcome (the
sync run's counts: added, applied, declined, failed, rejected, ...).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._results import RunResult

__all__ = ["SchedulerMetrics", "metrics_app"]

_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400)


class SchedulerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "listrak_sync_scheduled_runs",
            "Scheduled runs that ended, by schedule and status (skipped and missed included).",
            ["schedule", "status"],
            registry=self.registry,
        )
        self.destination_runs = Counter(
            "listrak_sync_destination_runs",
            "Runs per destination (or pulled source) by status.",
            ["kind", "destination", "status"],
            registry=self.registry,
        )
        self.rows = Counter(
            "listrak_sync_rows",
            "Rows by destination and outcome.",
            ["destination", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "listrak_sync_run_duration_seconds",
            "Wall time of scheduled runs.",
            ["schedule"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.last_success = Gauge(
            "listrak_sync_last_success_timestamp_seconds",
            "Unix time of the last successful run per destination.",
            ["destination"],
            registry=self.registry,
        )
        self.paused = Gauge(
            "listrak_sync_schedules_paused",
            "Schedules paused (by hand or after repeated failures).",
            registry=self.registry,
        )

    def observe(
        self, schedule: str, status: str, result: RunResult | None, seconds: float | None, at: float
    ) -> None:
        self.runs.labels(schedule, status).inc()
        if seconds is not None:
            self.duration.labels(schedule).observe(seconds)
        for target in result.targets if result else []:
            self.destination_runs.labels(target.kind, target.destination, target.status).inc()
            for outcome, count in target.counts.items():
                if count > 0:
                    self.rows.labels(target.destination, outcome).inc(count)
            if target.status in ("succeeded", "partial"):
                self.last_success.labels(target.destination).set(at)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_app(metrics: SchedulerMetrics, health: Callable[[], dict[str, Any]]) -> Starlette:
    """``/metrics`` (Prometheus text) and ``/healthz`` (200 while the loop ticks, else 503)."""

    async def serve_metrics(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def serve_health(request: Request) -> Response:
        document = health()
        code = 200 if document.get("ok") else 503
        return Response(json.dumps(document), status_code=code, media_type="application/json")

    return Starlette(routes=[Route("/metrics", serve_metrics), Route("/healthz", serve_health)])
