"""The DuckDB warehouse: embedded, a file in the project (or in memory)."""

from .adapter import DuckDBWarehouse, quote_table
from .configuration import MEMORY, DuckDBConfig

__all__ = ["MEMORY", "DuckDBConfig", "DuckDBWarehouse", "quote_table"]
