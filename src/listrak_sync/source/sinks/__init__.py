"""Where pulled changes go as Segment-spec events: a durable outbox, then a file or an endpoint."""

from .delivery import Delivery, EventSink, HttpEventSink, JsonlEventSink, deliver
from .outbox import Outbox, QueuedEvent

__all__ = [
    "Delivery",
    "EventSink",
    "HttpEventSink",
    "JsonlEventSink",
    "Outbox",
    "QueuedEvent",
    "deliver",
]
