"""The entry points the warehouse factory looks up in every engine folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .configuration import DuckDBConfig

if TYPE_CHECKING:
    from .adapter import DuckDBWarehouse

__all__ = ["config_from_url", "open_warehouse"]


def config_from_url(url: str) -> DuckDBConfig:
    return DuckDBConfig.from_url(url)


def open_warehouse(config: DuckDBConfig, base_dir: Path | None = None) -> DuckDBWarehouse:
    from .adapter import DuckDBWarehouse  # the duckdb driver loads when a warehouse is opened

    return DuckDBWarehouse(config.resolved(base_dir))
