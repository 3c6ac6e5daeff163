"""The entry points the warehouse factory looks up in every engine folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .configuration import PostgresConfig

if TYPE_CHECKING:
    from .adapter import PostgresWarehouse

__all__ = ["config_from_url", "open_warehouse"]


def config_from_url(url: str) -> PostgresConfig:
    return PostgresConfig.from_url(url)


def open_warehouse(config: PostgresConfig, base_dir: Path | None = None) -> PostgresWarehouse:
    from .adapter import PostgresWarehouse  # the ADBC driver loads when a warehouse is opened

    return PostgresWarehouse(config.with_base_dir(base_dir))
