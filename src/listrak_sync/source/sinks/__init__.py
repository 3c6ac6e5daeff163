"""Where pulled changes go as Segment-spec events: a durable outbox, then a file or an endpoint."""

from typing import TYPE_CHECKING

from ..._exports import lazy_exports

if TYPE_CHECKING:
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

__getattr__ = lazy_exports(
    __name__,
    {
        "Delivery": "delivery",
        "EventSink": "delivery",
        "HttpEventSink": "delivery",
        "JsonlEventSink": "delivery",
        "deliver": "delivery",
        "Outbox": "outbox",
        "QueuedEvent": "outbox",
    },
)
