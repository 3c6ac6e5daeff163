"""An in-memory copy of the SMS catalog: sender codes, SMS lists and profile fields.

Every SMS route starts by resolving its sender code (and often its list and profile fields).
These tables hold a handful of rows and only change when the emulator is seeded or reset, but a
DuckDB statement costs about half a millisecond however small its table, so per-contact routes
read them from here instead. Each table is loaded on first use after a change; ``forget``
drops every copy and is called after each seed (``seed_sms``) and reset (an ``on_reset`` hook).

Loads and ``forget`` share one lock, so a load that read the tables before a seed changed them
always finishes before that seed's ``forget`` runs, never after it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import duckdb

from ..state import EmulatorState

__all__ = ["CachedTable", "cached", "forget"]

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class CachedTable(Generic[T]):
    """A catalog table and how to read it into Python (called with a fresh cursor)."""

    name: str
    load: Callable[[duckdb.DuckDBPyConnection], T]


class _Catalog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[CachedTable[Any], Any] = {}

    def get(self, state: EmulatorState, table: CachedTable[T]) -> T:
        with self._lock:
            if table not in self._tables:
                with state.cursor() as cur:
                    self._tables[table] = table.load(cur)
            return cast(T, self._tables[table])

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()


# EmulatorState is an unhashable dataclass, so copies are found by id and checked by identity.
_catalogs: dict[int, tuple[weakref.ref[EmulatorState], _Catalog]] = {}
# Reentrant: a copy's weakref callback may run (garbage collection) while the lock is held.
_registry_lock = threading.RLock()


def _catalog(state: EmulatorState) -> _Catalog:
    key = id(state)
    with _registry_lock:
        entry = _catalogs.get(key)
        if entry is not None and entry[0]() is state:
            return entry[1]
        catalog = _Catalog()

        def drop(_: object) -> None:
            with _registry_lock:
                if _catalogs.get(key, (None, None))[1] is catalog:
                    del _catalogs[key]

        _catalogs[key] = (weakref.ref(state, drop), catalog)
        return catalog


def cached(state: EmulatorState, table: CachedTable[T]) -> T:
    """``table`` as last loaded for ``state``; callers must not modify what it returns."""
    return _catalog(state).get(state, table)


def forget(state: EmulatorState) -> None:
    """Drop ``state``'s copies, after the catalog tables changed (seed, reset)."""
    _catalog(state).clear()
