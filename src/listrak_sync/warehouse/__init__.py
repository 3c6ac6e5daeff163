"""Warehouse adapters: where audiences come from and where pulled Listrak state goes."""

from typing import TYPE_CHECKING

from .._exports import lazy_exports
from .base import Column, TableNotFound, Warehouse, WarehouseError, WriteMode

if TYPE_CHECKING:
    from .factory import WarehouseConfig, connect, parse

__all__ = [
    "Column",
    "TableNotFound",
    "Warehouse",
    "WarehouseConfig",
    "WarehouseError",
    "WriteMode",
    "connect",
    "parse",
]

# The adapters (DuckDB, sqlglot) load when a warehouse is parsed or connected, not on import.
__getattr__ = lazy_exports(
    __name__, {"WarehouseConfig": "factory", "connect": "factory", "parse": "factory"}
)
