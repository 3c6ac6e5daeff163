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
        return self._exists(self.table(name))

    def _exists(self, table: str) -> bool:
        rows = self.connection.rows(
            self.connection.dialect.sql(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
            ),
            (self.schema, table),
        )
        return bool(rows)

    def local(self, name: str, folder: Path) -> Path | None:
        """Copy the snapshot into ``folder/snapshot.parquet`` (streamed); None if none."""
        table = self.table(name)
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
        self.connection.execute(f"DROP TABLE IF EXISTS {self._qualified(staged)}")
        rows = 0

        def counted() -> Iterable[pa.RecordBatch]:
            nonlocal rows
            for batch in batches:
                rows += batch.num_rows
                yield batch if batch.schema.equals(schema) else batch.cast(schema)

        reader = pa.RecordBatchReader.from_batches(schema, iter(counted()))
        self.connection.create_from(self.schema, staged, reader)
        with self.connection.transaction():
            for statement in self.connection.dialect.swap(
                self._qualified(staged), self._qualified(final), final
            ):
                self.connection.execute(statement)
        return rows

    def delete(self, name: str) -> None:
        self.connection.execute(f"DROP TABLE IF EXISTS {self._qualified(self.table(name))}")


def _plain(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` without the driver's per-field metadata."""
    return pa.RecordBatch.from_arrays(batch.columns, names=batch.schema.names)
