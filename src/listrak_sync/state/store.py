"""The state store: run history, the run journal, row-level outcomes, checkpoints and locks.

One SQLite file in WAL mode next to the project (``.listrak-sync/state.sqlite`` by default).
WAL lets a reader (``listrak-sync runs``, the web app) look while a sync writes, and every change
is committed before the action it records is taken, so a run killed at any point leaves a journal
the next run can finish from. Large per-contact data (snapshots, ownership) does not live here but
in Parquet files beside it (see ``snapshots.py``); this file stays small and fast.

Nothing secret is ever written here: callers pass counts, ids and reasons, never credentials.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ..errors import ExitCode, ListrakSyncError
from .sqlite import WalDatabase

__all__ = [
    "LockHeld",
    "RowOutcome",
    "Run",
    "RunStatus",
    "StateStore",
    "Step",
    "StepStatus",
]

RunStatus = Literal["running", "succeeded", "partial", "failed", "interrupted", "refused"]
StepStatus = Literal["pending", "submitted", "done", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,            -- sync, pull, export
    target TEXT NOT NULL,          -- campaign/destination or source name
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    counts TEXT NOT NULL DEFAULT '{}',
    details TEXT NOT NULL DEFAULT '{}',
    error TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_target ON runs (kind, target, started_at);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    external_id TEXT,
    result TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (run_id, step_id)
);
CREATE TABLE IF NOT EXISTS row_outcomes (
    run_id TEXT NOT NULL,
    step_id TEXT,
    key TEXT NOT NULL,
    outcome TEXT NOT NULL,
    field TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS row_outcomes_by_run ON row_outcomes (run_id, outcome);
CREATE TABLE IF NOT EXISTS checkpoints (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (scope, name)
);
CREATE TABLE IF NOT EXISTS locks (
    resource TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    acquired_at TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class LockHeld(ListrakSyncError):
    """Another live run holds the resource (e.g. the same SMS list)."""

    exit_code = ExitCode.LOCK_HELD

    def __init__(
        self,
        resource: str,
        run_id: str,
        host: str,
        pid: int,
        since: str | None = None,
        *,
        live: bool = False,
    ) -> None:
        """``live``: the lock is a warehouse's advisory lock, which its server frees when the
        holder's session ends, so it is never stale (nothing to free by hand)."""
        holder = f"run {run_id}" if not run_id.startswith("pid-") else "a run starting"
        local = host == socket.gethostname()
        super().__init__(
            f"{resource} is in use by {holder} (pid {pid} on {host}"
            + (f", since {since}" if since else "")
            + "); it is still running, so this command did nothing: run it again when that one "
            "has finished (`listrak-sync runs` shows it)."
            + (
                " The warehouse frees this lock when that run's connection ends."
                if live
                else ""
                if local
                else " A lock from another host is never presumed stale; if that machine is "
                f"gone for good, free it with `listrak-sync runs --unlock '{resource}'`."
            )
        )
        self.resource = resource
        self.run_id = run_id


@dataclass(frozen=True)
class Run:
    run_id: str
    kind: str
    target: str
    status: RunStatus
    started_at: str
    finished_at: str | None
    counts: dict[str, int]
    details: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class Step:
    run_id: str
    step_id: str
    kind: str
    status: StepStatus
    payload: dict[str, Any]
    external_id: str | None
    result: dict[str, Any] | None


@dataclass(frozen=True)
class RowOutcome:
    key: str
    outcome: str  # e.g. invalid_email, previously_unsubscribed, opted_out, banned, error
    field: str | None = None
    reason: str | None = None


class StateStore(WalDatabase):
    """Run records and the journal that makes runs resumable."""

    def __init__(self, path: Path | str) -> None:
        # NORMAL: a commit survives the process being killed (what resuming relies on); only
        # an OS crash or power loss may drop the last ones.
        super().__init__(path, schema=_SCHEMA, synchronous="NORMAL")

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, kind: str, target: str, details: dict[str, Any] | None = None) -> Run:
        run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self._db.execute(
            "INSERT INTO runs (run_id, kind, target, status, started_at, details) "
            "VALUES (?, ?, ?, 'running', ?, ?)",
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
        self._db.execute(
            "UPDATE runs SET status = ?, finished_at = ?, counts = ?, details = ?, error = ? "
            "WHERE run_id = ?",
            (status, _now(), json.dumps(counts or {}), json.dumps(merged), error, run_id),
        )
        return self.run(run_id)

    def reopen_run(self, run_id: str) -> Run:
        """Mark a killed or failed run ``running`` again, to finish its journal."""
        self._db.execute(
            "UPDATE runs SET status = 'running', finished_at = NULL, error = NULL WHERE run_id = ?",
            (run_id,),
        )
        return self.run(run_id)

    def update_run(self, run_id: str, *, details: dict[str, Any]) -> None:
        current = self.run(run_id)
        self._db.execute(
            "UPDATE runs SET details = ? WHERE run_id = ?",
            (json.dumps({**current.details, **details}), run_id),
        )

    def run(self, run_id: str) -> Run:
        row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id!r}")
        return _run(row)

    def runs(
        self, kind: str | None = None, target: str | None = None, limit: int = 50
    ) -> list[Run]:
        query = "SELECT * FROM runs WHERE (? IS NULL OR kind = ?) AND (? IS NULL OR target = ?)"
        rows = self._db.execute(
            f"{query} ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (kind, kind, target, target, limit),
        ).fetchall()
        return [_run(row) for row in rows]

    def unfinished_run(self, kind: str, target: str) -> Run | None:
        """The most recent run of ``target`` that never finished (killed), to resume from."""
        row = self._db.execute(
            "SELECT * FROM runs WHERE kind = ? AND target = ? AND status = 'running' "
            "ORDER BY started_at DESC, rowid DESC LIMIT 1",
            (kind, target),
        ).fetchone()
        return _run(row) if row else None

    def last_successful_run(self, kind: str, target: str) -> Run | None:
        row = self._db.execute(
            "SELECT * FROM runs WHERE kind = ? AND target = ? "
            "AND status IN ('succeeded', 'partial') ORDER BY started_at DESC, rowid DESC LIMIT 1",
            (kind, target),
        ).fetchone()
        return _run(row) if row else None

    # -- the journal ------------------------------------------------------------------------

    def plan_step(self, run_id: str, step_id: str, kind: str, payload: dict[str, Any]) -> Step:
        """Record a step before doing it; planning the same step again keeps the first record."""
        self._db.execute(
            "INSERT OR IGNORE INTO steps (run_id, step_id, kind, status, payload, updated_at) "
            "VALUES (?, ?, ?, 'pending', ?, ?)",
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
        self._db.execute(
            "UPDATE steps SET status = ?, external_id = COALESCE(?, external_id), "
            "result = COALESCE(?, result), updated_at = ? WHERE run_id = ? AND step_id = ?",
            (
                status,
                external_id,
                json.dumps(result) if result is not None else None,
                _now(),
                run_id,
                step_id,
            ),
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
        rows = [(run_id, step_id, o.key, o.outcome, o.field, o.reason) for o in outcomes]
        with self.transaction() as db:
            db.execute(
                "DELETE FROM row_outcomes WHERE run_id = ? AND step_id = ?", (run_id, step_id)
            )
            db.executemany("INSERT INTO row_outcomes VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.execute(
                "UPDATE steps SET status = 'done', result = ?, updated_at = ? "
                "WHERE run_id = ? AND step_id = ?",
                (json.dumps(result), _now(), run_id, step_id),
            )
        return self.step(run_id, step_id)

    def step(self, run_id: str, step_id: str) -> Step:
        row = self._db.execute(
            "SELECT * FROM steps WHERE run_id = ? AND step_id = ?", (run_id, step_id)
        ).fetchone()
        if row is None:
            raise KeyError(f"no step {step_id!r} in run {run_id!r}")
        return _step(row)

    def steps(self, run_id: str) -> list[Step]:
        rows = self._db.execute(
            "SELECT * FROM steps WHERE run_id = ? ORDER BY rowid", (run_id,)
        ).fetchall()
        return [_step(row) for row in rows]

    # -- row-level outcomes -----------------------------------------------------------------

    def record_outcomes(
        self, run_id: str, outcomes: Iterable[RowOutcome], step_id: str | None = None
    ) -> int:
        rows = [(run_id, step_id, o.key, o.outcome, o.field, o.reason) for o in outcomes]
        with self.transaction() as db:
            db.executemany("INSERT INTO row_outcomes VALUES (?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def outcomes(
        self, run_id: str, outcome: str | None = None, limit: int | None = None
    ) -> list[RowOutcome]:
        rows = self._db.execute(
            "SELECT key, outcome, field, reason FROM row_outcomes "
            "WHERE run_id = ? AND (? IS NULL OR outcome = ?) ORDER BY rowid LIMIT ?",
            (run_id, outcome, outcome, -1 if limit is None else limit),
        ).fetchall()
        return [RowOutcome(*row) for row in rows]

    def outcome_breakdown(self, run_id: str) -> list[tuple[str, str | None, int]]:
        """(outcome, field, rows) of a run's row outcomes, most rows first."""
        rows = self._db.execute(
            "SELECT outcome, field, count(*) FROM row_outcomes WHERE run_id = ? "
            "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
            (run_id,),
        ).fetchall()
        return [(str(o), f, int(n)) for o, f, n in rows]

    def outcome_counts(self, run_id: str) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT outcome, count(*) FROM row_outcomes WHERE run_id = ? GROUP BY 1 ORDER BY 1",
            (run_id,),
        ).fetchall()
        return dict(rows)

    # -- checkpoints ----------------------------------------------------------------------------

    def checkpoint(self, scope: str, name: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM checkpoints WHERE scope = ? AND name = ?", (scope, name)
        ).fetchone()
        return row[0] if row else None

    def set_checkpoint(self, scope: str, name: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO checkpoints VALUES (?, ?, ?, ?) ON CONFLICT (scope, name) "
            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (scope, name, value, _now()),
        )

    # -- locks ----------------------------------------------------------------------------------

    def acquire_lock(self, resource: str, run_id: str) -> None:
        """Take ``resource`` for ``run_id``; a lock left by a dead process on this host is
        taken over, a live one raises :class:`LockHeld`."""
        host, pid = socket.gethostname(), os.getpid()
        with self.transaction() as db:
            row = db.execute(
                "SELECT run_id, host, pid, acquired_at FROM locks WHERE resource = ?", (resource,)
            ).fetchone()
            if row is not None and row[0] != run_id and not _stale(row[1], row[2]):
                raise LockHeld(resource, row[0], row[1], row[2], row[3])
            db.execute(
                "INSERT OR REPLACE INTO locks VALUES (?, ?, ?, ?, ?)",
                (resource, run_id, host, pid, _now()),
            )

    def relabel_locks(self, old: str, new: str) -> None:
        """Name the locks this process took as ``old`` after the run holding them, ``new`` (a
        run takes its locks before it has an id), so a refused sync can name that run."""
        self._db.execute(
            "UPDATE locks SET run_id = ? WHERE run_id = ? AND host = ? AND pid = ?",
            (new, old, socket.gethostname(), os.getpid()),
        )

    def release_lock(self, resource: str, run_id: str) -> None:
        self._db.execute("DELETE FROM locks WHERE resource = ? AND run_id = ?", (resource, run_id))

    def force_unlock(self, resource: str) -> bool:
        return self._db.execute("DELETE FROM locks WHERE resource = ?", (resource,)).rowcount > 0


def _stale(host: str, pid: int) -> bool:
    """A lock is stale when its process is gone. Locks from other hosts are never presumed
    stale: we cannot see their processes."""
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _run(row: tuple[Any, ...]) -> Run:
    run_id, kind, target, status, started, finished, counts, details, error = row
    return Run(
        run_id,
        kind,
        target,
        status,
        started,
        finished,
        json.loads(counts),
        json.loads(details),
        error,
    )


def _step(row: tuple[Any, ...]) -> Step:
    run_id, step_id, kind, status, payload, external_id, result, _ = row
    return Step(
        run_id,
        step_id,
        kind,
        status,
        json.loads(payload),
        external_id,
        json.loads(result) if result else None,
    )
