"""Sync state in warehouse tables (``state: {store: warehouse}``): runs, the journal, row
outcomes, locks, snapshots and audit tables in one schema, behind the same interface as the
local store (see ``state/protocol.py``), with the run bookkeeping shared with it
(``state/bookkeeping.py``). An engine brings a dialect (``dialect.py``), a kind of lock
(``locks.py``) and a connection (``connection.py``) from its warehouse folder: PostgreSQL and
Snowflake are implemented."""

from typing import TYPE_CHECKING

from ..._exports import lazy_exports

if TYPE_CHECKING:
    from .audit import AUDIT_SCHEMA, CHANGE_COLUMNS, audit_table, write_audit
    from .connection import StateConnection, lock_key
    from .dialect import POSTGRES, SNOWFLAKE, StateDialect
    from .snapshots import WarehouseSnapshotStore
    from .store import WarehouseStateStore

__all__ = [
    "AUDIT_SCHEMA",
    "CHANGE_COLUMNS",
    "POSTGRES",
    "SNOWFLAKE",
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
        "SNOWFLAKE": "dialect",
        "StateDialect": "dialect",
        "WarehouseSnapshotStore": "snapshots",
        "WarehouseStateStore": "store",
    },
)
