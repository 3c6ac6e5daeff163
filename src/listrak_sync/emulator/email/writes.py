"""Writes off the event loop: one thread at a time, under the state lock, on its own cursor.

A list import may hold the lock for a few seconds; doing every write in a worker thread keeps
the event loop free to answer status polls and reads meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import duckdb

from ..state import EmulatorState

__all__ = ["write"]

T = TypeVar("T")


def _locked(state: EmulatorState, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    with state.lock, state.cursor() as cur:
        cur.execute("BEGIN")
        try:
            result = fn(cur)
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")
        return result


async def write(state: EmulatorState, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """Run ``fn(cursor)`` as one transaction in a worker thread holding ``state.lock``."""
    return await asyncio.to_thread(_locked, state, fn)
