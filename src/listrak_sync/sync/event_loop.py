"""``run``: the event loop a sync runs in (uvloop where it is installed, asyncio's otherwise).

A sync's CPU per change is mostly its requests' (docs/explanation/http-client.md); uvloop's
loop, written on libuv in Cython, schedules callbacks and moves socket data for less CPU than
asyncio's pure-Python selector loop. It is a dependency except on Windows, where it does not
exist and asyncio's loop runs the sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # Windows: no uvloop
        return None
    return uvloop.new_event_loop


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` on uvloop's loop when it is available."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(coroutine)
