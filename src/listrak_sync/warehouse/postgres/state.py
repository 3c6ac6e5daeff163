"""The state store's connection to PostgreSQL (``state: {store: warehouse}``), over ADBC's
PostgreSQL driver like the warehouse adapter. It implements ``StateConnection``
(state/warehouse/connection.py).

Locks are session-level advisory locks: taken on this connection, held across the transactions
that follow, freed by ``pg_advisory_unlock`` or by the server when the session ends (the
process exits or is killed, the connection drops). One thread at a time uses the connection
(a lock guards it): the sync journals from its event loop and, once, from a worker thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi as pg
import pyarrow as pa

from ...state.warehouse.dialect import POSTGRES, StateDialect
from .configuration import PostgresConfig
from .exceptions import translating

__all__ = ["PostgresStateConnection", "connect_state"]


def connect_state(config: PostgresConfig, base_dir: Path | None = None) -> PostgresStateConnection:
    """Relative certificate paths in the URL resolve against ``base_dir``."""
    return PostgresStateConnection(config.with_base_dir(base_dir))


class PostgresStateConnection:
    """A ``StateConnection`` to a PostgreSQL database through ADBC."""

    def __init__(self, config: PostgresConfig) -> None:
        self.config = config
        self._secrets = (config.password.get_secret_value(),) if config.password is not None else ()
        self._guard = threading.RLock()
        self._depth = 0
        with translating(config.display, None, self._secrets):
            self._con = pg.connect(config.libpq_uri())

    @property
    def dialect(self) -> StateDialect:
        return POSTGRES

    @property
    def name(self) -> str:
        return self.config.display

    @property
    def lock_lease(self) -> float | None:
        return None  # advisory locks: no lease

    @contextmanager
    def _cursor(self, sql: str | None) -> Iterator[Any]:
        """A cursor for one statement; committed at once outside a transaction."""
        with self._guard, translating(self.name, sql, self._secrets):
            cursor = self._con.cursor()
            try:
                yield cursor
            except BaseException:
                if self._depth == 0:
                    with contextlib.suppress(Exception):
                        self._con.rollback()
                raise
            finally:
                cursor.close()
            if self._depth == 0:
                self._con.commit()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._cursor(sql) as cursor:
            cursor.execute(sql, tuple(params) if params else None)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._cursor(sql) as cursor:
            cursor.execute(sql, tuple(params) if params else None)
            return [tuple(row) for row in cursor.fetchall()]

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with self._cursor(sql) as cursor:
            cursor.executemany(sql, [tuple(row) for row in rows])

    def ingest(self, schema: str, table: str, data: pa.Table | pa.RecordBatchReader) -> int:
        with self._cursor(f"COPY {schema}.{table} FROM STDIN") as cursor:
            written = cursor.adbc_ingest(table, data, mode="append", db_schema_name=schema)
        return int(written) if written is not None and written >= 0 else 0

    def create_from(self, schema: str, table: str, data: pa.RecordBatchReader) -> int:
        with self._cursor(f"COPY {schema}.{table} FROM STDIN") as cursor:
            written = cursor.adbc_ingest(table, data, mode="create", db_schema_name=schema)
        return int(written) if written is not None and written >= 0 else 0

    def stream(self, sql: str) -> Iterator[pa.RecordBatch]:
        with self._cursor(sql) as cursor:
            cursor.execute(sql)
            reader = cursor.fetch_record_batch()
            try:
                empty = True
                for batch in reader:
                    empty = False
                    yield batch
                if empty:  # the columns, even of no rows
                    yield pa.RecordBatch.from_pylist([], schema=reader.schema)
            finally:
                reader.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._guard:
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    with contextlib.suppress(Exception):
                        self._con.rollback()
                raise
            self._depth -= 1
            if self._depth == 0:
                with translating(self.name, "COMMIT", self._secrets):
                    self._con.commit()

    def try_lock(self, key: int) -> bool:
        found = self.rows("SELECT pg_try_advisory_lock($1)", (key,))
        return bool(found[0][0])

    def unlock(self, key: int) -> None:
        self.execute("SELECT pg_advisory_unlock($1)", (key,))

    def lock_transaction(self, key: int) -> None:
        self.execute("SELECT pg_advisory_xact_lock($1)", (key,))

    def close(self) -> None:
        with self._guard, contextlib.suppress(Exception):
            self._con.close()
