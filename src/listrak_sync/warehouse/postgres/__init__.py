"""The PostgreSQL warehouse: a server read as Arrow through ADBC, written by COPY."""

from typing import TYPE_CHECKING

from ..._exports import lazy_exports

if TYPE_CHECKING:
    from .adapter import PostgresWarehouse
    from .configuration import PostgresConfig

__all__ = ["PostgresConfig", "PostgresWarehouse"]

# Parsing a URL (done when a project loads) needs only the config; the ADBC driver loads when a
# warehouse is opened.
__getattr__ = lazy_exports(
    __name__, {"PostgresConfig": "configuration", "PostgresWarehouse": "adapter"}
)
