"""The run bookkeeping every state store shares: runs, the step journal, row outcomes and
checkpoints, written once over four SQL primitives.

The local store (``store.py``, SQLite) and the warehouse store (``warehouse/store.py``,
PostgreSQL and Snowflake) differ only in how a statement reaches the database, how a
timestamp is bound, how many outcome rows are inserted at once, and which column keeps
insertion order (SQLite's ``rowid``, the warehouse tables' ``seq``). Each subclass supplies
those; the statements and their meaning (what "resumable" relies on) live here alone. Locks
are not here: how a lock is held is what differs most between stores.

Statements use ``{runs}``-style table slots, a ``{seq}`` slot for the insertion-order column
and ``?`` placeholders; :meth:`Bookkeeping._sql` turns them into the store's SQL.
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = [
    "Bookkeeping",
    "RowOutcome",
    "Run",
    "RunStatus",
    "Step",
    "StepStatus",
    "fill",
    "iso_text",
    "new_run_id",
]

RunStatus = Literal["running", "succeeded", "partial", "failed", "interrupted", "refused"]
StepStatus = Literal["pending", "submitted", "done", "failed"]

_RUN_COLUMNS = "run_id, kind, target, status, started_at, finished_at, counts, details, error"
_STEP_COLUMNS = "run_id, step_id, kind, status, payload, external_id, result"


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


def fill(statement: str, slots: dict[str, str]) -> str:
    """``statement`` with each ``{name}`` of ``slots`` replaced."""
    for name, value in slots.items():
        statement = statement.replace("{" + name + "}", value)
    return statement


def new_run_id() -> str:
    """A run id: sortable by start time, unique across hosts."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def iso_text(value: datetime | str | None) -> str | None:
    """A timestamp as the stores hand it out (ISO 8601, milliseconds, UTC); text as stored."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:  # a TIMESTAMP without zone holds UTC (we only write UTC)
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


class Bookkeeping(ABC):
    """Runs, the journal, row outcomes and checkpoints over a subclass's SQL primitives."""

    # -- what a store supplies --------------------------------------------------------------

    @abstractmethod
    def _sql(self, statement: str) -> str:
        """``statement`` with its table slots, ``{seq}`` and placeholders filled."""

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _atomic(self) -> AbstractContextManager[Any]:
        """A block whose statements commit together or not at all."""

    @abstractmethod
    def _insert_outcomes(
        self, run_id: str, step_id: str | None, outcomes: list[RowOutcome]
    ) -> None:
        """Insert row outcomes (inside the caller's :meth:`_atomic` block, if any)."""

    @abstractmethod
    def _now(self) -> object:
        """The current time as this store binds it."""

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, kind: str, target: str, details: dict[str, Any] | None = None) -> Run:
        run_id = new_run_id()
        self._execute(
            self._sql(
                "INSERT INTO {runs} (run_id, kind, target, status, started_at, counts, details) "
                "VALUES (?, ?, ?, 'running', ?, '{}', ?)"
            ),
            (run_id, kind, target, self._now(), json.dumps(details or {})),
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
        self._execute(
            self._sql(
                "UPDATE {runs} SET status = ?, finished_at = ?, counts = ?, details = ?, "
                "error = ? WHERE run_id = ?"
            ),
            (status, self._now(), json.dumps(counts or {}), json.dumps(merged), error, run_id),
        )
        return self.run(run_id)

    def reopen_run(self, run_id: str) -> Run:
        """Mark a killed or failed run ``running`` again, to finish its journal."""
        self._execute(
            self._sql(
                "UPDATE {runs} SET status = 'running', finished_at = NULL, error = NULL "
                "WHERE run_id = ?"
            ),
            (run_id,),
        )
        return self.run(run_id)

    def update_run(self, run_id: str, *, details: dict[str, Any]) -> None:
        current = self.run(run_id)
        self._execute(
            self._sql("UPDATE {runs} SET details = ? WHERE run_id = ?"),
            (json.dumps({**current.details, **details}), run_id),
        )

    def run(self, run_id: str) -> Run:
        rows = self._rows(
            self._sql(f"SELECT {_RUN_COLUMNS} FROM {{runs}} WHERE run_id = ?"), (run_id,)
        )
        if not rows:
            raise KeyError(f"no run {run_id!r}")
        return _run(rows[0])

    def runs(
        self, kind: str | None = None, target: str | None = None, limit: int = 50
    ) -> list[Run]:
        where, params = _filters(kind=kind, target=target)
        rows = self._rows(
            self._sql(
                f"SELECT {_RUN_COLUMNS} FROM {{runs}}{where} "
                f"ORDER BY started_at DESC, {{seq}} DESC LIMIT {int(limit)}"
            ),
            params,
        )
        return [_run(row) for row in rows]

    def unfinished_run(self, kind: str, target: str) -> Run | None:
        """The most recent run of ``target`` that never finished (killed), to resume from."""
        rows = self._rows(
            self._sql(
                f"SELECT {_RUN_COLUMNS} FROM {{runs}} WHERE kind = ? AND target = ? "
                "AND status = 'running' ORDER BY started_at DESC, {seq} DESC LIMIT 1"
            ),
            (kind, target),
        )
        return _run(rows[0]) if rows else None

    def last_successful_run(self, kind: str, target: str) -> Run | None:
        rows = self._rows(
            self._sql(
                f"SELECT {_RUN_COLUMNS} FROM {{runs}} WHERE kind = ? AND target = ? "
                "AND status IN ('succeeded', 'partial') ORDER BY started_at DESC, {seq} DESC "
                "LIMIT 1"
            ),
            (kind, target),
        )
        return _run(rows[0]) if rows else None

    # -- the journal ------------------------------------------------------------------------

    def plan_step(self, run_id: str, step_id: str, kind: str, payload: dict[str, Any]) -> Step:
        """Record a step before doing it; planning the same step again keeps the first record."""
        with self._atomic():
            known = self._rows(
                self._sql("SELECT 1 FROM {steps} WHERE run_id = ? AND step_id = ?"),
                (run_id, step_id),
            )
            if not known:
                self._execute(
                    self._sql(
                        "INSERT INTO {steps} (run_id, step_id, kind, status, payload, "
                        "updated_at) VALUES (?, ?, ?, 'pending', ?, ?)"
                    ),
                    (run_id, step_id, kind, json.dumps(payload), self._now()),
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
        params: list[Any] = [status, self._now()]
        if external_id is not None:
            assignments.append("external_id = ?")
            params.append(external_id)
        if result is not None:
            assignments.append("result = ?")
            params.append(json.dumps(result))
        self._execute(
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
        listed = list(outcomes)
        with self._atomic():
            self._execute(
                self._sql("DELETE FROM {row_outcomes} WHERE run_id = ? AND step_id = ?"),
                (run_id, step_id),
            )
            if listed:
                self._insert_outcomes(run_id, step_id, listed)
            self._execute(
                self._sql(
                    "UPDATE {steps} SET status = 'done', result = ?, updated_at = ? "
                    "WHERE run_id = ? AND step_id = ?"
                ),
                (json.dumps(result), self._now(), run_id, step_id),
            )
        return self.step(run_id, step_id)

    def step(self, run_id: str, step_id: str) -> Step:
        rows = self._rows(
            self._sql(f"SELECT {_STEP_COLUMNS} FROM {{steps}} WHERE run_id = ? AND step_id = ?"),
            (run_id, step_id),
        )
        if not rows:
            raise KeyError(f"no step {step_id!r} in run {run_id!r}")
        return _step(rows[0])

    def steps(self, run_id: str) -> list[Step]:
        rows = self._rows(
            self._sql(f"SELECT {_STEP_COLUMNS} FROM {{steps}} WHERE run_id = ? ORDER BY {{seq}}"),
            (run_id,),
        )
        return [_step(row) for row in rows]

    # -- row-level outcomes -----------------------------------------------------------------

    def record_outcomes(
        self, run_id: str, outcomes: Iterable[RowOutcome], step_id: str | None = None
    ) -> int:
        listed = list(outcomes)
        if listed:
            with self._atomic():
                self._insert_outcomes(run_id, step_id, listed)
        return len(listed)

    def outcomes(
        self, run_id: str, outcome: str | None = None, limit: int | None = None
    ) -> list[RowOutcome]:
        where, params = _filters(run_id=run_id, outcome=outcome)
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        rows = self._rows(
            self._sql(
                f"SELECT key, outcome, field, reason FROM {{row_outcomes}}{where} "
                f"ORDER BY {{seq}}{tail}"
            ),
            params,
        )
        return [RowOutcome(*row) for row in rows]

    def outcome_breakdown(self, run_id: str) -> list[tuple[str, str | None, int]]:
        """(outcome, field, rows) of a run's row outcomes, most rows first."""
        rows = self._rows(
            self._sql(
                "SELECT outcome, field, count(*) FROM {row_outcomes} WHERE run_id = ? "
                "GROUP BY outcome, field ORDER BY 3 DESC, 1, 2"
            ),
            (run_id,),
        )
        return [(str(o), f, int(n)) for o, f, n in rows]

    def outcome_counts(self, run_id: str) -> dict[str, int]:
        rows = self._rows(
            self._sql(
                "SELECT outcome, count(*) FROM {row_outcomes} WHERE run_id = ? "
                "GROUP BY outcome ORDER BY 1"
            ),
            (run_id,),
        )
        return {str(o): int(n) for o, n in rows}

    # -- checkpoints ----------------------------------------------------------------------------

    def checkpoint(self, scope: str, name: str) -> str | None:
        rows = self._rows(
            self._sql("SELECT value FROM {checkpoints} WHERE scope = ? AND name = ?"),
            (scope, name),
        )
        return str(rows[0][0]) if rows else None

    def set_checkpoint(self, scope: str, name: str, value: str) -> None:
        with self._atomic():
            self._execute(
                self._sql("DELETE FROM {checkpoints} WHERE scope = ? AND name = ?"),
                (scope, name),
            )
            self._execute(
                self._sql(
                    "INSERT INTO {checkpoints} (scope, name, value, updated_at) VALUES (?, ?, ?, ?)"
                ),
                (scope, name, value, self._now()),
            )


def _filters(**values: str | None) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause for the columns given a value (None: any)."""
    chosen = {k: v for k, v in values.items() if v is not None}
    if not chosen:
        return "", ()
    return " WHERE " + " AND ".join(f"{k} = ?" for k in chosen), tuple(chosen.values())


def _run(row: tuple[Any, ...]) -> Run:
    run_id, kind, target, status, started, finished, counts, details, error = row
    return Run(
        run_id,
        kind,
        target,
        status,
        iso_text(started) or "",
        iso_text(finished),
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
