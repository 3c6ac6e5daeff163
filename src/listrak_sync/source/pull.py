"""One pull of one source: plan, read into staging, events, merge, cursors, deliver.

A pull is a run (``kind = "pull"``, target = the source name) with a lock on the source. Its
phases are recorded in the run's details, so a pull killed at any point is finished by the next
``pull`` of that source: pages already in staging are not read again (see ``streams.py``),
events already in the outbox are not added again (stable message ids), and the merge into the
tables is one transaction per table that a repeat leaves unchanged. Cursors move only after
the tables hold what was read.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config.sources import EmailSource, EventsConfig, Source
from ..listrak import ListrakClient
from ..state import RunStatus, SnapshotBackend, StateBackend
from ..state.private import private_folder
from ..warehouse import Warehouse
from .email import EmailContacts, field_summary
from .engagement import Engagement
from .events import IdentifyDiff, identify_event, track_events
from .sinks import Delivery, EventSink, Outbox, deliver
from .sms import SmsPull
from .sql import drop, q
from .streams import MAX_PAGE_SIZE, Journal, Progress, Stream, run_stream

__all__ = ["PullOptions", "PullResult", "Puller"]

CONTACTS_CURSOR = "contacts_cursor"
ENGAGEMENT_CURSOR = "engagement_cursor"
OPT_OUTS_CURSOR = "opt_outs_cursor"


@dataclass(frozen=True)
class PullOptions:
    full: bool = False
    events: bool = True  # emit the events the source configures
    page_size: int = MAX_PAGE_SIZE
    stream_concurrency: int = 4  # paged reads in flight at once (each one request at a time)


@dataclass
class PullResult:
    source: str
    run_id: str
    status: str
    full: bool
    resumed: bool
    counts: dict[str, int] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)
    delivery: Delivery | None = None
    error: str | None = None


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _text(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


class Puller:
    """Pulls sources of one project into its warehouse, recording runs in its state."""

    def __init__(
        self,
        warehouse: Warehouse,
        store: StateBackend,
        snapshots: SnapshotBackend,
        outbox: Outbox,
        workdir: Path,
        *,
        progress: Progress | None = None,
        sink_for: Callable[[str, EventsConfig], EventSink] | None = None,
        pause: Callable[[str], None] | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.store = store
        self.snapshots = snapshots
        self.outbox = outbox
        self.workdir = workdir
        self.progress = progress or Progress()
        self.sink_for = sink_for
        # Test hook: called at named points so a test can kill the process there.
        self.pause = pause or (lambda point: None)

    async def pull(
        self, name: str, source: Source, client: ListrakClient, options: PullOptions
    ) -> PullResult:
        # The lock comes first and belongs to this process: a live pull of the same source
        # (even one working on the run we would resume) refuses us; a dead one's lock is stale.
        lock, owner = f"pull:{name}", f"pull-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.store.acquire_lock(lock, owner)
        try:
            resumed = self.store.unfinished_run("pull", name)
            run = resumed or self.store.start_run("pull", name, {"type": source.type})
            try:
                if isinstance(source, EmailSource):
                    result = await self._email(name, source, client, options, run.run_id, resumed)
                else:
                    result = await self._sms(name, source, client, options, run.run_id, resumed)
            except Exception as exc:
                # An error ends the run (the next pull starts afresh from the stored cursors);
                # an interrupt, like a kill, leaves it `running` for the next pull to finish.
                self.store.finish_run(run.run_id, "failed", error=_describe(exc))
                raise
        finally:
            self.store.release_lock(lock, owner)
        return result

    # -- shared steps -------------------------------------------------------------------------

    def _details(self, run_id: str) -> dict[str, Any]:
        return dict(self.store.run(run_id).details)

    async def _read(
        self, streams: Sequence[Stream], journal: Journal, options: PullOptions
    ) -> None:
        gate = asyncio.Semaphore(options.stream_concurrency)

        async def one(stream: Stream) -> None:
            async with gate:
                await run_stream(
                    stream,
                    self.warehouse,
                    journal,
                    self.progress,
                    page_size=options.page_size,
                    pause=self.pause,
                )

        await asyncio.gather(*(one(s) for s in streams))

    def _create_stages(self, streams: Sequence[Stream]) -> None:
        made: set[str] = set()
        for stream in streams:
            if stream.stage not in made:
                self.warehouse.write(stream.stage, [], mode="replace", schema=stream.schema)
                made.add(stream.stage)

    def _finish(
        self,
        name: str,
        run_id: str,
        counts: dict[str, int],
        details: dict[str, Any],
        delivery: Delivery | None,
    ) -> str:
        status: RunStatus = "succeeded"
        error = None
        if delivery is not None:
            counts = {
                **counts,
                "events_delivered": delivery.delivered,
                "events_pending": delivery.pending,
                "events_rejected": delivery.rejected,
            }
            if delivery.pending or delivery.rejected:
                status = "partial"
                error = delivery.error
        self.store.finish_run(run_id, status, counts, details=details, error=error)
        shutil.rmtree(self.workdir / run_id, ignore_errors=True)
        self.store.set_checkpoint(f"pull:{name}", "last_run", run_id)
        return status

    async def _deliver(
        self, name: str, config: EventsConfig | None, options: PullOptions
    ) -> Delivery | None:
        if config is None or not options.events or self.sink_for is None:
            return None
        sink = self.sink_for(name, config)
        try:
            return await deliver(self.outbox, name, sink)
        finally:
            await sink.aclose()

    # -- email --------------------------------------------------------------------------------

    async def _email(
        self,
        name: str,
        source: EmailSource,
        client: ListrakClient,
        options: PullOptions,
        run_id: str,
        resumed: Any,
    ) -> PullResult:
        prefix = source.table_prefix or f"listrak_{name}"
        contacts = await EmailContacts.resolve(name, source, prefix, client)
        engagement = (
            Engagement(name, source.list_id, source.engagement, prefix)
            if source.engagement.enabled
            else None
        )
        scope = f"pull:{name}"
        details = self._details(run_id)
        journal = Journal(self.store, name, run_id)
        fresh = "phase" not in details
        if fresh:
            cursor = _time(self.store.checkpoint(scope, CONTACTS_CURSOR))
            full = options.full or cursor is None or not contacts.table_matches(self.warehouse)
            eng_cursor = _time(self.store.checkpoint(scope, ENGAGEMENT_CURSOR))
            details = {
                "type": source.type,
                "list_id": source.list_id,
                "phase": "reading",
                "full": full,
                "since": None if full else _text(cursor),
                "engagement_since": _text(engagement.window_start(eng_cursor, options.full))
                if engagement
                else None,
                "pulled_at": _text(datetime.now(UTC).replace(tzinfo=None)),
                "fields": field_summary(contacts.fields),
            }
            self.store.update_run(run_id, details=details)
        full = bool(details["full"])
        pulled_at = _time(details["pulled_at"])
        assert pulled_at is not None
        since = _time(details["since"])
        streams = contacts.streams(client, since, run_id, pulled_at)
        eng_since = _time(details.get("engagement_since"))
        if details["phase"] == "reading":
            if fresh:
                stage_streams = list(streams)
                if engagement is not None:
                    stage_streams.append(
                        engagement.messages_stream(client, eng_since, run_id, pulled_at)
                    )
                    stage_streams.append(engagement.activity_stream(client, 0, run_id, pulled_at))
                self._create_stages(stage_streams)
            self.pause("pull:reading")
            reads = [self._read(streams, journal, options)]
            if engagement is not None:
                reads.append(
                    self._read_engagement(
                        engagement, client, journal, options, eng_since, run_id, pulled_at
                    )
                )
            await asyncio.gather(*reads)
            contacts.build_stage(self.warehouse)
            details["phase"] = "read"
            self.store.update_run(run_id, details=details)
        events = source.events if options.events else None
        diff: IdentifyDiff | None = None
        snapshot = f"pull-{name}-identify"
        if details["phase"] == "read":
            self.pause("pull:read")
            counts = contacts.counts(self.warehouse)
            if engagement is not None:
                counts.update(engagement.counts(self.warehouse))
            if events is not None and events.identify:
                # No snapshot yet (events just enabled): everyone in the table is news, not
                # only the contacts this incremental read saw.
                first = not self.snapshots.exists(snapshot)
                # The previous snapshot as a file here (a copy when the state is in the
                # warehouse).
                here = private_folder(self.workdir / run_id / "previous")
                diff = IdentifyDiff(
                    self.workdir / run_id,
                    None if first else self.snapshots.local(snapshot, here),
                    full=full or first,
                )
                diff.load(self.warehouse, self._identify_select(contacts, first and not full))
                added = self.outbox.add(name, self._identifies(name, source, events, diff))
                counts["identify_events"] = added
            if events is not None and events.track and engagement is not None:
                users = self._users_select(contacts)
                changes = engagement.changes(self.warehouse, users)
                added = self.outbox.add(name, self._tracks(name, source.list_id, changes))
                counts["track_events"] = added
            self.pause("pull:events_queued")
            contacts.merge(self.warehouse, full=full)
            if engagement is not None:
                engagement.merge(self.warehouse)
            self.pause("pull:merged")
            if diff is not None:
                diff.commit_snapshot(self.snapshots, snapshot)
                diff.close()
            new_cursor = contacts.cursor(self.warehouse)
            # An empty list sets no cursor: the next pull is full again, which costs nothing.
            if new_cursor is not None:
                self.store.set_checkpoint(scope, CONTACTS_CURSOR, _text(new_cursor) or "")
            if engagement is not None:
                eng_cursor = engagement.cursor(self.warehouse)
                if eng_cursor is not None:
                    self.store.set_checkpoint(scope, ENGAGEMENT_CURSOR, _text(eng_cursor) or "")
            details["phase"] = "committed"
            details["counts"] = counts
            self.store.update_run(run_id, details=details)
            stages = contacts.stages() + (engagement.stages() if engagement else [])
            drop(self.warehouse, stages)
        counts = dict(details["counts"])
        self.pause("pull:committed")
        delivery = await self._deliver(name, source.events, options)
        tables = [contacts.table]
        if engagement is not None:
            tables += [engagement.messages_table, engagement.activity_table]
        status = self._finish(name, run_id, counts, details, delivery)
        return PullResult(name, run_id, status, full, resumed is not None, counts, tables, delivery)

    def _identify_select(self, contacts: EmailContacts, with_table: bool) -> str:
        """The identify state of the pulled contacts (and, with ``with_table``, of the rest of
        the contacts table)."""
        user = "CAST(NULL AS VARCHAR)"
        if contacts.user_id_column:
            user = f"CAST({q(contacts.user_id_column)} AS VARCHAR)"
        columns = (
            f"email_lower, email_address AS email, subscribed, {user} AS user_id,"
            " changed_at AS state_at"
        )
        select = f"SELECT {columns} FROM {q(contacts.stage)}"
        if with_table and contacts.table in self.warehouse.tables():
            select += (
                f" UNION ALL SELECT {columns} FROM {q(contacts.table)} WHERE email_lower"
                f" NOT IN (SELECT email_lower FROM {q(contacts.stage)})"
            )
        return select

    def _users_select(self, contacts: EmailContacts) -> str | None:
        """``email_lower, user_id`` of every known contact: this pull's, then the table's."""
        if not contacts.user_id_column:
            return None
        value = f"CAST({q(contacts.user_id_column)} AS VARCHAR)"
        select = f"SELECT email_lower, {value} AS user_id FROM {q(contacts.stage)}"
        if contacts.table in self.warehouse.tables():
            select += (
                f" UNION ALL SELECT email_lower, {value} FROM {q(contacts.table)} WHERE"
                f" email_lower NOT IN (SELECT email_lower FROM {q(contacts.stage)})"
            )
        return select

    async def _read_engagement(
        self,
        engagement: Engagement,
        client: ListrakClient,
        journal: Journal,
        options: PullOptions,
        since: datetime | None,
        run_id: str,
        pulled_at: datetime,
    ) -> None:
        await self._read(
            [engagement.messages_stream(client, since, run_id, pulled_at)], journal, options
        )
        ids = engagement.message_ids(self.warehouse)
        streams = [engagement.activity_stream(client, i, run_id, pulled_at) for i in ids]
        await self._read(streams, journal, options)

    def _identifies(
        self, name: str, source: EmailSource, config: EventsConfig, diff: IdentifyDiff
    ) -> Iterator[dict[str, Any]]:
        for email, subscribed, user_id, state_at, change in diff.changes():
            yield identify_event(
                name, source.list_id, config, email, bool(subscribed), user_id, state_at, change
            )

    def _tracks(self, name: str, list_id: int, select: str) -> Iterator[dict[str, Any]]:
        for batch in self.warehouse.stream(select):
            for row in batch.to_pylist():
                yield from track_events(name, list_id, row)

    # -- sms ----------------------------------------------------------------------------------

    async def _sms(
        self,
        name: str,
        source: Any,
        client: ListrakClient,
        options: PullOptions,
        run_id: str,
        resumed: Any,
    ) -> PullResult:
        prefix = source.table_prefix or f"listrak_{name}"
        sms = await SmsPull.resolve(name, source, prefix, client)
        scope = f"pull:{name}"
        details = self._details(run_id)
        journal = Journal(self.store, name, run_id)
        fresh = "phase" not in details
        if fresh:
            cursor = _time(self.store.checkpoint(scope, OPT_OUTS_CURSOR))
            have = sms.opt_outs_table in self.warehouse.tables()
            full = options.full or cursor is None or not have
            details = {
                "type": source.type,
                "sender_code_id": source.sender_code_id,
                "phone_lists": sms.phone_lists,
                "phase": "reading",
                "full": full,
                "since": None if full else _text(cursor),
                "pulled_at": _text(datetime.now(UTC).replace(tzinfo=None)),
                "fields": field_summary(sms.fields),
            }
            self.store.update_run(run_id, details=details)
        full = bool(details["full"])
        pulled_at = _time(details["pulled_at"])
        assert pulled_at is not None
        streams = sms.streams(client, _time(details["since"]), run_id, pulled_at)
        if details["phase"] == "reading":
            if fresh:
                self._create_stages(streams)
            self.pause("pull:reading")
            await self._read(streams, journal, options)
            details["phase"] = "read"
            self.store.update_run(run_id, details=details)
        if details["phase"] == "read":
            counts = sms.counts(self.warehouse)
            sms.merge(self.warehouse, full_opt_outs=full)
            new_cursor = sms.opt_outs_cursor(self.warehouse)
            # No opt-out seen yet: the next pull reads them all again (there are none to read).
            if new_cursor is not None:
                self.store.set_checkpoint(scope, OPT_OUTS_CURSOR, _text(new_cursor) or "")
            details["phase"] = "committed"
            details["counts"] = counts
            self.store.update_run(run_id, details=details)
            drop(self.warehouse, sms.stages())
        counts = dict(details["counts"])
        status = self._finish(name, run_id, counts, details, None)
        tables = [sms.contacts_table, sms.opt_outs_table, sms.opt_status_view]
        return PullResult(name, run_id, status, full, resumed is not None, counts, tables)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
