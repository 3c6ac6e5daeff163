"""State: run history, the resumable run journal, checkpoints, locks and snapshots."""

from .snapshots import SnapshotStore, StagedSnapshot
from .store import LockHeld, RowOutcome, Run, RunStatus, StateStore, Step, StepStatus

__all__ = [
    "LockHeld",
    "RowOutcome",
    "Run",
    "RunStatus",
    "SnapshotStore",
    "StagedSnapshot",
    "StateStore",
    "Step",
    "StepStatus",
]
