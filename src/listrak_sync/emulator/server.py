"""Running the emulator: in a background thread (tests, demo, benchmarks) or in the foreground."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from .admin import apply_seed
from .app import create_app, default_modules
from .state import EmulatorState

__all__ = ["EmulatorServer"]


class EmulatorServer:
    """An emulator listening on loopback in a daemon thread.

    >>> with EmulatorServer() as emulator:   # doctest: +SKIP
    ...     emulator.base_url                  # http://127.0.0.1:<free port>
    """

    def __init__(
        self,
        state: EmulatorState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token_ttl: int = 3600,
        state_file: Path | None = None,
    ) -> None:
        self.state = state or EmulatorState(token_ttl=token_ttl, state_file=state_file)
        self.modules = default_modules()
        self.app = create_app(self.state, self.modules)
        self._config = uvicorn.Config(
            self.app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def seed(self, doc: dict[str, Any]) -> None:
        """Apply a seed document directly (no HTTP), e.g. before serving."""
        with self.state.lock:
            apply_seed(self.state, self.modules, doc)

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve()), name="listrak-emulator", daemon=True
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the emulator could not listen on {self.host}:{self.port}")
            threading.Event().wait(0.01)
        sockets = [sock for server in self._server.servers for sock in server.sockets]
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmulatorServer({self.base_url})"

    def run(self, **_: Any) -> None:
        """Serve in the foreground until interrupted (``listrak-sync emulator``)."""
        self._server.run()
        sockets = [sock for server in self._server.servers for sock in server.sockets]
        if sockets:
            self.port = sockets[0].getsockname()[1]
