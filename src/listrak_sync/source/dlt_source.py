"""A dlt source (``pip install 'listrak-sync[dlt]'``): the pull's resources for any dlt destination.

``listrak()`` reads what ``listrak-sync pull`` reads, with the pull's own code: the stream
definitions (paths, filters, columns, profile field names) of :mod:`.email`, :mod:`.sms` and
:mod:`.engagement`, the client's cursor paging at the maximum page size, and
:func:`.columns.page_batch`. Each page is yielded as one Arrow batch while the next page is
fetched; dlt does the merging (primary keys, ``dedup_sort``) and keeps the incremental cursors
in its pipeline state instead of the project's state store.

Email contacts with more than 30 profile fields are read in several passes, which have to be
joined on the address before a row is complete: those passes are staged in a scratch DuckDB
file (the pull's staging and join, :meth:`.email.EmailContacts.build_stage`) and the joined
rows are then yielded in batches. Up to 30 fields, rows stream straight through.

The resources are plain generators, each driving the pull's async code on an event loop of its
own (:func:`_blocking`). dlt runs async resources together on one shared loop and, when one of
them fails, shuts that loop's async generators down while the others are still suspended in a
step: every one of them then prints ``aclose(): asynchronous generator is already running``
before the real error. A plain generator is only closed between items, and closes its own async
generators in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.configuration import configspec
from dlt.common.configuration.specs import CredentialsConfiguration
from dlt.common.typing import TSecretStrValue
from dlt.extract.resource import DltResource

from ..config.sources import EmailSource, EngagementConfig, SmsSource
from ..listrak import ClientSettings, Credentials, ListrakClient
from ..state import StateStore
from ..warehouse import connect
from .columns import page_batch
from .email import EmailContacts
from .engagement import Engagement
from .sms import SmsPull
from .sql import q
from .streams import MAX_PAGE_SIZE, Journal, Progress, Stream, run_stream

__all__ = ["ListrakCredentials", "listrak"]

_NAME = "dlt"  # the source name the pull's helpers put in messages
# Columns of the pull's run bookkeeping; dlt has its own (_dlt_load_id).
_RUN_COLUMNS = frozenset({"pulled_at", "run_id", "_page"})
_UTC_TIME = pa.timestamp("us", tz="UTC")
_T = TypeVar("_T")


def _blocking(make: Callable[[], AsyncIterator[_T]]) -> Iterator[_T]:
    """The items of ``make()``, read on a private event loop one at a time; closing this
    generator closes the async one (and any it opened) on that loop."""
    loop = asyncio.new_event_loop()
    items = make()

    async def step() -> _T:
        return await anext(items)

    try:
        while True:
            try:
                item = loop.run_until_complete(step())
            except StopAsyncIteration:
                return
            yield item
    finally:
        try:
            if isinstance(items, AsyncGenerator):
                loop.run_until_complete(items.aclose())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


@configspec
class ListrakCredentials(CredentialsConfiguration):
    """One Listrak integration's client (email and SMS have separate ones)."""

    client_id: str = None  # type: ignore[assignment]  # dlt configspecs default to None
    client_secret: TSecretStrValue = None  # type: ignore[assignment]

    def to_credentials(self) -> Credentials:
        return Credentials(client_id=self.client_id, client_secret=self.client_secret)

    def __str__(self) -> str:  # dlt prints credentials in messages: never the secret
        return f"listrak client {self.client_id}"


def _utc(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Listrak's times are UTC wall time: mark them so (dlt's timestamps carry a zone)."""
    fields = [
        pa.field(f.name, _UTC_TIME) if pa.types.is_timestamp(f.type) else f for f in batch.schema
    ]
    return batch.cast(pa.schema(fields))


def _listrak_time(value: Any) -> datetime | None:
    """An incremental's value as Listrak's filters take it: naive UTC."""
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, datetime.min.time())
    moment: datetime = value
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


async def _batches(
    stream: Stream,
    page_size: int,
    shape: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None,
) -> AsyncIterator[pa.RecordBatch]:
    """Each page of ``stream`` as one Arrow batch (passed through ``shape``); the next page
    is fetched meanwhile."""
    constants = {k: v for k, v in stream.constants.items() if k not in _RUN_COLUMNS}
    pages = stream.session.cursor_pages(
        stream.path, operation=stream.operation, params=stream.params, count=page_size
    )
    pending: asyncio.Future[Any] = asyncio.ensure_future(anext(pages, None))
    try:
        while (got := await pending) is not None:
            pending = asyncio.ensure_future(anext(pages, None))
            items: list[dict[str, Any]] = got[0]
            if stream.prepare is not None:
                items = stream.prepare(items)
            if items:
                batch = page_batch(items, stream.columns, constants)
                yield _utc(shape(batch) if shape is not None else batch)
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        if isinstance(pages, AsyncGenerator):
            await pages.aclose()


def _with_state(batch: pa.RecordBatch, columns: Sequence[str]) -> pa.RecordBatch:
    """A single-pass contacts page with the columns the pull derives in SQL (``subscribed``,
    ``changed_at``), in the pull table's column order."""
    subscribed = pc.equal(batch.column("subscription_state"), "Subscribed")
    changed = pc.max_element_wise(
        batch.column("subscribe_date"),
        batch.column("resubscribe_date"),
        batch.column("unsubscribe_date"),
        skip_nulls=True,
    )
    arrays = {name: batch.column(name) for name in batch.schema.names}
    arrays.update(subscribed=subscribed, changed_at=changed)
    return pa.RecordBatch.from_arrays([arrays[c] for c in columns], names=list(columns))


async def _joined_passes(
    contacts: EmailContacts,
    streams: Sequence[Stream],
    columns: Sequence[str],
    page_size: int,
) -> AsyncIterator[pa.RecordBatch]:
    """Contacts read in several field passes: staged and joined as the pull does, in a scratch
    DuckDB file, then yielded in batches."""
    with (
        tempfile.TemporaryDirectory(prefix="listrak-dlt-") as scratch,
        connect(str(Path(scratch) / "stage.duckdb")) as warehouse,
        StateStore(Path(scratch) / "state.sqlite") as store,
    ):
        journal = Journal(store, _NAME, "dlt")
        for stage in {s.stage: s for s in streams}.values():
            warehouse.write(stage.stage, [], mode="replace", schema=stage.schema)
        for stream in streams:
            await run_stream(stream, warehouse, journal, Progress(), page_size=page_size)
        contacts.build_stage(warehouse)
        select = f"SELECT {', '.join(q(c) for c in columns)} FROM {q(contacts.stage)}"
        for batch in warehouse.stream(select, batch_size=page_size):
            yield _utc(batch)


@dlt.source(name="listrak", max_table_nesting=0)
def listrak(
    list_id: int | None = None,
    fields: list[int] | None = None,
    all_fields: bool = False,
    field_names: dict[int, str] | None = None,
    sender_code_id: int | None = None,
    phone_lists: list[int] | None = None,
    opted_in_only: bool = False,
    sms_fields: list[int] | None = None,
    sms_field_names: dict[int, str] | None = None,
    messages_since: date | None = None,
    lookback_days: int = 14,
    email_credentials: ListrakCredentials | None = None,
    sms_credentials: ListrakCredentials | None = None,
    base_url: str | None = None,
    page_size: int = MAX_PAGE_SIZE,
) -> list[DltResource]:
    """Listrak email contacts, messages and activity of ``list_id``, and SMS contacts and
    opt-outs of ``sender_code_id`` (each part needs its id and credentials).

    ``base_url`` points auth and the APIs at one server (the emulator); unset, Listrak's
    hosts are used. Arguments not given are read from dlt's config and secrets
    (``sources.listrak.email_credentials.client_secret`` ...).
    """
    if list_id is None and sender_code_id is None:
        raise ValueError("listrak source: give list_id (email), sender_code_id (SMS), or both")
    settings = ClientSettings.for_base_url(base_url) if base_url else ClientSettings()

    def client(credentials: ListrakCredentials | None, integration: str) -> ListrakClient:
        if credentials is None or not credentials.client_id or not credentials.client_secret:
            raise ValueError(
                f"listrak source: {integration}_credentials (client_id and client_secret) are"
                f" not set; put them in dlt's secrets as sources.listrak.{integration}_credentials"
            )
        given = credentials.to_credentials()
        if integration == "email":
            return ListrakClient(email=given, settings=settings)
        return ListrakClient(sms=given, settings=settings)

    resources: list[DltResource] = []
    if list_id is not None:
        email = EmailSource(
            type="listrak_email",
            credential=_NAME,
            list_id=list_id,
            fields=fields or [],
            all_fields=all_fields,
            field_names=field_names or {},
        )
        engagement = Engagement(
            _NAME, list_id, EngagementConfig(enabled=True, since=messages_since), "listrak"
        )
        resources += _email_resources(
            email, engagement, lookback_days, lambda: client(email_credentials, "email"), page_size
        )
    if sender_code_id is not None:
        sms = SmsSource(
            type="listrak_sms",
            credential=_NAME,
            sender_code_id=sender_code_id,
            phone_lists=phone_lists or [],
            opted_in_only=opted_in_only,
            fields=sms_fields or [],
            field_names=sms_field_names or {},
        )
        resources += _sms_resources(sms, lambda: client(sms_credentials, "sms"), page_size)
    return resources


def _pulled_at() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _email_resources(
    config: EmailSource,
    engagement: Engagement,
    lookback_days: int,
    client: Any,
    page_size: int,
) -> list[DltResource]:
    @dlt.resource(
        name="email_contacts",
        primary_key=("list_id", "email_lower"),
        write_disposition="merge",
        # A contact whose state changed during the read is seen twice: keep the newest.
        columns={"changed_at": {"dedup_sort": "desc"}},
    )
    def email_contacts(
        changed_at: dlt.sources.incremental[datetime] = dlt.sources.incremental(
            "changed_at", on_cursor_value_missing="include"
        ),
    ) -> Iterator[pa.RecordBatch]:
        since = _listrak_time(changed_at.start_value)

        async def read() -> AsyncIterator[pa.RecordBatch]:
            async with client() as listrak_client:
                contacts = await EmailContacts.resolve(_NAME, config, "listrak", listrak_client)
                streams = contacts.streams(listrak_client, since, "dlt", _pulled_at())
                columns = [c for c in contacts.columns if c not in _RUN_COLUMNS]
                if len(contacts.passes()) > 1:
                    async for batch in _joined_passes(contacts, streams, columns, page_size):
                        yield batch
                    return
                for stream in streams:
                    async for batch in _batches(
                        stream, page_size, partial(_with_state, columns=columns)
                    ):
                        yield batch

        yield from _blocking(read)

    initial = (
        datetime.combine(engagement.config.since, datetime.min.time(), UTC)
        if engagement.config.since
        else None
    )

    @dlt.resource(name="messages", primary_key="message_id", write_disposition="merge")
    def messages(
        send_date: dlt.sources.incremental[datetime] = dlt.sources.incremental(
            "send_date", initial_value=initial, lag=lookback_days * 86400
        ),
    ) -> Iterator[pa.RecordBatch]:
        # Opens and clicks keep arriving after a send: `lag` re-reads the messages sent in the
        # last `lookback_days` before the newest one seen, and so their activity.
        start = _listrak_time(send_date.start_value)

        async def read() -> AsyncIterator[pa.RecordBatch]:
            async with client() as listrak_client:
                stream = engagement.messages_stream(listrak_client, start, "dlt", _pulled_at())
                async for batch in _batches(stream, page_size):
                    yield batch

        yield from _blocking(read)

    @dlt.transformer(
        data_from=messages,
        name="message_activity",
        primary_key=("message_id", "email_lower"),
        write_disposition="merge",
    )
    def message_activity(page: pa.RecordBatch | pa.Table) -> Iterator[pa.RecordBatch]:
        async def read() -> AsyncIterator[pa.RecordBatch]:
            async with client() as listrak_client:
                for message_id in page.column("message_id").to_pylist():
                    stream = engagement.activity_stream(
                        listrak_client, int(message_id), "dlt", _pulled_at()
                    )
                    async for batch in _batches(stream, page_size):
                        yield batch

        yield from _blocking(read)

    return [email_contacts, messages, message_activity]


def _sms_resources(config: SmsSource, client: Any, page_size: int) -> list[DltResource]:
    @dlt.resource(name="sms_contacts", write_disposition="replace")
    def sms_contacts() -> Iterator[pa.RecordBatch]:
        # Listrak's SMS list contacts carry no dates to read changes by: read whole each time.
        async def read() -> AsyncIterator[pa.RecordBatch]:
            async with client() as listrak_client:
                sms = await SmsPull.resolve(_NAME, config, "listrak", listrak_client)
                for stream in sms.streams(listrak_client, None, "dlt", _pulled_at()):
                    if stream.key != "opt_outs":
                        async for batch in _batches(stream, page_size):
                            yield batch

        yield from _blocking(read)

    @dlt.resource(name="sms_opt_outs", primary_key="phone_number", write_disposition="merge")
    def sms_opt_outs(
        opt_out_date: dlt.sources.incremental[datetime] = dlt.sources.incremental(
            "opt_out_date", on_cursor_value_missing="include"
        ),
    ) -> Iterator[pa.RecordBatch]:
        since = _listrak_time(opt_out_date.start_value)

        async def read() -> AsyncIterator[pa.RecordBatch]:
            async with client() as listrak_client:
                # Opt-outs need no list or field lookups: an SmsPull without them.
                sms = SmsPull(_NAME, config, "listrak", [], [])
                for stream in sms.streams(listrak_client, since, "dlt", _pulled_at()):
                    if stream.key == "opt_outs":
                        async for batch in _batches(stream, page_size):
                            yield batch

        yield from _blocking(read)

    return [sms_contacts, sms_opt_outs]
