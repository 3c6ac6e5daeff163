"""State: run history, the resumable run journal, checkpoints, locks and snapshots.

Kept in ``.listrak-sync/`` (``StateStore``, ``SnapshotStore``) or in warehouse tables
(``state.warehouse``), behind the protocols ``StateBackend`` and ``SnapshotBackend``."""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
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

__getattr__ = lazy_exports(
    __name__,
    {
        "SnapshotBackend": "protocol",
        "StateBackend": "protocol",
        "SnapshotStore": "snapshots",
        "StagedSnapshot": "snapshots",
        "LockHeld": "store",
        "RowOutcome": "store",
        "Run": "store",
        "RunStatus": "store",
        "StateStore": "store",
        "Step": "store",
        "StepStatus": "store",
    },
)
