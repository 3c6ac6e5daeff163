"""Paged reads into staging tables, journaled page by page so a killed pull resumes.

A stream is one paged collection read (one subscription state and set of profile fields, one
message's activity...). Pages are fetched at the maximum page size by a producer task while the
previous page is turned into an Arrow batch and appended to the stream's staging table, so
network waits and warehouse writes overlap. After each page is written, the cursor of the next
page is recorded in the state store: a pull killed at any point resumes from the last written
page. A page written but not yet journaled is read again on resume; staging rows carry the page
number and the merge keeps one row per key, so the repeat is harmless.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..listrak import Session
from ..state import StateBackend
from ..warehouse import Warehouse
from .columns import ColumnSpec, page_batch, schema_of

__all__ = ["MAX_PAGE_SIZE", "Journal", "Progress", "Stream", "run_stream"]

MAX_PAGE_SIZE = 5000
PAGE_COLUMN = "_page"


class Progress:
    """Where streams report rows as they land (the CLI draws progress bars from it)."""

    def rows(self, stream: str, count: int) -> None:
        """``count`` more rows of ``stream`` are in the warehouse."""


@dataclass
class Stream:
    """One paged collection read into one staging table."""

    key: str  # unique within the run; names the journal entry
    session: Session
    path: str
    operation: str
    stage: str
    columns: Sequence[ColumnSpec]
    params: Mapping[str, Any] = field(default_factory=dict)
    constants: Mapping[str, pa.Scalar] = field(default_factory=dict)
    prepare: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    on_page: Callable[[list[dict[str, Any]]], None] | None = None
    label: str = ""

    @property
    def schema(self) -> pa.Schema:
        constants = {**self.constants, PAGE_COLUMN: pa.scalar(0, pa.int64())}
        return schema_of(self.columns, constants)


class Journal:
    """Per-run stream progress in the state store's checkpoints (scope ``pull:{source}``)."""

    def __init__(self, store: StateBackend, source: str, run_id: str) -> None:
        self.store = store
        self.scope = f"pull:{source}"
        self.run_id = run_id

    def get(self, key: str) -> dict[str, Any]:
        raw = self.store.checkpoint(self.scope, f"{self.run_id}/{key}")
        return json.loads(raw) if raw else {"next": "Start", "rows": 0, "pages": 0, "done": False}

    def set(self, key: str, value: dict[str, Any]) -> None:
        self.store.set_checkpoint(self.scope, f"{self.run_id}/{key}", json.dumps(value))


async def run_stream(
    stream: Stream,
    warehouse: Warehouse,
    journal: Journal,
    progress: Progress,
    *,
    page_size: int = MAX_PAGE_SIZE,
    pause: Callable[[str], None] | None = None,
) -> int:
    """Read ``stream`` to its end into its staging table; returns the rows it holds.

    ``pause`` is called with ``pull_page:{key}:{page}`` after each page is journaled (the
    test hook that kills a pull midway)."""
    state = journal.get(stream.key)
    if state["done"]:
        progress.rows(stream.label or stream.key, int(state["rows"]))
        return int(state["rows"])
    progress.rows(stream.label or stream.key, int(state["rows"]))
    schema = stream.schema
    queue: asyncio.Queue[tuple[list[dict[str, Any]], str | None] | None] = asyncio.Queue(2)

    async def produce() -> None:
        async for page in stream.session.cursor_pages(
            stream.path,
            operation=stream.operation,
            params=stream.params,
            start=str(state["next"]),
            count=page_size,
        ):
            await queue.put(page)
        await queue.put(None)

    producer = asyncio.create_task(produce())
    try:
        while True:
            got = await queue.get()
            if got is None:
                break
            items, following = got
            if stream.on_page is not None:
                stream.on_page(items)
            if stream.prepare is not None:
                items = stream.prepare(items)
            number = int(state["pages"]) + 1
            constants = {**stream.constants, PAGE_COLUMN: pa.scalar(number, pa.int64())}
            batch = page_batch(items, stream.columns, constants)
            if batch.num_rows:
                await asyncio.to_thread(
                    warehouse.write, stream.stage, [batch], mode="append", schema=schema
                )
            state = {
                "next": following,
                "rows": int(state["rows"]) + batch.num_rows,
                "pages": number,
                "done": following is None,
            }
            journal.set(stream.key, state)
            progress.rows(stream.label or stream.key, batch.num_rows)
            if pause is not None:
                pause(f"pull_page:{stream.key}:{number}")
        await producer
    finally:
        if not producer.done():
            producer.cancel()
    if not state["done"]:  # an empty collection: no page said so
        state = {**state, "next": None, "done": True}
        journal.set(stream.key, state)
    return int(state["rows"])
