"""The event destination: a Segment-compatible endpoint that updates Listrak profile fields.

``listrak-sync serve`` accepts Segment track/identify/batch calls, applies the mappings, stores
the resulting updates in a durable SQLite queue and delivers them to Listrak in batches per list.
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports
from .config import (
    MAX_MAPPINGS,
    AllOf,
    AnyOf,
    AudienceFields,
    Batching,
    Condition,
    EventDestination,
    EventIs,
    EventIsNot,
    EventMapping,
    IntakeLimits,
    PropertyEquals,
    RetryPolicy,
    TypeIs,
    UpdateProfileFields,
)

if TYPE_CHECKING:
    from .deadletter import RetryReport, retry_dead_letters
    from .intake import hash_write_key
    from .mappings import FieldName, Rejection, Update, apply_mappings
    from .queue import DeadLetter, Queue, QueuedUpdate
    from .server import EventServer
    from .service import EventService, client_settings
    from .setup import EventsFile, EventsSetup, load_setup

__all__ = [
    "MAX_MAPPINGS",
    "AllOf",
    "AnyOf",
    "AudienceFields",
    "Batching",
    "Condition",
    "DeadLetter",
    "EventDestination",
    "EventIs",
    "EventIsNot",
    "EventMapping",
    "EventServer",
    "EventService",
    "EventsFile",
    "EventsSetup",
    "FieldName",
    "IntakeLimits",
    "PropertyEquals",
    "Queue",
    "QueuedUpdate",
    "Rejection",
    "RetryPolicy",
    "RetryReport",
    "TypeIs",
    "Update",
    "UpdateProfileFields",
    "apply_mappings",
    "client_settings",
    "hash_write_key",
    "load_setup",
    "retry_dead_letters",
]


# The project config imports `events.config`: the server (uvicorn, prometheus-client) and the
# rest load on first use. `setup` must load late anyway: it reads the project, which embeds
# EventDestination, so an eager import would be circular.
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
        "EventsFile": "setup",
        "EventsSetup": "setup",
        "load_setup": "setup",
    },
)
