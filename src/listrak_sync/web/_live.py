"""Live counts that no one waits for any more are stopped in the warehouse.

The builder asks for a count after each edit; the browser drops the answer to an older request
(``hx-sync="this:replace"``), but the warehouse would go on counting. Each live count registers
its warehouse under a key (the session and what is counted); a newer count for the same key
interrupts the older one, when the warehouse can be interrupted (DuckDB's interrupt,
PostgreSQL's cancel request, Spark's interruptAll; Snowflake's adapter cannot: its count runs to
its end and its answer is dropped).

An interrupt stops the statement running at that moment; an older count may be between two
statements, or still compiling its first. So the interrupt is repeated, from a small thread,
until the older count has left its block.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..warehouse import Warehouse

__all__ = ["LiveQueries"]


class LiveQueries:
    def __init__(self, every: float = 0.2) -> None:
        self._running: dict[str, Warehouse] = {}
        self._inside: set[int] = set()  # id() of the warehouses whose block has not ended
        self._lock = threading.Lock()
        self._every = every

    @contextmanager
    def running(self, key: str, warehouse: Warehouse) -> Iterator[Warehouse]:
        """``warehouse`` counts for ``key`` in the block; it replaces (and stops) the one that
        counted for ``key`` before."""
        with self._lock:
            older = self._running.get(key)
            self._running[key] = warehouse
            self._inside.add(id(warehouse))
        if older is not None and callable(getattr(older, "interrupt", None)):
            threading.Thread(
                target=self._stop, args=(older,), name="console-live-stop", daemon=True
            ).start()
        try:
            yield warehouse
        finally:
            with self._lock:
                self._inside.discard(id(warehouse))
                if self._running.get(key) is warehouse:
                    del self._running[key]

    def _stop(self, older: Warehouse) -> None:
        """Interrupt ``older`` until its block ends. Under the lock, so its warehouse is still
        open (it closes after its block); this thread holds it, so its id() is not reused."""
        while True:
            with self._lock:
                if id(older) not in self._inside:
                    return
                older.interrupt()  # type: ignore[attr-defined]
            time.sleep(self._every)
