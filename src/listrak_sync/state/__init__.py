"""State: run history, the resumable run journal, checkpoints, locks and snapshots.

Kept in ``.listrak-sync/`` (``StateStore``, ``SnapshotStore``) or in warehouse tables
(``state.warehouse``), behind the protocols ``StateBackend`` and ``SnapshotBackend``."""

from .protocol import SnapshotBackend, StateBackend
from .snapshots import SnapshotStore, StagedSnapshot
from .store import LockHeld, RowOutcome, Run, RunStatus, StateStore, Step, StepStatus

__all__ = [
    "LockHeld",
    "RowOutcome",
    "Run",
    "RunStatus",
    "SnapshotBackend",
    "SnapshotStore",
    "StagedSnapshot",
    "StateBackend",
    "StateStore",
    "Step",
    "StepStatus",
]
