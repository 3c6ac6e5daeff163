"""Warehouse adapters: where audiences come from and where pulled Listrak state goes."""

from .base import Column, TableNotFound, Warehouse, WarehouseError, WriteMode
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
