"""Warehouse adapters: where audiences come from and where pulled Listrak state goes."""

from .base import Column, Warehouse, WarehouseError, WriteMode

__all__ = ["Column", "Warehouse", "WarehouseError", "WriteMode"]
