"""The state store: run history, the run journal, row-level outcomes, checkpoints and locks.

One SQLite file in WAL mode next to the project (``.listrak-sync/state.sqlite`` by default).
WAL lets a reader (``listrak-sync runs``, the web app) look while a sync writes, and every change
is committed before the action it records is taken, so a run killed at any point leaves a journal
the next run can finish from. Large per-contact data (snapshots, ownership) does not live here but
in Parquet files beside it (see ``snapshots.py``); this file stays small and fast.

Nothing secret is ever written here: callers pass counts, ids and reasons, never credentials.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ExitCode, ListrakSyncError
from .bookkeeping import Bookkeeping, RowOutcome, Run, RunStatus, Step, StepStatus, fill
from .sqlite import WalDatabase

__all__ = [
    "LockHeld",
    "RowOutcome",
    "Run",
    "RunStatus",
    "StateStore",
    "Step",
    "StepStatus",
    "stale_process",
]

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


# The bookkeeping's table slots; SQLite's rowid keeps insertion order.
_SLOTS = {
    "runs": "runs",
    "steps": "steps",
    "row_outcomes": "row_outcomes",
    "checkpoints": "checkpoints",
    "seq": "rowid",
}


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
        lease_ends: str | None = None,
    ) -> None:
        """``live``: the lock is a warehouse's advisory lock, which its server frees when the
        holder's session ends, so it is never stale (nothing to free by hand). ``lease_ends``:
        the lock is a warehouse's lock row, which its holder renews while it runs; when its
        lease runs out unless renewed."""
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
                else " That run renews its lock while it runs; if it is gone, the lock is "
                f"taken over when its lease runs out ({lease_ends}, lock_lease)."
                if lease_ends is not None
                else ""
                if local
                else " A lock from another host is never presumed stale; if that machine is "
                f"gone for good, free it with `listrak-sync runs --unlock '{resource}'`."
            )
        )
        self.resource = resource
        self.run_id = run_id


class StateStore(WalDatabase, Bookkeeping):
    """Run records and the journal that makes runs resumable (the bookkeeping is shared with
    the warehouse store: ``bookkeeping.py``; the locks are this file's own)."""

    def __init__(self, path: Path | str) -> None:
        # NORMAL: a commit survives the process being killed (what resuming relies on); only
        # an OS crash or power loss may drop the last ones.
        super().__init__(path, schema=_SCHEMA, synchronous="NORMAL")

    # -- the SQL primitives of the bookkeeping ------------------------------------------------

    def _sql(self, statement: str) -> str:
        return fill(statement, _SLOTS)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._db.execute(sql, tuple(params))

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._db.execute(sql, tuple(params)).fetchall()]

    def _atomic(self) -> AbstractContextManager[Any]:
        return self.transaction()

    def _insert_outcomes(
        self, run_id: str, step_id: str | None, outcomes: list[RowOutcome]
    ) -> None:
        self._db.executemany(
            "INSERT INTO row_outcomes VALUES (?, ?, ?, ?, ?, ?)",
            [(run_id, step_id, o.key, o.outcome, o.field, o.reason) for o in outcomes],
        )

    def _now(self) -> str:
        return _now()

    # -- locks ----------------------------------------------------------------------------------

    def acquire_lock(self, resource: str, run_id: str) -> None:
        """Take ``resource`` for ``run_id``; a lock left by a dead process on this host is
        taken over, a live one raises :class:`LockHeld`."""
        host, pid = socket.gethostname(), os.getpid()
        with self.transaction() as db:
            row = db.execute(
                "SELECT run_id, host, pid, acquired_at FROM locks WHERE resource = ?", (resource,)
            ).fetchone()
            if row is not None and row[0] != run_id and not stale_process(row[1], row[2]):
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


def stale_process(host: str, pid: int) -> bool:
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
    return _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed process whose parent died too waits as a zombie until init reaps it, which a
    container's init may never do: it holds nothing any more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # pid (comm) state ...: comm may hold spaces, so read after its last ")".
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
