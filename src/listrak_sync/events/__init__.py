"""The event destination: a Segment-compatible endpoint that updates Listrak profile fields.

``listrak-sync serve`` accepts Segment track/identify/batch calls, applies the mappings, stores
the resulting updates in a durable SQLite queue and delivers them to Listrak in batches per list.
"""

from typing import TYPE_CHECKING

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
from .deadletter import RetryReport, retry_dead_letters
from .intake import hash_write_key
from .mappings import FieldName, Rejection, Update, apply_mappings
from .queue import DeadLetter, Queue, QueuedUpdate
from .server import EventServer
from .service import EventService, client_settings

if TYPE_CHECKING:
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


def __getattr__(name: str) -> object:
    # `setup` reads the project (which embeds EventDestination): imported on first use, so that
    # loading the project config, which imports `events.config`, is not circular.
    if name in ("EventsFile", "EventsSetup", "load_setup"):
        from . import setup

        return getattr(setup, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
