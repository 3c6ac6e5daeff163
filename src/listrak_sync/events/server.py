"""Running the event service under uvicorn: in the foreground (``serve``) or in a thread (tests).

In the foreground uvicorn handles SIGTERM and SIGINT: it stops accepting connections, answers
the requests in progress, then the app's lifespan stops the deliverer (batches in flight get a
grace period; whatever is not finished stays queued for the next start) and closes the queue.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import uvicorn

from ..serving import BackgroundServer
from .app import create_app
from .connections import guarded_protocol
from .service import EventService

__all__ = ["EventServer"]


class _Server(uvicorn.Server):
    """uvicorn re-raises a caught SIGTERM/SIGINT after its graceful shutdown, so the process
    would end "killed by signal"; the shutdown was clean, so exit normally instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


class _GuardReport:
    """Counts connections the guards closed; logs them at most every ``every`` seconds, so a
    flood of slow clients is a few log lines, not one per connection."""

    def __init__(self, service: EventService, every: float = 10.0) -> None:
        self.service = service
        self.every = every
        self.pending: dict[str, int] = {}
        self.logged_at = float("-inf")

    def __call__(self, reason: str) -> None:
        self.service.metrics.connections_closed.labels(reason).inc()
        self.pending[reason] = self.pending.get(reason, 0) + 1
        now = time.monotonic()
        if now - self.logged_at >= self.every:
            limits = self.service.destination.limits
            self.service.log.warning(
                "connections closed",
                **self.pending,
                header_timeout_seconds=limits.header_timeout_seconds,
                max_connections=limits.max_connections,
            )
            self.pending = {}
            self.logged_at = now


class EventServer(BackgroundServer):
    """``EventServer(service).run()`` serves until a signal; ``with EventServer(...)`` runs it
    in a daemon thread on a free loopback port."""

    def __init__(self, service: EventService, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.service = service
        limits = service.destination.limits
        config = uvicorn.Config(
            create_app(service),
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=int(service.grace_seconds) + 5,
            http=guarded_protocol(
                header_timeout=limits.header_timeout_seconds,
                max_connections=limits.max_connections,
                on_event=_GuardReport(service),
            ),
            ws="none",
        )
        super().__init__(
            _Server(config),
            host=host,
            port=port,
            thread_name="listrak-events",
            failure="the event server could not start",
            # Stopping waits for the lifespan to finish the batches in flight (grace period).
            stop_timeout=60,
        )
