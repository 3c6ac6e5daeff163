"""The state store's connection to Snowflake (``state: {store: warehouse}``): a session of its
own, opened like the warehouse adapter's (same login, same session settings), that implements
``StateConnection`` (state/warehouse/connection.py).

Statements bind their parameters on the server (qmark). A transaction is ``BEGIN`` ...
``COMMIT`` on this session; DDL inside one commits it (Snowflake's rule), so the state
store only ever puts DML in a transaction. Bulk loads (row outcomes, audit rows, snapshots)
take the adapter's path: Parquet files PUT to a temporary stage and one ``COPY INTO``.

Snowflake has no advisory locks: the store locks with lease rows (state/warehouse/locks.py),
so ``try_lock``/``lock_transaction`` only serve the schema's creation, where Snowflake's
``CREATE ... IF NOT EXISTS`` already tolerates a racing twin.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from ...state.warehouse.dialect import SNOWFLAKE, StateDialect
from .adapter import SnowflakeWarehouse, quote_table
from .configuration import SnowflakeConfig
from .exceptions import translating

__all__ = ["SnowflakeStateConnection", "connect_state"]

_CREATE_SCHEMA = re.compile(r"(?i)\s*CREATE\s+SCHEMA\b")
# Up to this many rows are INSERTed with bound arrays rather than staged and copied.
_INSERT_ROWS = 10_000


def connect_state(
    config: SnowflakeConfig, base_dir: Path | None = None
) -> SnowflakeStateConnection:
    return SnowflakeStateConnection(config, base_dir)


class SnowflakeStateConnection:
    """A ``StateConnection`` to a Snowflake database through the Python connector."""

    def __init__(self, config: SnowflakeConfig, base_dir: Path | None = None) -> None:
        self.config = config
        self._warehouse = SnowflakeWarehouse(config, base_dir)
        self._con = self._warehouse._con
        # The load stage is DDL, which would commit a transaction it ran in: made up front.
        self._warehouse.prepare_stage()
        self._guard = threading.RLock()
        self._depth = 0

    @property
    def dialect(self) -> StateDialect:
        return SNOWFLAKE

    @property
    def name(self) -> str:
        return self.config.display

    @property
    def lock_lease(self) -> float | None:
        return self.config.lock_lease

    def _secrets(self) -> tuple[str, ...]:
        return self._warehouse._secrets()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._guard, translating(self.name, sql, self._secrets()):
            self._con.cursor().execute(sql, tuple(params) if params else None).close()
            if _CREATE_SCHEMA.match(sql):
                # Creating a schema makes it the session's current one; the load stage and
                # unqualified names live in the connection's schema.
                self._con.cursor().execute(f"USE SCHEMA {quote_table(self.config.schema_)}").close()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._guard, translating(self.name, sql, self._secrets()):
            cursor = self._con.cursor()
            try:
                cursor.execute(sql, tuple(params) if params else None)
                return [tuple(row) for row in cursor.fetchall()]
            finally:
                cursor.close()

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with self._guard, translating(self.name, sql, self._secrets()):
            for row in rows:  # one by one: run files are few, large parts
                self._con.cursor().execute(sql, tuple(row)).close()

    def ingest(self, schema: str, table: str, data: pa.Table | pa.RecordBatchReader) -> int:
        with self._guard:
            if isinstance(data, pa.Table) and data.num_rows <= _INSERT_ROWS:
                # A few rows (a step's outcomes): bound INSERTs beat a PUT and a COPY.
                target = quote_table(f"{schema}.{table}")
                return self._warehouse._insert(
                    target, pa.RecordBatchReader.from_batches(data.schema, data.to_batches())
                )
            return self._warehouse.write(
                f"{schema}.{table}", _batches(data), mode="append", schema=data.schema
            )

    def create_from(self, schema: str, table: str, data: pa.RecordBatchReader) -> int:
        with self._guard:
            return self._warehouse.write(
                f"{schema}.{table}", data, mode="replace", schema=data.schema
            )

    def stream(self, sql: str) -> Iterator[pa.RecordBatch]:
        with self._guard:
            adapter = self._warehouse
            cursor, chunks, schema = adapter._run(sql)
            empty = True
            for batch in adapter._batches(cursor, chunks, schema, sql, 65_536):
                empty = False
                yield batch
            if empty:  # the columns, even of no rows
                yield pa.RecordBatch.from_pylist([], schema=schema)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._guard:
            if self._depth == 0:
                self.execute("BEGIN")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    with contextlib.suppress(Exception):
                        self.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self.execute("COMMIT")

    def try_lock(self, key: int) -> bool:
        return True  # see the module's docstring: lease rows lock on Snowflake

    def unlock(self, key: int) -> None:
        return None

    def lock_transaction(self, key: int) -> None:
        return None

    def close(self) -> None:
        with self._guard:
            self._warehouse.close()


def _batches(data: pa.Table | pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    yield from data.to_batches() if isinstance(data, pa.Table) else data
