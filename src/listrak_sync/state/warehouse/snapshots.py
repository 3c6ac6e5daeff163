"""Last-synced snapshots in warehouse tables: one ``snapshot_<target>`` table per synced target
(keys, attribute hashes, membership, ownership for ``mode: mirror``), in the state schema.

A new snapshot is bulk-loaded into ``snapshot_<target>_staged`` and swapped in with the old
one dropped, in one transaction: a run killed mid-write leaves the previous snapshot whole, and
the next write drops the stray staged table. Diffs still run in DuckDB on this host: the plan
reads a Parquet copy of the snapshot (:meth:`WarehouseSnapshotStore.local`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..private import private_file
from .connection import StateConnection
from .dialect import quote
from .names import table_name

__all__ = ["WarehouseSnapshotStore"]


class WarehouseSnapshotStore:
    def __init__(self, connection: StateConnection, schema: str) -> None:
        self.connection = connection
        self.schema = schema

    def table(self, name: str) -> str:
        """The bare table name of snapshot ``name``."""
        return table_name("snapshot", name)

    def _qualified(self, table: str) -> str:
        return f"{quote(self.schema)}.{quote(table)}"

    def exists(self, name: str) -> bool:
        self._recover(self.table(name))
        return self._exists(self.table(name))

    def _exists(self, table: str) -> bool:
        rows = self.connection.rows(
            self.connection.dialect.sql(
                "SELECT 1 FROM information_schema.tables "
                "WHERE lower(table_schema) = lower(?) AND lower(table_name) = lower(?)"
            ),
            (self.schema, table),
        )
        return bool(rows)

    def local(self, name: str, folder: Path) -> Path | None:
        """Copy the snapshot into ``folder/snapshot.parquet`` (streamed); None if none."""
        table = self.table(name)
        self._recover(table)
        if not self._exists(table):
            return None
        target = folder / "snapshot.parquet"
        staged = private_file(target.with_name(target.name + ".staged"))
        writer: pq.ParquetWriter | None = None
        try:
            for batch in self.connection.stream(f"SELECT * FROM {self._qualified(table)}"):
                plain = _plain(batch)
                if writer is None:
                    writer = pq.ParquetWriter(staged, plain.schema, compression="snappy")
                writer.write_batch(plain)
        finally:
            if writer is not None:
                writer.close()
        os.replace(staged, target)
        return target

    def replace(self, name: str, batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> int:
        """Load a whole snapshot from a stream, then swap it in; returns the row count."""
        final = self.table(name)
        staged = f"{final}_staged"
        self._recover(final)
        self.connection.execute(f"DROP TABLE IF EXISTS {self._qualified(staged)}")
        rows = 0

        def counted() -> Iterable[pa.RecordBatch]:
            nonlocal rows
            for batch in batches:
                rows += batch.num_rows
                yield batch if batch.schema.equals(schema) else batch.cast(schema)

        reader = pa.RecordBatchReader.from_batches(schema, iter(counted()))
        self.connection.create_from(self.schema, staged, reader)
        swap = self.connection.dialect.swap
        if swap is None:
            self._swap_in_steps(final)
            return rows
        with self.connection.transaction():
            for statement in swap(self._qualified(staged), self._qualified(final), final):
                self.connection.execute(statement)
        return rows

    def _swap_in_steps(self, final: str) -> None:
        """Make the loaded ``<final>_staged`` the snapshot where DDL commits at once
        (Snowflake): the old table is renamed aside, the new one into place, the old one
        dropped. A kill between the renames leaves no snapshot table but a whole staged one
        beside the old: :meth:`_recover` finishes the swap before the next read."""
        old, staged = f"{final}_old", f"{final}_staged"
        if self._exists(final):
            self.connection.execute(f"DROP TABLE IF EXISTS {self._qualified(old)}")
            self.connection.execute(
                f"ALTER TABLE {self._qualified(final)} RENAME TO {self._qualified(old)}"
            )
        self.connection.execute(
            f"ALTER TABLE {self._qualified(staged)} RENAME TO {self._qualified(final)}"
        )
        self.connection.execute(f"DROP TABLE IF EXISTS {self._qualified(old)}")

    def _recover(self, final: str) -> None:
        """Finish a swap killed between its renames (see :meth:`_swap_in_steps`): the staged
        table was loaded whole before the old one was renamed aside."""
        if self.connection.dialect.swap is not None or self._exists(final):
            return
        old, staged = f"{final}_old", f"{final}_staged"
        if self._exists(old) and self._exists(staged):
            self.connection.execute(
                f"ALTER TABLE {self._qualified(staged)} RENAME TO {self._qualified(final)}"
            )
            self.connection.execute(f"DROP TABLE IF EXISTS {self._qualified(old)}")

    def delete(self, name: str) -> None:
        self.connection.execute(f"DROP TABLE IF EXISTS {self._qualified(self.table(name))}")


def _plain(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` without the driver's per-field metadata."""
    return pa.RecordBatch.from_arrays(batch.columns, names=batch.schema.names)
