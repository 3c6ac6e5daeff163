"""The entry points the warehouse factory looks up in every engine folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .configuration import SparkConfig

if TYPE_CHECKING:
    from .adapter import SparkWarehouse

__all__ = ["config_from_url", "open_warehouse"]


def config_from_url(url: str) -> SparkConfig:
    return SparkConfig.from_text(url)


def open_warehouse(config: SparkConfig, base_dir: Path | None = None) -> SparkWarehouse:
    from .adapter import SparkWarehouse  # pyspark (and Java) load when a warehouse is opened

    return SparkWarehouse(config.resolved(base_dir))
