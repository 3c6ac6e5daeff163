"""Prometheus metrics of one event server, in a registry of its own (``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["EventMetrics"]

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_DELIVERY = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class EventMetrics:
    """Counters for intake and delivery. Labels never carry an email address or a value."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "listrak_events_requests", "Intake requests by endpoint and status.",
            ["endpoint", "status"], registry=r,
        )  # fmt: skip
        self.events = Counter(
            "listrak_events_received", "Accepted events by type.", ["type"], registry=r
        )
        self.connections_closed = Counter(
            "listrak_events_connections_closed",
            "Connections closed by a guard: header_timeout or connection_refused (over the cap).",
            ["reason"], registry=r,
        )  # fmt: skip
        self.unmatched = Counter(
            "listrak_events_unmatched", "Accepted events no mapping matched.", registry=r
        )
        self.queued = Counter(
            "listrak_events_updates_queued", "Profile-field updates queued, by mapping.",
            ["mapping"], registry=r,
        )  # fmt: skip
        self.delivered = Counter(
            "listrak_events_updates_delivered", "Updates delivered, by route (bulk or import).",
            ["route"], registry=r,
        )  # fmt: skip
        self.dead_lettered = Counter(
            "listrak_events_updates_dead_lettered", "Updates moved to the dead-letter table.",
            ["stage"], registry=r,
        )  # fmt: skip
        self.batches = Counter(
            "listrak_events_batches", "Delivery batches by route and outcome.",
            ["route", "outcome"], registry=r,
        )  # fmt: skip
        self.beta_fallbacks = Counter(
            "listrak_events_beta_refusals", "Integrations refused the Beta bulk route.",
            registry=r,
        )  # fmt: skip
        self.intake_seconds = Histogram(
            "listrak_events_intake_seconds", "Intake request time, durable commit included.",
            buckets=_LATENCY, registry=r,
        )  # fmt: skip
        self.batch_seconds = Histogram(
            "listrak_events_batch_seconds", "Time to deliver one batch (import finished).",
            buckets=_DELIVERY, registry=r,
        )  # fmt: skip
        self.batch_contacts = Histogram(
            "listrak_events_batch_contacts", "Contacts per delivery batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000), registry=r,
        )  # fmt: skip
        self.queue_depth = Gauge(
            "listrak_events_queue_depth", "Updates waiting for delivery.", registry=r
        )
        self.dead_letter_depth = Gauge(
            "listrak_events_dead_letter_depth", "Rows in the dead-letter table.", registry=r
        )
