"""The Snowflake warehouse: read as Arrow result batches, written by PUT and COPY INTO."""

from typing import TYPE_CHECKING

from ..._exports import lazy_exports

if TYPE_CHECKING:
    from .adapter import SnowflakeWarehouse
    from .configuration import SnowflakeConfig

__all__ = ["SnowflakeConfig", "SnowflakeWarehouse"]

# Parsing a URL (done when a project loads) needs only the config; the connector (an optional
# extra: pip install 'listrak-sync[snowflake]') loads when a warehouse is opened.
__getattr__ = lazy_exports(
    __name__, {"SnowflakeConfig": "configuration", "SnowflakeWarehouse": "adapter"}
)
