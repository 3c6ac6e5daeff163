"""The Listrak source (``listrak-sync pull``): subscriber state and engagement into the warehouse.

Email list contacts (with profile fields), SMS list contacts and opt-outs, email messages and
their activity land in warehouse tables; changes can be emitted as Segment-spec events.
"""

from .config import (
    EmailSource,
    EngagementConfig,
    EventsConfig,
    HttpSink,
    JsonlSink,
    SmsSource,
    Source,
    SourcesSection,
)
from .pull import Puller, PullOptions, PullResult

__all__ = [
    "EmailSource",
    "EngagementConfig",
    "EventsConfig",
    "HttpSink",
    "JsonlSink",
    "PullOptions",
    "PullResult",
    "Puller",
    "SmsSource",
    "Source",
    "SourcesSection",
]
