"""The entry points the warehouse factory looks up in every engine folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..base import WarehouseError
from .configuration import SnowflakeConfig

if TYPE_CHECKING:
    from .adapter import SnowflakeWarehouse

__all__ = ["config_from_url", "open_warehouse"]


def config_from_url(url: str) -> SnowflakeConfig:
    return SnowflakeConfig.from_url(url)


def open_warehouse(config: SnowflakeConfig, base_dir: Path | None = None) -> SnowflakeWarehouse:
    try:  # the connector is an optional extra, loaded when a warehouse is opened
        from .adapter import SnowflakeWarehouse
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("snowflake"):
            raise
        raise WarehouseError(
            f"{config.display}: the Snowflake connector is not installed; "
            "pip install 'listrak-sync[snowflake]'"
        ) from None
    return SnowflakeWarehouse(config, base_dir)
