"""The event destination: a Segment-compatible endpoint that updates Listrak profile fields.

``listrak-sync serve`` accepts Segment track/identify/batch calls, applies the mappings, stores
the resulting updates in a durable SQLite queue and delivers them to Listrak in batches per list.
Its settings are ``listrak_sync.config.events``; ``listrak_sync.api.load_setup`` finds them in a
project or in a file of their own.
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .deadletter import RetryReport, retry_dead_letters
    from .intake import hash_write_key
    from .mappings import FieldName, Rejection, Update, apply_mappings
    from .queue import DeadLetter, Queue, QueuedUpdate
    from .server import EventServer
    from .service import EventService, client_settings

__all__ = [
    "DeadLetter",
    "EventServer",
    "EventService",
    "FieldName",
    "Queue",
    "QueuedUpdate",
    "Rejection",
    "RetryReport",
    "Update",
    "apply_mappings",
    "client_settings",
    "hash_write_key",
    "retry_dead_letters",
]

# The server (uvicorn, prometheus-client) loads on first use.
__getattr__ = lazy_exports(
    __name__,
    {
        "RetryReport": "deadletter",
        "retry_dead_letters": "deadletter",
        "hash_write_key": "intake",
        "FieldName": "mappings",
        "Rejection": "mappings",
        "Update": "mappings",
        "apply_mappings": "mappings",
        "DeadLetter": "queue",
        "Queue": "queue",
        "QueuedUpdate": "queue",
        "EventServer": "server",
        "EventService": "service",
        "client_settings": "service",
    },
)
