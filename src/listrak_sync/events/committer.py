"""The queue's own thread, and group commit for intake.

Every queue operation runs on one thread (SQLite connections are not shared across threads).
Intake requests that arrive while a commit is being written wait for the next one, which takes
all of them in a single transaction and a single fsync: under load, many requests share the
cost of one flush, and each still gets its answer only after its own events are on disk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .mappings import Rejection, Update
from .queue import Queue

__all__ = ["QueueThread"]

T = TypeVar("T")

_Pending = tuple[
    Sequence[Update], Sequence[tuple[Rejection, dict[str, Any]]], "asyncio.Future[None]"
]


class QueueThread:
    """Runs ``queue``'s methods on a dedicated thread; ``append`` commits in groups."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="events-queue")
        self._waiting: list[_Pending] = []
        self._flushing: asyncio.Task[None] | None = None

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` (a queue method) on the queue thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    async def append(
        self, updates: Sequence[Update], rejections: Sequence[tuple[Rejection, dict[str, Any]]]
    ) -> None:
        """Return once ``updates`` and ``rejections`` are committed and fsync'd."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((updates, rejections, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        # shield: a client that disconnects must not cancel the commit others wait for.
        await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            updates = [u for item in group for u in item[0]]
            rejections = [r for item in group for r in item[1]]
            try:
                await self.call(self.queue.append, updates, rejections)
            except Exception as exc:
                for *_, done in group:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for *_, done in group:
                    if not done.done():
                        done.set_result(None)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.queue.close()
