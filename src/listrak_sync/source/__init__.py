"""The Listrak source (``listrak-sync pull``): subscriber state and engagement into the warehouse.

Email list contacts (with profile fields), SMS list contacts and opt-outs, email messages and
their activity land in warehouse tables; changes can be emitted as Segment-spec events. The
sources' settings are ``listrak_sync.config.sources``.
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .pull import Puller, PullOptions, PullResult

__all__ = ["PullOptions", "PullResult", "Puller"]

# The puller (DuckDB, sqlglot) loads on first use.
__getattr__ = lazy_exports(
    __name__, {"Puller": "pull", "PullOptions": "pull", "PullResult": "pull"}
)
