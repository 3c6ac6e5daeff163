"""The state store in warehouse tables: what :class:`~listrak_sync.state.StateStore` keeps in
``.listrak-sync/state.sqlite``, with the same methods and the same meaning, in the state
schema of a PostgreSQL database.

Differences that matter:

- Locks are the server's advisory locks, taken on this store's own session (see
  ``connection.py``), so they hold across hosts and are freed by the server when the process
  holding them dies. The ``locks`` table only names the holder, for the message a refused
  run prints.
- An unfinished run's plan files (``plan.parquet``, ``previous.parquet``, the per-step
  results) are copied into ``run_files`` (:meth:`save_run_file`), so a run killed on one host
  is finished from another working directory (:meth:`restore_run_files`).
- Each finished sync writes one row per member change to its destination's audit table
  (``audit.py``).

Nothing secret is written: callers pass counts, ids and reasons, never credentials.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import pyarrow as pa

from ..private import private_file, private_folder
from ..store import LockHeld, RowOutcome, Run, RunStatus, Step, StepStatus
from .audit import write_audit
from .connection import StateConnection, lock_key
from .dialect import quote
from .schema import ensure_schema
from .snapshots import WarehouseSnapshotStore

__all__ = ["RUN_FILE_CHUNK", "WarehouseStateStore"]

# Run files are stored in parts of this many bytes (every engine's binary column takes it).
RUN_FILE_CHUNK = 4 << 20

_TABLES = ("runs", "steps", "row_outcomes", "checkpoints", "locks", "run_files")
_RUN_COLUMNS = "run_id, kind, target, status, started_at, finished_at, counts, details, error"
_STEP_COLUMNS = "run_id, step_id, kind, status, payload, external_id, result"
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


def _now() -> datetime:
    return datetime.now(UTC)


def _text(value: datetime | str | None) -> str | None:
    """A timestamp as the local store writes it (ISO 8601, milliseconds, UTC)."""
    if value is None or isinstance(value, str):
        return value
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


class WarehouseStateStore:
    """Run records, the journal and locks in tables of ``schema``."""

    def __init__(self, connection: StateConnection, schema: str) -> None:
        self.connection = connection
        self.schema = schema
        self._dialect = connection.dialect
        self._held: dict[str, int] = {}  # resource -> advisory lock key, held by this session
        ensure_schema(connection, schema)

    def _t(self, table: str) -> str:
        return f"{quote(self.schema)}.{quote(table)}"

    def _sql(self, statement: str) -> str:
        """``statement`` with ``{runs}``-style table slots filled and the dialect applied."""
        return self._dialect.sql(statement, **{name: self._t(name) for name in _TABLES})

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
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, kind: str, target: str, details: dict[str, Any] | None = None) -> Run:
        run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self.connection.execute(
            self._sql(
                "INSERT INTO {runs} (run_id, kind, target, status, started_at, counts, details) "
                "VALUES (?, ?, ?, 'running', ?, '{}', ?)"
            ),
            (run_id, kind, target, _now(), json.dumps(details or {})),
        )
        return self.run(run_id)

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        counts: dict[str, int] | None = None,
        *,
        details: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> Run:
        current = self.run(run_id)
        merged = {**current.details, **(details or {})}
        self.connection.execute(
            self._sql(
                "UPDATE {runs} SET status = ?, finished_at = ?, counts = ?, details = ?, "
                "error = ? WHERE run_id = ?"
            ),
            (status, _now(), json.dumps(counts or {}), json.dumps(merged), error, run_id),
        )
        return self.run(run_id)

    def reopen_run(self, run_id: str) -> Run:
        """Mark a killed or failed run ``running`` again, to finish its journal."""
        self.connection.execute(
            self._sql(
                "UPDATE {runs} SET status = 'running', finished_at = NULL, error = NULL "
                "WHERE run_id = ?"
            ),
            (run_id,),
        )
        return self.run(run_id)

    def update_run(self, run_id: str, *, details: dict[str, Any]) -> None:
        current = self.run(run_id)
        self.connection.execute(
            self._sql("UPDATE {runs} SET details = ? WHERE run_id = ?"),
            (json.dumps({**current.details, **details}), run_id),
        )

    def run(self, run_id: str) -> Run:
        rows = self.connection.rows(
            self._sql(f"SELECT {_RUN_COLUMNS} FROM {{runs}} WHERE run_id = ?"), (run_id,)
        )
        if not rows:
            raise KeyError(f"no run {run_id!r}")
        return _run(rows[0])

    def runs(
        self, kind: str | None = None, target: str | None = None, limit: int = 50
    ) -> list[Run]:
        where, params = _filters(kind=kind, target=target)
        rows = self.connection.rows(
            self._sql(
                f"SELECT {_RUN_COLUMNS} FROM {{runs}}{where} "
                f"ORDER BY started_at DESC, seq DESC LIMIT {int(limit)}"
            ),
            params,
        )
        return [_run(row) for row in rows]

    def unfinished_run(self, kind: str, target: str) -> Run | None:
        """The most recent run of ``target`` that never finished (killed), to resume from."""
        rows = self.connection.rows(
            self._sql(
                f"SELECT {_RUN_COLUMNS} FROM {{runs}} WHERE kind = ? AND target = ? "
                "AND status = 'running' ORDER BY started_at DESC, seq DESC LIMIT 1"
            ),
            (kind, target),
        )
        return _run(rows[0]) if rows else None

    def last_successful_run(self, kind: str, target: str) -> Run | None:
        rows = self.connection.rows(
            self._sql(
                f"SELECT {_RUN_COLUMNS} FROM {{runs}} WHERE kind = ? AND target = ? "
                "AND status IN ('succeeded', 'partial') ORDER BY started_at DESC, seq DESC "
                "LIMIT 1"
            ),
            (kind, target),
        )
        return _run(rows[0]) if rows else None

    # -- the journal ------------------------------------------------------------------------

    def plan_step(self, run_id: str, step_id: str, kind: str, payload: dict[str, Any]) -> Step:
        """Record a step before doing it; planning the same step again keeps the first record."""
        with self.connection.transaction():
            known = self.connection.rows(
                self._sql("SELECT 1 FROM {steps} WHERE run_id = ? AND step_id = ?"),
                (run_id, step_id),
            )
            if not known:
                self.connection.execute(
                    self._sql(
                        "INSERT INTO {steps} (run_id, step_id, kind, status, payload, "
                        "updated_at) VALUES (?, ?, ?, 'pending', ?, ?)"
                    ),
                    (run_id, step_id, kind, json.dumps(payload), _now()),
                )
        return self.step(run_id, step_id)

    def mark_step(
        self,
        run_id: str,
        step_id: str,
        status: StepStatus,
        *,
        external_id: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> Step:
        assignments = ["status = ?", "updated_at = ?"]
        params: list[Any] = [status, _now()]
        if external_id is not None:
            assignments.append("external_id = ?")
            params.append(external_id)
        if result is not None:
            assignments.append("result = ?")
            params.append(json.dumps(result))
        self.connection.execute(
            self._sql(
                f"UPDATE {{steps}} SET {', '.join(assignments)} WHERE run_id = ? AND step_id = ?"
            ),
            (*params, run_id, step_id),
        )
        return self.step(run_id, step_id)

    def complete_step(
        self,
        run_id: str,
        step_id: str,
        result: dict[str, Any],
        outcomes: Iterable[RowOutcome] = (),
    ) -> Step:
        """Mark a step ``done`` and record its row outcomes in one transaction, so a kill
        between the two can neither lose the outcomes nor record them twice."""
        table = _outcomes_table(run_id, step_id, outcomes)
        with self.connection.transaction():
            self.connection.execute(
                self._sql("DELETE FROM {row_outcomes} WHERE run_id = ? AND step_id = ?"),
                (run_id, step_id),
            )
            if table.num_rows:
                self.connection.ingest(self.schema, "row_outcomes", table)
            self.connection.execute(
                self._sql(
                    "UPDATE {steps} SET status = 'done', result = ?, updated_at = ? "
                    "WHERE run_id = ? AND step_id = ?"
                ),
                (json.dumps(result), _now(), run_id, step_id),
            )
        return self.step(run_id, step_id)

    def step(self, run_id: str, step_id: str) -> Step:
        rows = self.connection.rows(
            self._sql(f"SELECT {_STEP_COLUMNS} FROM {{steps}} WHERE run_id = ? AND step_id = ?"),
            (run_id, step_id),
        )
        if not rows:
            raise KeyError(f"no step {step_id!r} in run {run_id!r}")
        return _step(rows[0])

    def steps(self, run_id: str) -> list[Step]:
        rows = self.connection.rows(
            self._sql(f"SELECT {_STEP_COLUMNS} FROM {{steps}} WHERE run_id = ? ORDER BY seq"),
            (run_id,),
        )
        return [_step(row) for row in rows]

    # -- row-level outcomes -----------------------------------------------------------------

    def record_outcomes(
        self, run_id: str, outcomes: Iterable[RowOutcome], step_id: str | None = None
    ) -> int:
        table = _outcomes_table(run_id, step_id, outcomes)
        if table.num_rows:
            self.connection.ingest(self.schema, "row_outcomes", table)
        return int(table.num_rows)

    def outcomes(
        self, run_id: str, outcome: str | None = None, limit: int | None = None
    ) -> list[RowOutcome]:
        where, params = _filters(run_id=run_id, outcome=outcome)
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        rows = self.connection.rows(
            self._sql(
                f"SELECT key, outcome, field, reason FROM {{row_outcomes}}{where} "
                f"ORDER BY seq{tail}"
            ),
            params,
        )
        return [RowOutcome(*row) for row in rows]

    def outcome_breakdown(self, run_id: str) -> list[tuple[str, str | None, int]]:
        """(outcome, field, rows) of a run's row outcomes, most rows first."""
        rows = self.connection.rows(
            self._sql(
                "SELECT outcome, field, count(*) FROM {row_outcomes} WHERE run_id = ? "
                "GROUP BY outcome, field ORDER BY 3 DESC, 1, 2"
            ),
            (run_id,),
        )
        return [(str(o), f, int(n)) for o, f, n in rows]

    def outcome_counts(self, run_id: str) -> dict[str, int]:
        rows = self.connection.rows(
            self._sql(
                "SELECT outcome, count(*) FROM {row_outcomes} WHERE run_id = ? "
                "GROUP BY outcome ORDER BY 1"
            ),
            (run_id,),
        )
        return {str(o): int(n) for o, n in rows}

    # -- checkpoints ----------------------------------------------------------------------------

    def checkpoint(self, scope: str, name: str) -> str | None:
        rows = self.connection.rows(
            self._sql("SELECT value FROM {checkpoints} WHERE scope = ? AND name = ?"),
            (scope, name),
        )
        return str(rows[0][0]) if rows else None

    def set_checkpoint(self, scope: str, name: str, value: str) -> None:
        with self.connection.transaction():
            self.connection.execute(
                self._sql("DELETE FROM {checkpoints} WHERE scope = ? AND name = ?"),
                (scope, name),
            )
            self.connection.execute(
                self._sql("INSERT INTO {checkpoints} VALUES (?, ?, ?, ?)"),
                (scope, name, value, _now()),
            )

    # -- locks ----------------------------------------------------------------------------------

    def acquire_lock(self, resource: str, run_id: str) -> None:
        """Take ``resource`` for ``run_id`` with an advisory lock on this store's session; a
        lock another live session holds raises :class:`LockHeld` naming its run."""
        host, pid = socket.gethostname(), os.getpid()
        if resource not in self._held:
            key = lock_key(self.schema, resource)
            if not self.connection.try_lock(key):
                rows = self.connection.rows(
                    self._sql(
                        "SELECT run_id, host, pid, acquired_at FROM {locks} WHERE resource = ?"
                    ),
                    (resource,),
                )
                holder = rows[0] if rows else ("pid-?", "another host", 0, None)
                raise LockHeld(
                    resource,
                    str(holder[0]),
                    str(holder[1]),
                    int(holder[2]),
                    _text(holder[3]),
                    live=True,
                )
            self._held[resource] = key
        with self.connection.transaction():
            self.connection.execute(
                self._sql("DELETE FROM {locks} WHERE resource = ?"), (resource,)
            )
            self.connection.execute(
                self._sql("INSERT INTO {locks} VALUES (?, ?, ?, ?, ?)"),
                (resource, run_id, host, pid, _now()),
            )

    def relabel_locks(self, old: str, new: str) -> None:
        """Name the locks this store holds as ``old`` after the run holding them, ``new``."""
        for resource in self._held:
            self.connection.execute(
                self._sql("UPDATE {locks} SET run_id = ? WHERE resource = ? AND run_id = ?"),
                (new, resource, old),
            )

    def release_lock(self, resource: str, run_id: str) -> None:
        key = self._held.pop(resource, None)
        self.connection.execute(
            self._sql("DELETE FROM {locks} WHERE resource = ? AND run_id = ?"),
            (resource, run_id),
        )
        if key is not None:
            self.connection.unlock(key)

    def force_unlock(self, resource: str) -> bool:
        """Forget the holder recorded for ``resource``. The advisory lock itself cannot be
        taken from a live session: the server frees it when that session ends."""
        rows = self.connection.rows(
            self._sql("DELETE FROM {locks} WHERE resource = ? RETURNING resource"), (resource,)
        )
        return bool(rows)

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


def _filters(**values: str | None) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause for the columns given a value (None: any)."""
    chosen = {k: v for k, v in values.items() if v is not None}
    if not chosen:
        return "", ()
    return " WHERE " + " AND ".join(f"{k} = ?" for k in chosen), tuple(chosen.values())


def _outcomes_table(run_id: str, step_id: str | None, outcomes: Iterable[RowOutcome]) -> pa.Table:
    listed = list(outcomes)
    return pa.table(
        [
            [run_id] * len(listed),
            [step_id] * len(listed),
            [o.key for o in listed],
            [o.outcome for o in listed],
            [o.field for o in listed],
            [o.reason for o in listed],
        ],
        schema=_OUTCOMES_SCHEMA,
    )


def _run(row: tuple[Any, ...]) -> Run:
    run_id, kind, target, status, started, finished, counts, details, error = row
    return Run(
        run_id,
        kind,
        target,
        status,
        _text(started) or "",
        _text(finished),
        json.loads(counts),
        json.loads(details),
        error,
    )


def _step(row: tuple[Any, ...]) -> Step:
    run_id, step_id, kind, status, payload, external_id, result = row
    return Step(
        run_id,
        step_id,
        kind,
        status,
        json.loads(payload),
        external_id,
        json.loads(result) if result else None,
    )
