"""The event service: mappings, the durable queue and the deliverer, wired together."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config.events import EventDestination
from ..listrak import ClientSettings, Credentials, ListrakClient
from .committer import QueueThread
from .delivery import Deliverer, Integration
from .logs import EventLogger, make_logger
from .mappings import Rejection, Update, apply_mappings
from .metrics import EventMetrics
from .queue import Queue

if TYPE_CHECKING:
    from ..privacy.suppression import ForgottenWatch

__all__ = ["EventService", "client_settings"]


def client_settings(api_url: str, auth_url: str, **changes: Any) -> ClientSettings:
    """Client settings for delivery: import status polled often, since a contact's next batch
    waits for its previous import to finish. The waits grow slowly (×1.2: 0.1, 0.22, 0.36,
    0.54, 0.74, 0.99 s... after the start, at most 2 s apart), so an import is seen finished
    at most about a fifth of its turnaround late; at ×1.5 from 0.2 s (polls at 0.2, 0.5, 0.95,
    1.6 s) an import done in 0.55 s was seen at 0.95 s, which bounded how soon the same
    contacts' next batch could go. A 30 s import costs 27 status calls instead of 19."""
    values: dict[str, Any] = {
        "api_url": api_url,
        "auth_url": auth_url,
        "import_poll_interval": 0.1,
        "import_poll_growth": 1.2,
        "import_poll_max_interval": 2.0,
        **changes,
    }
    return ClientSettings.model_validate(values)


class EventService:
    """Accepts events (``accept``) and delivers them in the background (``start``/``stop``)."""

    def __init__(
        self,
        destination: EventDestination,
        queue_path: Path,
        credentials: Mapping[str, Credentials],
        *,
        settings: ClientSettings,
        log: EventLogger | None = None,
        poll_seconds: float = 1.0,
        grace_seconds: float = 10.0,
        forgotten: ForgottenWatch | None = None,
    ) -> None:
        self.destination = destination
        self.queue_path = queue_path
        self.credentials = dict(credentials)
        self.settings = settings
        self.log = log or make_logger()
        self.metrics = EventMetrics()
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        # People forgotten by `listrak-sync forget`: their events are dropped at intake, never
        # queued or dead-lettered (both would keep the address).
        self.forgotten = forgotten
        self.key_hashes = tuple(destination.write_keys)
        self.queue: QueueThread | None = None
        self.deliverer: Deliverer | None = None
        self._clients: list[ListrakClient] = []

    async def start(self) -> None:
        self.queue = QueueThread(Queue(self.queue_path))
        integrations: dict[str, Integration] = {}
        for name, creds in self.credentials.items():
            client = ListrakClient(email=creds, settings=self.settings)
            self._clients.append(client)
            integrations[name] = Integration(
                name, creds.client_id, client, self.destination.concurrency
            )
        self.deliverer = Deliverer(
            self.destination,
            self.queue,
            integrations,
            metrics=self.metrics,
            log=self.log,
            poll_seconds=self.poll_seconds,
        )
        await self.deliverer.start()
        self.log.info(
            "event service started",
            mappings=len(self.destination.mappings),
            integrations=sorted(integrations),
        )

    async def stop(self) -> None:
        if self.deliverer is not None:
            await self.deliverer.stop(self.grace_seconds)
        for client in self._clients:
            await client.aclose()
        if self.queue is not None:
            self.queue.close()
        self.log.info("event service stopped")

    async def accept(self, messages: Sequence[dict[str, Any]]) -> None:
        """Map ``messages`` and store the result durably; returns once it is on disk."""
        assert self.queue is not None, "start() first"
        assert self.deliverer is not None, "start() first"
        updates: list[Update] = []
        rejections: list[tuple[Rejection, dict[str, Any]]] = []
        at = time.time()
        # Counted per request, not per event: a labelled counter costs microseconds a call.
        for kind, count in Counter(str(m.get("type")) for m in messages).items():
            self.metrics.events.labels(kind).inc(count)
        for message in messages:
            message.setdefault("receivedAt", at)
            results = apply_mappings(self.destination, message)
            if not results:
                self.metrics.unmatched.inc()
            for result in results:
                if result.email is not None and self._forgotten(result.email):
                    self.log.info(
                        "event for a forgotten person dropped",
                        mapping=result.mapping,
                        message_id=result.message_id,
                    )
                elif isinstance(result, Update):
                    updates.append(result)
                else:
                    rejections.append((result, message))
        if updates or rejections:
            await self.queue.append(updates, rejections)
        for mapping, count in Counter(u.mapping for u in updates).items():
            self.metrics.queued.labels(mapping).inc(count)
        if rejections:
            self.metrics.dead_lettered.labels("intake").inc(len(rejections))
            for rejection, _ in rejections:
                self.log.info(
                    "event dead-lettered at intake",
                    mapping=rejection.mapping,
                    message_id=rejection.message_id,
                    reason=rejection.reason,
                )
        for target in {(u.credential, u.list_id) for u in updates}:
            self.deliverer.notify(target)

    def _forgotten(self, email: str) -> bool:
        return self.forgotten is not None and self.forgotten.email(email)

    def health(self) -> tuple[bool, dict[str, Any]]:
        deliverer = self.deliverer
        ok = deliverer is not None and deliverer.failed is None and not deliverer.stopping
        body: dict[str, Any] = {
            "status": "ok" if ok else "failing",
            "queue_depth": deliverer.depths[0] if deliverer is not None else None,
            "dead_letter": deliverer.depths[1] if deliverer is not None else None,
            "batches_in_flight": deliverer.in_flight if deliverer is not None else 0,
        }
        return ok, body
