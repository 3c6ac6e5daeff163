"""Sync state in warehouse tables (``state: {store: warehouse}``): runs, the journal, row
outcomes, locks, snapshots and audit tables in one schema, behind the same interface as the
local store (see ``state/protocol.py``). An engine brings a dialect (``dialect.py``) and a
connection (``connection.py``) from its warehouse folder; PostgreSQL is implemented."""

from typing import TYPE_CHECKING

from ..._exports import lazy_exports

if TYPE_CHECKING:
    from .audit import AUDIT_SCHEMA, CHANGE_COLUMNS, audit_table, write_audit
    from .connection import StateConnection, lock_key
    from .dialect import POSTGRES, StateDialect
    from .snapshots import WarehouseSnapshotStore
    from .store import WarehouseStateStore

__all__ = [
    "AUDIT_SCHEMA",
    "CHANGE_COLUMNS",
    "POSTGRES",
    "StateConnection",
    "StateDialect",
    "WarehouseSnapshotStore",
    "WarehouseStateStore",
    "audit_table",
    "lock_key",
    "write_audit",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "AUDIT_SCHEMA": "audit",
        "CHANGE_COLUMNS": "audit",
        "audit_table": "audit",
        "write_audit": "audit",
        "StateConnection": "connection",
        "lock_key": "connection",
        "POSTGRES": "dialect",
        "StateDialect": "dialect",
        "WarehouseSnapshotStore": "snapshots",
        "WarehouseStateStore": "store",
    },
)
