"""The state store's own connection to the warehouse: statements with parameters, Arrow in and
out, transactions, and the cross-host lock.

:class:`StateConnection` is what the store needs from an engine. Each engine implements it in
its warehouse folder (``warehouse/postgres/state.py``, ``warehouse/snowflake/state.py``),
found by ``warehouse.connect_state``. It is a connection of its own, apart from the one
reading audiences: the sync holds its locks on it for the whole run, and when the process dies
they go (PostgreSQL ends the session, and advisory locks with it; Snowflake's lease rows
expire unrenewed: ``locks.py``), on whatever host it ran.

Every statement commits at once, except inside :meth:`StateConnection.transaction`, whose
statements commit together or not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import pyarrow as pa

from .dialect import StateDialect

__all__ = ["StateConnection", "lock_key"]


def lock_key(schema: str, resource: str) -> int:
    """The signed 64-bit number a resource's advisory lock is taken under (PostgreSQL's lock
    space is shared by the whole database, so the schema is part of the name)."""
    digest = hashlib.sha256(f"listrak-sync:{schema}:{resource}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class StateConnection(Protocol):
    """What the warehouse state store needs from an engine's connection."""

    @property
    def dialect(self) -> StateDialect: ...

    @property
    def name(self) -> str:
        """The connection as people write it (no password), for messages."""
        ...

    @property
    def lock_lease(self) -> float | None:
        """Seconds a lock row's lease lasts, where the engine locks with lease rows (set in
        the connection's URL); None: the default, or no lease rows."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``sql`` once per row of parameters."""
        ...

    def ingest(self, schema: str, table: str, data: pa.Table | pa.RecordBatchReader) -> int:
        """Append Arrow data to an existing table (columns by name) with the bulk path."""
        ...

    def create_from(self, schema: str, table: str, data: pa.RecordBatchReader) -> int:
        """Create ``table`` from the stream's schema and fill it (bulk path)."""
        ...

    def stream(self, sql: str) -> Iterator[pa.RecordBatch]:
        """A query's result as record batches, at least one (empty when there are no rows,
        so the columns are known); the connection is busy until they end."""
        ...

    def transaction(self) -> contextlib.AbstractContextManager[None]: ...

    def try_lock(self, key: int) -> bool:
        """Take the cross-host lock ``key`` for this connection's life, if nobody holds it."""
        ...

    def unlock(self, key: int) -> None: ...

    def lock_transaction(self, key: int) -> None:
        """Inside a transaction: wait for ``key`` and hold it until the transaction ends."""
        ...

    def close(self) -> None: ...
