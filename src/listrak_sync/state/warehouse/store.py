"""The state store in warehouse tables: what :class:`~listrak_sync.state.StateStore` keeps in
``.listrak-sync/state.sqlite``, with the same methods and the same meaning, in the state
schema of a PostgreSQL or Snowflake database. The bookkeeping (runs, journal, outcomes,
checkpoints) is ``state/bookkeeping.py``'s, shared with the local store; this file brings the
SQL primitives, locks, run files, snapshots and audit.

Differences that matter:

- Locks hold across hosts (``locks.py``): PostgreSQL's advisory locks on this store's own
  session, freed by the server when the process holding them dies; Snowflake's lock rows with
  a lease the holder renews.
- An unfinished run's plan files (``plan.parquet``, ``previous.parquet``, the per-step
  results) are copied into ``run_files`` (:meth:`save_run_file`), so a run killed on one host
  is finished from another working directory (:meth:`restore_run_files`).
- Each finished sync writes one row per member change to its destination's audit table
  (``audit.py``).

Nothing secret is written: callers pass counts, ids and reasons, never credentials.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import pyarrow as pa

from ..bookkeeping import Bookkeeping, RowOutcome
from ..private import private_file, private_folder
from .audit import write_audit
from .connection import StateConnection
from .dialect import quote
from .locks import DEFAULT_LEASE, AdvisoryLocks, LeaseLocks, StateLocks
from .schema import ensure_schema
from .snapshots import WarehouseSnapshotStore

__all__ = ["RUN_FILE_CHUNK", "WarehouseStateStore"]

# Run files are stored in parts of this many bytes (every engine's binary column takes it).
RUN_FILE_CHUNK = 4 << 20

_TABLES = ("runs", "steps", "row_outcomes", "checkpoints", "locks", "run_files")
_OUTCOMES_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("step_id", pa.string()),
        ("key", pa.string()),
        ("outcome", pa.string()),
        ("field", pa.string()),
        ("reason", pa.string()),
    ]
)


class WarehouseStateStore(Bookkeeping):
    """Run records, the journal and locks in tables of ``schema``.

    ``lease``: seconds a lock row's lease lasts on engines that lock with one (Snowflake);
    by default the connection's (``?lock_lease=`` of its URL), else ``DEFAULT_LEASE``."""

    def __init__(
        self, connection: StateConnection, schema: str, *, lease: float | None = None
    ) -> None:
        self.connection = connection
        self.schema = schema
        self._dialect = connection.dialect
        ensure_schema(connection, schema)
        self._locks: StateLocks
        if self._dialect.locking == "lease":
            chosen = lease or connection.lock_lease or DEFAULT_LEASE
            self._locks = LeaseLocks(connection, schema, self._sql, float(chosen))
        else:
            self._locks = AdvisoryLocks(connection, schema, self._sql)

    def _t(self, table: str) -> str:
        return f"{quote(self.schema)}.{quote(table)}"

    @property
    def name(self) -> str:
        """Where the state lives, for messages: the connection and the schema."""
        return f"{self.connection.name} (schema {self.schema})"

    def snapshots(self) -> WarehouseSnapshotStore:
        """The snapshots kept beside this state (same connection, same schema)."""
        return WarehouseSnapshotStore(self.connection, self.schema)

    def write_audit(
        self, destination: str, target: str, run_id: str, changes: Iterable[pa.RecordBatch]
    ) -> int:
        """Record a run's member changes in ``destination``'s audit table (``audit.py``)."""
        return write_audit(self.connection, self.schema, destination, target, run_id, changes)

    def close(self) -> None:
        self._locks.close()
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the SQL primitives of the bookkeeping (``state/bookkeeping.py``) -------------------

    def _sql(self, statement: str) -> str:
        """``statement`` with ``{runs}``-style table slots filled and the dialect applied."""
        return self._dialect.sql(statement, seq="seq", **{name: self._t(name) for name in _TABLES})

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.connection.execute(sql, params)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.connection.rows(sql, params)

    def _atomic(self) -> AbstractContextManager[Any]:
        return self.connection.transaction()

    def _insert_outcomes(
        self, run_id: str, step_id: str | None, outcomes: list[RowOutcome]
    ) -> None:
        self.connection.ingest(
            self.schema, "row_outcomes", _outcomes_table(run_id, step_id, outcomes)
        )

    def _now(self) -> datetime:
        return datetime.now(UTC)

    # -- locks ----------------------------------------------------------------------------------

    def acquire_lock(self, resource: str, run_id: str) -> None:
        """Take ``resource`` for ``run_id`` across hosts (``locks.py``); a lock another live
        run holds raises :class:`LockHeld` naming it."""
        self._locks.acquire(resource, run_id)

    def relabel_locks(self, old: str, new: str) -> None:
        """Name the locks this store holds as ``old`` after the run holding them, ``new``."""
        self._locks.relabel(old, new)

    def release_lock(self, resource: str, run_id: str) -> None:
        self._locks.release(resource, run_id)

    def force_unlock(self, resource: str) -> bool:
        """Forget the holder recorded for ``resource`` (on PostgreSQL the advisory lock itself
        cannot be taken from a live session: the server frees it when that session ends)."""
        return self._locks.force_unlock(resource)

    # -- run files --------------------------------------------------------------------------

    def save_run_file(self, run_id: str, name: str, path: Path) -> None:
        """Keep a copy of ``path`` (a run's plan file) as ``name`` until the run finishes."""
        data = path.read_bytes()
        parts = [
            (run_id, name, index, data[offset : offset + RUN_FILE_CHUNK])
            for index, offset in enumerate(range(0, max(len(data), 1), RUN_FILE_CHUNK))
        ]
        with self.connection.transaction():
            self.connection.execute(
                self._sql("DELETE FROM {run_files} WHERE run_id = ? AND name = ?"),
                (run_id, name),
            )
            self.connection.many(
                self._sql("INSERT INTO {run_files} (run_id, name, part, data) VALUES (?, ?, ?, ?)"),
                parts,
            )

    def restore_run_files(self, run_id: str, folder: Path) -> int:
        """Write the files kept for ``run_id`` into ``folder`` (replacing what is there);
        returns how many."""
        names = [
            str(row[0])
            for row in self.connection.rows(
                self._sql("SELECT DISTINCT name FROM {run_files} WHERE run_id = ?"), (run_id,)
            )
        ]
        for name in names:
            target = folder / name
            if target.resolve().parent != folder.resolve() and folder.resolve() not in (
                target.resolve().parents
            ):
                raise ValueError(f"not a run file name: {name!r}")
            private_folder(target.parent)
            staged = private_file(target.with_name(target.name + ".staged"))
            with open(staged, "wb") as handle:
                for (chunk,) in self.connection.rows(
                    self._sql(
                        "SELECT data FROM {run_files} WHERE run_id = ? AND name = ? ORDER BY part"
                    ),
                    (run_id, name),
                ):
                    handle.write(bytes(chunk))
            os.replace(staged, target)
        return len(names)

    def drop_run_files(self, run_id: str) -> None:
        self.connection.execute(self._sql("DELETE FROM {run_files} WHERE run_id = ?"), (run_id,))


def _outcomes_table(run_id: str, step_id: str | None, outcomes: list[RowOutcome]) -> pa.Table:
    return pa.table(
        [
            [run_id] * len(outcomes),
            [step_id] * len(outcomes),
            [o.key for o in outcomes],
            [o.outcome for o in outcomes],
            [o.field for o in outcomes],
            [o.reason for o in outcomes],
        ],
        schema=_OUTCOMES_SCHEMA,
    )
