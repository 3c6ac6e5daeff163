"""The Spark warehouse: embedded (``local[*]``) or a Spark Connect server (``sc://``), which
also covers Databricks. DataFrame and SQL only, so it runs wherever Spark Connect does."""

from typing import TYPE_CHECKING

from ..._exports import lazy_exports

if TYPE_CHECKING:
    from .adapter import SparkWarehouse
    from .configuration import SparkConfig, is_spark_connection

__all__ = ["SparkConfig", "SparkWarehouse", "is_spark_connection"]

# Parsing a connection (done when a project loads) needs only the config; pyspark and its JVM
# load when a warehouse is opened.
__getattr__ = lazy_exports(
    __name__,
    {
        "SparkConfig": "configuration",
        "is_spark_connection": "configuration",
        "SparkWarehouse": "adapter",
    },
)
