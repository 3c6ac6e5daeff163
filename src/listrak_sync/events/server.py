"""Running the event service under uvicorn: in the foreground (``serve``) or in a thread (tests).

In the foreground uvicorn handles SIGTERM and SIGINT: it stops accepting connections, answers
the requests in progress, then the app's lifespan stops the deliverer (batches in flight get a
grace period; whatever is not finished stays queued for the next start) and closes the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from types import TracebackType

import uvicorn

from .app import create_app
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


class EventServer:
    """``EventServer(service).run()`` serves until a signal; ``with EventServer(...)`` runs it
    in a daemon thread on a free loopback port."""

    def __init__(self, service: EventService, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.service = service
        self.host = host
        self.port = port
        self._config = uvicorn.Config(
            create_app(service),
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=int(service.grace_seconds) + 5,
        )
        self._server = _Server(self._config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _bound_port(self) -> None:
        sockets = [sock for server in self._server.servers for sock in server.sockets]
        if sockets:
            self.port = sockets[0].getsockname()[1]

    def run(self) -> None:
        """Serve in the foreground until SIGTERM or SIGINT."""
        self._server.run()

    def start(self) -> EventServer:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve()), name="listrak-events", daemon=True
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the event server could not start on {self.host}:{self.port}")
            threading.Event().wait(0.01)
        self._bound_port()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def __enter__(self) -> EventServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
