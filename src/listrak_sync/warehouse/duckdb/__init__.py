"""The DuckDB warehouse: embedded, a file in the project (or in memory)."""

from typing import TYPE_CHECKING

from ..._exports import lazy_exports

if TYPE_CHECKING:
    from .adapter import DuckDBWarehouse, quote_table
    from .configuration import MEMORY, DuckDBConfig

__all__ = ["MEMORY", "DuckDBConfig", "DuckDBWarehouse", "quote_table"]

# Parsing a warehouse URL (done when a project loads) needs only the config; the adapter and the
# duckdb driver load when a warehouse is opened.
__getattr__ = lazy_exports(
    __name__,
    {
        "MEMORY": "configuration",
        "DuckDBConfig": "configuration",
        "DuckDBWarehouse": "adapter",
        "quote_table": "adapter",
    },
)
