"""What a sync needs from its state, wherever it lives: :class:`StateBackend` (runs, the
journal, row outcomes, checkpoints, locks) and :class:`SnapshotBackend` (last-synced
snapshots). ``.listrak-sync/`` implements them with SQLite and Parquet files (``store.py``,
``snapshots.py``); the warehouse with tables in a schema (``warehouse/``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from .store import RowOutcome, Run, RunStatus, Step, StepStatus

if TYPE_CHECKING:
    # Only named in annotations: commands that read the run records never load pyarrow.
    import pyarrow as pa

__all__ = ["SnapshotBackend", "StateBackend"]


class StateBackend(Protocol):
    """Run records and the journal that makes runs resumable (see ``store.py``)."""

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def start_run(self, kind: str, target: str, details: dict[str, Any] | None = None) -> Run: ...

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        counts: dict[str, int] | None = None,
        *,
        details: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> Run: ...

    def reopen_run(self, run_id: str) -> Run: ...

    def update_run(self, run_id: str, *, details: dict[str, Any]) -> None: ...

    def run(self, run_id: str) -> Run: ...

    def runs(
        self, kind: str | None = None, target: str | None = None, limit: int = 50
    ) -> list[Run]: ...

    def unfinished_run(self, kind: str, target: str) -> Run | None: ...

    def last_successful_run(self, kind: str, target: str) -> Run | None: ...

    def plan_step(self, run_id: str, step_id: str, kind: str, payload: dict[str, Any]) -> Step: ...

    def mark_step(
        self,
        run_id: str,
        step_id: str,
        status: StepStatus,
        *,
        external_id: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> Step: ...

    def complete_step(
        self,
        run_id: str,
        step_id: str,
        result: dict[str, Any],
        outcomes: Iterable[RowOutcome] = (),
    ) -> Step: ...

    def step(self, run_id: str, step_id: str) -> Step: ...

    def steps(self, run_id: str) -> list[Step]: ...

    def record_outcomes(
        self, run_id: str, outcomes: Iterable[RowOutcome], step_id: str | None = None
    ) -> int: ...

    def outcomes(
        self, run_id: str, outcome: str | None = None, limit: int | None = None
    ) -> list[RowOutcome]: ...

    def outcome_breakdown(self, run_id: str) -> list[tuple[str, str | None, int]]: ...

    def outcome_counts(self, run_id: str) -> dict[str, int]: ...

    def checkpoint(self, scope: str, name: str) -> str | None: ...

    def set_checkpoint(self, scope: str, name: str, value: str) -> None: ...

    def acquire_lock(self, resource: str, run_id: str) -> None: ...

    def relabel_locks(self, old: str, new: str) -> None: ...

    def release_lock(self, resource: str, run_id: str) -> None: ...

    def force_unlock(self, resource: str) -> bool: ...


class SnapshotBackend(Protocol):
    """Last-synced snapshots by name (see ``snapshots.py``)."""

    def exists(self, name: str) -> bool: ...

    def local(self, name: str, folder: Path) -> Path | None:
        """The snapshot as a Parquet file this process can read (a copy in ``folder`` when
        it lives elsewhere), or None when there is none."""
        ...

    def replace(self, name: str, batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> int:
        """Write a whole snapshot from a stream and commit it; returns the row count."""
        ...

    def delete(self, name: str) -> None: ...
