"""Sending queued events: to a JSON Lines file, or to a Segment-compatible batch endpoint.

``deliver(outbox, source, sink)`` sends the source's pending events in enqueue order, in
batches, and marks each batch delivered only after the sink took it, so a crash can repeat a
batch (at-least-once; every event carries a stable ``messageId`` to deduplicate on) but never
lose one. An HTTP batch that keeps failing after the sink's retries stops delivery for this
run; it and everything after it stay pending for the next run.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx2
from pydantic import SecretStr

from ...listrak._session import parse_retry_after
from .outbox import Outbox, QueuedEvent

__all__ = ["Delivery", "EventSink", "HttpEventSink", "JsonlEventSink", "deliver"]

# Segment's limits: 32 KB per event, 500 KB per batch request.
MAX_EVENT_BYTES = 32_000
MAX_BATCH_BYTES = 480_000


class SinkRefused(Exception):
    """The endpoint refused the batch as invalid (4xx): retrying the same bytes cannot help."""


class SinkUnavailable(Exception):
    """The endpoint did not take the batch after every retry (5xx, 429, no answer)."""


class EventSink(Protocol):
    batch_size: int

    async def send(self, events: Sequence[QueuedEvent]) -> None:
        """Deliver the events or raise ``SinkRefused`` / ``SinkUnavailable``."""
        ...

    async def aclose(self) -> None: ...


@dataclass
class Delivery:
    delivered: int = 0
    rejected: int = 0
    pending: int = 0
    error: str | None = None


class JsonlEventSink:
    """Appends one event per line and syncs the file before the batch counts as delivered."""

    def __init__(self, path: Path, *, batch_size: int = 5000) -> None:
        self.path = path
        self.batch_size = batch_size

    async def send(self, events: Sequence[QueuedEvent]) -> None:
        await asyncio.to_thread(self._append, events)

    def _append(self, events: Sequence[QueuedEvent]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("".join(event.body + "\n" for event in events))
            handle.flush()
            os.fsync(handle.fileno())

    async def aclose(self) -> None:
        return None


class HttpEventSink:
    """``POST url`` with ``{"batch": [...], "sentAt": ...}``, write key as basic-auth user.

    Retries 429 (honouring Retry-After), 5xx and lost connections with exponential backoff and
    jitter, up to ``max_attempts`` tries per batch.
    """

    def __init__(
        self,
        url: str,
        write_key: SecretStr,
        *,
        batch_size: int = 100,
        max_attempts: int = 6,
        timeout: float = 30.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.url = url
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.attempts = 0  # requests sent, for reports and tests
        self._sleep = sleep
        self._http = httpx2.AsyncClient(
            timeout=timeout,
            transport=transport,
            auth=httpx2.BasicAuth(write_key.get_secret_value(), ""),
            headers={"Content-Type": "application/json", "User-Agent": "listrak-sync"},
        )

    def __repr__(self) -> str:  # the write key never shows
        return f"HttpEventSink({self.url!r})"

    async def send(self, events: Sequence[QueuedEvent]) -> None:
        sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        body = (
            '{"batch":[' + ",".join(e.body for e in events) + f'],"sentAt":"{sent_at}"}}'
        ).encode()
        last = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            wait: float | None = None
            self.attempts += 1
            try:
                response = await self._http.post(self.url, content=body)
            except httpx2.TransportError as exc:
                last = f"no answer ({type(exc).__name__})"
            else:
                status = response.status_code
                if status < 300:
                    return
                last = f"HTTP {status}"
                if status == 429:
                    wait = parse_retry_after(response.headers.get("Retry-After"))
                elif status < 500 and status != 408:
                    raise SinkRefused(f"HTTP {status}: {response.text[:200]}")
            if attempt == self.max_attempts:
                break
            backoff = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
            delay = wait if wait is not None else backoff * (0.5 + random.random() / 2)
            await self._sleep(min(delay, self.backoff_max))
        raise SinkUnavailable(f"{self.url}: {last} after {self.max_attempts} attempts")

    async def aclose(self) -> None:
        await self._http.aclose()


def _batches(events: Sequence[QueuedEvent], size: int) -> list[list[QueuedEvent]]:
    out: list[list[QueuedEvent]] = []
    current: list[QueuedEvent] = []
    weight = 0
    for event in events:
        length = len(event.body) + 1
        if current and (len(current) >= size or weight + length > MAX_BATCH_BYTES):
            out.append(current)
            current, weight = [], 0
        current.append(event)
        weight += length
    if current:
        out.append(current)
    return out


async def _send(
    outbox: Outbox, sink: EventSink, batch: list[QueuedEvent], report: Delivery
) -> None:
    """Send one batch; a refused batch is halved until the refused events are alone."""
    try:
        await sink.send(batch)
    except SinkRefused as exc:
        if len(batch) == 1:
            outbox.rejected([batch[0].seq], str(exc))
            report.rejected += 1
            return
        middle = len(batch) // 2
        await _send(outbox, sink, batch[:middle], report)
        await _send(outbox, sink, batch[middle:], report)
        return
    outbox.delivered([e.seq for e in batch])
    report.delivered += len(batch)


async def deliver(outbox: Outbox, source: str, sink: EventSink) -> Delivery:
    """Deliver the source's pending events; returns counts (and the error that stopped it)."""
    report = Delivery()
    after = 0
    while True:
        queued = outbox.pending(source, after=after, limit=max(sink.batch_size * 10, 1000))
        if not queued:
            break
        too_big = [e for e in queued if len(e.body) > MAX_EVENT_BYTES]
        if too_big:
            outbox.rejected([e.seq for e in too_big], f"event larger than {MAX_EVENT_BYTES} bytes")
            report.rejected += len(too_big)
        sendable = [e for e in queued if len(e.body) <= MAX_EVENT_BYTES]
        try:
            for batch in _batches(sendable, sink.batch_size):
                await _send(outbox, sink, batch, report)
        except SinkUnavailable as exc:
            outbox.attempt_failed([e.seq for e in batch], str(exc))
            report.error = str(exc)
            break
        after = queued[-1].seq
    report.pending = outbox.counts(source).get("pending", 0)
    return report
