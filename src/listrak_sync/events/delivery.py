"""Delivery: queued updates to Listrak, batched per list, in order per contact, at least once.

One :class:`ListWorker` per (integration, list) reads the queue in ``seq`` order and cuts
batches: up to ``max_contacts`` contacts, sent when full or when the oldest update has waited
``max_wait_seconds``. Within a batch a contact's updates are coalesced in order (the last value
of each field wins), and a contact is never in two batches in flight: its next batch waits until
the previous one finished, i.e. until Listrak's import completed. So an ``Audience Exited``
after an ``Audience Entered`` always wins.

A batch goes to the Beta bulk route (``POST /List/{id}/Contact/SegmentationField``); an
integration that Listrak refuses it is remembered (in the queue file, re-checked after a day)
and served by an ``UpdateSubscribers`` list import carrying the same fields. Updates leave the
queue only after the import finished: contacts Listrak did not update (not on the list,
unsubscribed, invalid value...) go to the dead-letter table with Listrak's result as the reason,
the rest are done. Transient failures (429, 5xx, no answer, once the client's own retries are
spent) keep the batch queued and back off; after ``retry.max_attempts`` it is dead-lettered.
A refused batch (400) is split in halves until the contact at fault is found.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..config.events import EventDestination
from ..listrak import (
    ImportColumn,
    ListImportSummary,
    ListrakApiError,
    ListrakClient,
    ListrakError,
    NotFound,
)
from .committer import QueueThread
from .fields import FieldCatalog, FieldProblem, checkbox_value
from .logs import EventLogger, contact_ref
from .mappings import FieldName, FieldRef
from .metrics import EventMetrics
from .queue import QueuedUpdate, Target, field_key

__all__ = ["BETA_REFUSED", "Deliverer", "Integration"]

BETA_REFUSED = "ERROR_INTEGRATION_CANNOT_ACCESS_BETA_ROUTE"
BETA_RECHECK_SECONDS = 24 * 3600
_APPLIED = "Updated"
# Queued updates a list worker holds in memory (at least 4 × max_contacts): the more it holds,
# the more of each contact's updates one batch coalesces while that contact's previous batch
# is in flight. 20,000 rows are a few MB.
BUFFER_ROWS = 20_000


@dataclass
class Integration:
    """One Listrak email integration (a credential): its client, limits and what we learnt."""

    name: str
    client_id: str
    client: ListrakClient
    concurrency: int
    beta_refused_at: float | None = None
    beta_works: bool = False  # a bulk call succeeded since the last refusal
    slots: asyncio.Semaphore = field(init=False)
    # While nobody knows whether Listrak grants the Beta route, one batch asks at a time.
    probe: asyncio.Lock = field(default_factory=asyncio.Lock)
    catalogs: dict[int, FieldCatalog] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.concurrency)

    def catalog(self, list_id: int) -> FieldCatalog:
        if list_id not in self.catalogs:
            self.catalogs[list_id] = FieldCatalog(self.client.email, list_id)
        return self.catalogs[list_id]

    @property
    def use_beta(self) -> bool:
        refused = self.beta_refused_at
        return refused is None or time.time() - refused > BETA_RECHECK_SECONDS


@dataclass
class _Outcome:
    delivered: list[QueuedUpdate] = field(default_factory=list)
    applied: list[tuple[str, str, int]] = field(default_factory=list)
    dead: list[tuple[QueuedUpdate, str]] = field(default_factory=list)
    route: str = "bulk"
    # Seconds spent starting the import(s), waiting for Listrak to finish them, and reading
    # their results: where a batch's time goes (the "batch delivered" log line).
    phases: dict[str, float] = field(default_factory=dict)

    def merge(self, other: _Outcome) -> _Outcome:
        phases = dict(self.phases)
        for name, seconds in other.phases.items():
            phases[name] = phases.get(name, 0.0) + seconds
        return _Outcome(
            self.delivered + other.delivered,
            self.applied + other.applied,
            self.dead + other.dead,
            other.route,
            phases,
        )


@dataclass
class _Batch:
    rows: list[QueuedUpdate]
    contacts: set[str]


class Deliverer:
    """Owns the list workers; ``notify`` after intake, ``stop`` on shutdown."""

    def __init__(
        self,
        destination: EventDestination,
        queue: QueueThread,
        integrations: dict[str, Integration],
        *,
        metrics: EventMetrics,
        log: EventLogger,
        poll_seconds: float = 1.0,
    ) -> None:
        self.destination = destination
        self.queue = queue
        self.integrations = integrations
        self.metrics = metrics
        self.log = log
        self.poll_seconds = poll_seconds
        self.workers: dict[Target, ListWorker] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None
        self.stopping = False
        self.failed: BaseException | None = None
        self.depths = (0, 0)  # queued updates, dead letters, as of the last scan

    async def start(self) -> None:
        refused = await self.queue.call(self.queue.queue.beta_refused)
        for integration in self.integrations.values():
            integration.beta_refused_at = refused.get(integration.client_id)
        await self._scan()
        self._poller = asyncio.create_task(self._poll(), name="events-poller")

    def notify(self, target: Target) -> None:
        """New updates for ``target`` are in the queue."""
        if self.stopping:
            return
        worker = self.workers.get(target)
        if worker is None:
            worker = ListWorker(self, target)
            self.workers[target] = worker
            task = asyncio.create_task(worker.run(), name=f"events-list-{target[1]}")
            self._tasks.add(task)
            task.add_done_callback(self._worker_done)
        worker.dirty = True
        worker.changed.set()

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.failed = task.exception()
            self.log.error("list worker stopped", error=repr(task.exception()))

    async def _scan(self) -> None:
        targets = await self.queue.call(self.queue.queue.targets)
        for target, top in targets.items():
            worker = self.workers.get(target)
            if worker is None or top > worker.last_read:
                self.notify(target)
        depth, dead = self.depths = await self.queue.call(self._depths)
        self.metrics.queue_depth.set(depth)
        self.metrics.dead_letter_depth.set(dead)

    def _depths(self) -> tuple[int, int]:
        return self.queue.queue.depth(), self.queue.queue.dead_letter_count()

    async def _poll(self) -> None:
        # Picks up updates another process queued (a dead-letter retry) and keeps gauges fresh.
        while not self.stopping:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self._scan()
            except Exception as exc:  # the next round tries again; intake is unaffected
                self.log.warning("queue scan failed", error=repr(exc))

    @property
    def in_flight(self) -> int:
        return sum(worker.in_flight for worker in self.workers.values())

    async def stop(self, grace: float = 10.0) -> None:
        """Take no new batches; let batches in flight finish for ``grace`` seconds, then cancel
        them (their updates stay queued and are sent again after a restart)."""
        self.stopping = True
        for worker in self.workers.values():
            worker.changed.set()
        if self._poller is not None:
            self._poller.cancel()
        batches = [t for w in self.workers.values() for t in w.batches]
        if batches:
            await asyncio.wait(batches, timeout=grace)
        for task in [*self._tasks, *batches]:
            task.cancel()
        await asyncio.gather(*self._tasks, *batches, return_exceptions=True)


class ListWorker:
    """Batches for one (integration, list), in queue order."""

    def __init__(self, deliverer: Deliverer, target: Target) -> None:
        self.d = deliverer
        self.target = target
        self.buffer: list[QueuedUpdate] = []
        self.last_read = 0
        self.dirty = True
        self.changed = asyncio.Event()
        self.busy: set[str] = set()  # contacts in a batch in flight
        self.batches: set[asyncio.Task[None]] = set()
        self.failures = 0
        self.backoff_until = 0.0
        # Every buffered update waits for a contact in flight: only a change can help.
        self.stalled = False

    @property
    def in_flight(self) -> int:
        return len(self.batches)

    @property
    def settings(self) -> EventDestination:
        return self.d.destination

    async def run(self) -> None:
        while not self.d.stopping:
            self.changed.clear()
            await self._fill()
            batch = self._take()
            if batch is not None:
                task = asyncio.create_task(self._send(batch))
                self.batches.add(task)
                task.add_done_callback(self.batches.discard)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), self._wait())

    async def _fill(self) -> None:
        room = max(4 * self.settings.batch.max_contacts, BUFFER_ROWS) - len(self.buffer)
        if not self.dirty or room <= 0:
            return
        rows = await self.d.queue.call(
            self.d.queue.queue.pending, self.target, self.last_read, room
        )
        if rows:
            self.buffer.extend(rows)
            self.last_read = rows[-1].seq
        self.dirty = len(rows) == room

    def _wait(self) -> float:
        now = time.monotonic()
        waits = [5.0]
        if self.backoff_until > now:
            waits.append(self.backoff_until - now)
        elif (
            self.buffer
            and not self.stalled
            and self.in_flight < self.settings.max_in_flight_per_list
        ):
            age = time.time() - self.buffer[0].received_at
            waits.append(max(0.0, self.settings.batch.max_wait_seconds - age) + 0.001)
        return min(waits)

    def _take(self) -> _Batch | None:
        """The next batch if one is due, taken out of the buffer; else None."""
        self.stalled = False
        if not self.buffer or self.in_flight >= self.settings.max_in_flight_per_list:
            return None
        if time.monotonic() < self.backoff_until:
            return None
        limit = self.settings.batch.max_contacts
        due = time.time() - self.buffer[0].received_at >= self.settings.batch.max_wait_seconds
        if not due and len(self.buffer) < limit and all(r.batched for r in self.buffer):
            return None
        blocked = set(self.busy)
        taken: list[QueuedUpdate] = []
        left: list[QueuedUpdate] = []
        contacts: set[str] = set()
        single = False
        for row in self.buffer:
            contact = row.contact
            if contact in contacts:
                taken.append(row)
            elif contact in blocked or single or len(contacts) >= limit:
                blocked.add(contact)  # its later updates must wait behind this one
                left.append(row)
            elif not row.batched and contacts:
                blocked.add(contact)
                left.append(row)
            else:
                taken.append(row)
                contacts.add(contact)
                single = not row.batched
        if not taken:
            self.stalled = True
            return None
        if not (due or single or len(contacts) >= limit):
            return None
        self.buffer = left
        self.busy |= contacts
        return _Batch(taken, contacts)

    async def _send(self, batch: _Batch) -> None:
        d, log = self.d, self.d.log
        started = time.monotonic()
        integration = d.integrations.get(self.target[0])
        try:
            if integration is None:
                reason = f"credential {self.target[0]!r} is not configured for this destination"
                outcome = _Outcome(dead=[(row, reason) for row in batch.rows])
            else:
                async with integration.slots:
                    outcome = await self._deliver_or_split(integration, batch.rows)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(batch, exc)
        else:
            self.failures = 0
            await d.queue.call(d.queue.queue.delivered, outcome.delivered, outcome.applied)
            if outcome.dead:
                await d.queue.call(d.queue.queue.dead_letter, outcome.dead)
                d.metrics.dead_lettered.labels("delivery").inc(len(outcome.dead))
                for row, reason in outcome.dead:
                    log.warning(
                        "update dead-lettered",
                        list_id=self.target[1],
                        mapping=row.mapping,
                        contact=contact_ref(row.email, pii=self.settings.log_pii),
                        seq=row.seq,
                        reason=reason,
                    )
            d.metrics.delivered.labels(outcome.route).inc(len(outcome.delivered))
            d.metrics.batches.labels(outcome.route, "ok").inc()
            d.metrics.batch_seconds.observe(time.monotonic() - started)
            d.metrics.batch_contacts.observe(len(batch.contacts))
            log.info(
                "batch delivered",
                list_id=self.target[1],
                credential=self.target[0],
                route=outcome.route,
                contacts=len(batch.contacts),
                updates=len(outcome.delivered),
                dead_lettered=len(outcome.dead),
                seconds=round(time.monotonic() - started, 3),
                **{f"{name}_seconds": round(value, 3) for name, value in outcome.phases.items()},
            )
        finally:
            self.busy -= batch.contacts
            self.changed.set()

    async def _failed(self, batch: _Batch, exc: Exception) -> None:
        d = self.d
        retry = self.settings.retry
        error = str(exc) if isinstance(exc, ListrakError) else f"{type(exc).__name__}: {exc}"
        self.failures += 1
        give_up = [r for r in batch.rows if r.attempts + 1 >= retry.max_attempts]
        keep = [r for r in batch.rows if r.attempts + 1 < retry.max_attempts]
        await d.queue.call(d.queue.queue.attempt_failed, keep, error)
        if give_up:
            reason = f"gave up after {retry.max_attempts} attempts: {error}"
            await d.queue.call(d.queue.queue.dead_letter, [(r, reason) for r in give_up])
            d.metrics.dead_lettered.labels("retries").inc(len(give_up))
        again = [dataclasses.replace(r, attempts=r.attempts + 1) for r in keep]
        self.buffer = sorted(again + self.buffer, key=lambda r: r.seq)
        pause = min(
            retry.max_backoff_seconds, retry.initial_backoff_seconds * 2 ** (self.failures - 1)
        )
        self.backoff_until = time.monotonic() + pause
        d.metrics.batches.labels("any", "retry").inc()
        d.log.warning(
            "batch failed, will retry",
            list_id=self.target[1],
            credential=self.target[0],
            contacts=len(batch.contacts),
            error=error,
            backoff_seconds=round(pause, 3),
            dead_lettered=len(give_up),
        )

    async def _deliver_or_split(
        self, integration: Integration, rows: list[QueuedUpdate]
    ) -> _Outcome:
        """Deliver; a refused request (400) is split in halves until the culprit is alone."""
        try:
            return await self._deliver(integration, rows)
        except NotFound as exc:
            reason = f"{exc.code}: {exc.message}"
            return _Outcome(dead=[(row, reason) for row in rows])
        except ListrakApiError as exc:
            integration.catalog(self.target[1]).invalidate()  # a field may have gone
            contacts = list(dict.fromkeys(row.contact for row in rows))
            if len(contacts) == 1:
                reason = f"{exc.code}: {exc.message}"
                return _Outcome(dead=[(row, reason) for row in rows])
            first = set(contacts[: len(contacts) // 2])
            left = await self._deliver_or_split(
                integration, [r for r in rows if r.contact in first]
            )
            right = await self._deliver_or_split(
                integration, [r for r in rows if r.contact not in first]
            )
            return left.merge(right)

    async def _deliver(self, integration: Integration, rows: list[QueuedUpdate]) -> _Outcome:
        list_id = self.target[1]
        catalog = integration.catalog(list_id)
        outcome = _Outcome()
        values: dict[str, tuple[str, dict[int, str]]] = {}
        applied: list[tuple[str, str, int]] = []
        for row in rows:
            try:
                resolved = [
                    (catalog.known(ref) or await self._field(catalog, ref), ref, v)
                    for ref, v in row.fields
                ]
            except FieldProblem as exc:
                outcome.dead.append((row, str(exc)))
                continue
            fields = values[row.contact][1] if row.contact in values else {}
            for (field_id, data_type), ref, value in resolved:
                fields[field_id] = checkbox_value(value) if data_type == "CheckBox" else value
                applied.append((row.contact, field_key(ref), row.seq))
            values[row.contact] = (row.email, fields)  # the latest spelling of the address
            outcome.delivered.append(row)
        if not values:
            return outcome
        route, failed = await self._send_values(
            integration, list_id, list(values.values()), outcome.phases
        )
        outcome.route = route
        if failed:
            kept = [r for r in outcome.delivered if r.contact not in failed]
            outcome.dead.extend(
                (r, f"Listrak import result: {failed[r.contact]}")
                for r in outcome.delivered
                if r.contact in failed
            )
            outcome.delivered = kept
            applied = [a for a in applied if a[0] not in failed]
        outcome.applied = applied
        return outcome

    @staticmethod
    async def _field(catalog: FieldCatalog, ref: FieldRef) -> tuple[int, str]:
        if isinstance(ref, FieldName):
            return await catalog.resolve(ref)
        return ref, await catalog.data_type(ref)

    async def _send_values(
        self,
        integration: Integration,
        list_id: int,
        values: Sequence[tuple[str, dict[int, str]]],
        phases: dict[str, float],
        *,
        probing: bool = False,
    ) -> tuple[str, dict[str, str]]:
        """Send one coalesced batch; returns the route and ``{contact: result}`` of contacts
        Listrak did not update. ``phases`` gets the seconds of each step (bulk route: start,
        import, results; import route: import, results)."""
        email = integration.client.email
        if integration.use_beta and not integration.beta_works and not probing:
            async with integration.probe:
                if integration.use_beta:
                    return await self._send_values(
                        integration, list_id, values, phases, probing=True
                    )
        if integration.use_beta:
            clock = time.monotonic()
            try:
                import_id = await email.update_field_values(list_id, dict(values))
            except ListrakApiError as exc:
                if exc.code != BETA_REFUSED:
                    raise
                await self._remember_refusal(integration)
            else:
                integration.beta_works = True
                phases["start"], clock = time.monotonic() - clock, time.monotonic()
                await email.wait_for_import(list_id, import_id)
                phases["import"], clock = time.monotonic() - clock, time.monotonic()
                summary = await email.import_summary(list_id, import_id)
                failed = await self._not_updated(
                    integration, list_id, [(import_id, summary)], len(values)
                )
                phases["results"] = time.monotonic() - clock
                return "bulk", failed
        field_ids = sorted({field_id for _, fields in values for field_id in fields})
        columns = [ImportColumn("email", "Email")] + [
            ImportColumn(f"field_{field_id}", "SegmentationField", field_id)
            for field_id in field_ids
        ]
        # An empty cell leaves a field as it is (segmentationImportType Update), so contacts
        # that carry different fields share one file.
        rows = [[address, *(fields.get(f, "") for f in field_ids)] for address, fields in values]
        clock = time.monotonic()
        results = await email.import_contacts(
            list_id,
            rows,
            columns=columns,
            import_type="UpdateSubscribers",
            file_name=f"listrak-sync-events-{list_id}",
        )
        phases["import"], clock = time.monotonic() - clock, time.monotonic()
        imports = [(r.import_file_id, r.summary) for r in results]
        failed = await self._not_updated(integration, list_id, imports, len(values))
        phases["results"] = time.monotonic() - clock
        return "import", failed

    async def _remember_refusal(self, integration: Integration) -> None:
        integration.beta_refused_at = time.time()
        integration.beta_works = False
        await self.d.queue.call(self.d.queue.queue.mark_beta_refused, integration.client_id)
        self.d.metrics.beta_fallbacks.inc()
        self.d.log.warning(
            "Beta route refused; using list imports for this integration",
            credential=integration.name,
            code=BETA_REFUSED,
        )

    @staticmethod
    async def _not_updated(
        integration: Integration,
        list_id: int,
        imports: Sequence[tuple[int, ListImportSummary | None]],
        contacts: int,
    ) -> dict[str, str]:
        updated = sum((s.already_subscribed_count or 0) for _, s in imports if s is not None)
        if updated >= contacts:
            return {}
        failed: dict[str, str] = {}
        for import_id, _ in imports:
            async for address, result in integration.client.email.import_results(
                list_id, import_id
            ):
                if result != _APPLIED:
                    failed[address.strip().lower()] = result or "not updated"
        return failed
