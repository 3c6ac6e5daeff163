"""A uvicorn server run in the foreground or in a daemon thread: the emulator and the event
service both serve this way."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Self

import uvicorn

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """Runs ``server``: :meth:`run` in the foreground, or ``with`` / :meth:`start` in a daemon
    thread. With ``port=0`` the system picks a free port; ``port`` holds it once started."""

    def __init__(
        self,
        server: uvicorn.Server,
        *,
        host: str,
        port: int,
        thread_name: str,
        failure: str,
        stop_timeout: float,
    ) -> None:
        self._server = server
        self._thread: threading.Thread | None = None
        self._thread_name = thread_name
        self._failure = failure  # what start() says when the server did not come up
        self._stop_timeout = stop_timeout
        self.host = host
        self.port = port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def run(self) -> None:
        """Serve in the foreground until interrupted (uvicorn handles SIGINT and SIGTERM)."""
        self._server.run()
        self._bound_port()

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve()), name=self._thread_name, daemon=True
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"{self._failure} on {self.host}:{self.port}")
            threading.Event().wait(0.01)
        self._bound_port()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=self._stop_timeout)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _bound_port(self) -> None:
        # With port 0 the system chose one; read it back from the listening socket.
        sockets = [sock for server in self._server.servers for sock in server.sockets]
        if sockets:
            self.port = sockets[0].getsockname()[1]
