"""The entry points the warehouse factory looks up in every engine folder."""

from __future__ import annotations

from pathlib import Path

from .adapter import DuckDBWarehouse
from .configuration import DuckDBConfig

__all__ = ["config_from_url", "open_warehouse"]


def config_from_url(url: str) -> DuckDBConfig:
    return DuckDBConfig.from_url(url)


def open_warehouse(config: DuckDBConfig, base_dir: Path | None = None) -> DuckDBWarehouse:
    return DuckDBWarehouse(config.resolved(base_dir))
