"""Running the emulator: in a background thread (tests, demo, benchmarks) or in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import uvicorn

from ..serving import BackgroundServer
from .admin import apply_seed
from .app import create_app, default_modules
from .realism import Realism, realism_from_env
from .state import DEFAULT_MAX_REQUEST_BYTES, EmulatorState

__all__ = ["EmulatorServer"]


class EmulatorServer(BackgroundServer):
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
        realism: Realism | None = None,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    ) -> None:
        """``realism`` None: ``LISTRAK_EMULATOR_REALISM``, else strict (see :mod:`.realism`)."""
        if state is None:
            state = EmulatorState(
                token_ttl=token_ttl,
                state_file=state_file,
                max_request_bytes=max_request_bytes,
                realism=realism if realism is not None else realism_from_env(),
            )
        self.state = state
        self.modules = default_modules()
        self.app = create_app(self.state, self.modules)
        config = uvicorn.Config(
            self.app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        super().__init__(
            uvicorn.Server(config),
            host=host,
            port=port,
            thread_name="listrak-emulator",
            failure="the emulator could not listen",
            stop_timeout=10,
        )

    def seed(self, doc: dict[str, Any]) -> None:
        """Apply a seed document directly (no HTTP), e.g. before serving."""
        with self.state.lock:
            apply_seed(self.state, self.modules, doc)

    def __repr__(self) -> str:
        return f"EmulatorServer({self.base_url})"
