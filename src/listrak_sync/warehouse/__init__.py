"""Warehouse adapters: where audiences come from and where pulled Listrak state goes."""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .base import (
        SCRATCH_CATALOG,
        Column,
        TableNotFound,
        Warehouse,
        WarehouseBusy,
        WarehouseError,
        WriteMode,
    )
    from .factory import WarehouseConfig, connect, connect_state, parse

__all__ = [
    "SCRATCH_CATALOG",
    "Column",
    "TableNotFound",
    "Warehouse",
    "WarehouseBusy",
    "WarehouseConfig",
    "WarehouseError",
    "WriteMode",
    "connect",
    "connect_state",
    "parse",
]

# The adapters (DuckDB, sqlglot) load when a warehouse is parsed or connected, not on import.
__getattr__ = lazy_exports(
    __name__,
    {
        "SCRATCH_CATALOG": "base",
        "Column": "base",
        "TableNotFound": "base",
        "Warehouse": "base",
        "WarehouseBusy": "base",
        "WarehouseError": "base",
        "WriteMode": "base",
        "WarehouseConfig": "factory",
        "connect": "factory",
        "connect_state": "factory",
        "parse": "factory",
    },
)
