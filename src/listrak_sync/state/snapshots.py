"""Last-synced snapshots: one Parquet file per destination, replaced atomically.

A snapshot is what a destination held after its last successful run (keys, attribute hashes,
ownership), used to plan the next run as a diff. Diffs run in DuckDB over the Parquet file, so a
million-member snapshot is never loaded into Python. A new snapshot is written beside the old one
and swapped in with ``os.replace`` only when the run commits: a run killed mid-write leaves the
previous snapshot intact, and the stray temporary file is removed by the next ``stage``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .private import private_file, private_folder

__all__ = ["SnapshotStore", "StagedSnapshot"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _file_name(name: str) -> str:
    # Destination names come from config; keep them readable but never a path.
    return _SAFE.sub("_", name).strip("._") or "snapshot"


class StagedSnapshot:
    """A snapshot being written; invisible until :meth:`commit`."""

    def __init__(self, final: Path, schema: pa.Schema) -> None:
        self.final = final
        self.temporary = private_file(final.with_name(final.name + ".staged"))
        self._writer = pq.ParquetWriter(self.temporary, schema, compression="zstd")
        self.rows = 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        if isinstance(batch, pa.RecordBatch):
            self._writer.write_batch(batch)
        else:
            self._writer.write_table(batch)
        self.rows += batch.num_rows

    def commit(self) -> Path:
        self._writer.close()
        with open(self.temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.temporary, self.final)
        return self.final

    def abort(self) -> None:
        self._writer.close()
        self.temporary.unlink(missing_ok=True)


class SnapshotStore:
    def __init__(self, folder: Path) -> None:
        self.folder = private_folder(folder, tighten=True)

    def path(self, name: str) -> Path:
        return self.folder / f"{_file_name(name)}.parquet"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def local(self, name: str, folder: Path) -> Path | None:
        """The snapshot's own file (``folder`` is not needed: it is local already)."""
        path = self.path(name)
        return path if path.exists() else None

    def stage(self, name: str, schema: pa.Schema) -> StagedSnapshot:
        return StagedSnapshot(self.path(name), schema)

    def replace(self, name: str, batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> int:
        """Write a whole snapshot from a stream and commit it; returns the row count."""
        staged = self.stage(name, schema)
        try:
            for batch in batches:
                staged.write(batch)
        except BaseException:
            staged.abort()
            raise
        staged.commit()
        return staged.rows

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)
