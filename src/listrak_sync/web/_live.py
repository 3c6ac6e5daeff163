"""Live counts that no one waits for any more are stopped in the warehouse.

The builder asks for a count after each edit; the browser drops the answer to an older request
(``hx-sync="this:replace"``), but the warehouse would go on counting. Each live count registers
its warehouse under a key (the session and what is counted); a newer count for the same key
interrupts the older one, when the warehouse can be interrupted (DuckDB can).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..warehouse import Warehouse

__all__ = ["LiveQueries"]


class LiveQueries:
    def __init__(self) -> None:
        self._running: dict[str, Warehouse] = {}
        self._lock = threading.Lock()

    @contextmanager
    def running(self, key: str, warehouse: Warehouse) -> Iterator[Warehouse]:
        """``warehouse`` counts for ``key`` in the block; it replaces (and stops) the one that
        counted for ``key`` before."""
        with self._lock:
            older = self._running.get(key)
            self._running[key] = warehouse
            # Under the lock: the older count cannot have left its block, so its warehouse is
            # still open (an idle DuckDB connection ignores the interrupt).
            stop = getattr(older, "interrupt", None)
            if callable(stop):
                stop()
        try:
            yield warehouse
        finally:
            with self._lock:
                if self._running.get(key) is warehouse:
                    del self._running[key]
