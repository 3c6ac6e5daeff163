"""List import records and the background worker that processes them, one at a time.

``POST ListImport`` records the import as ``Queued`` and hands the job to a single worker thread
(imports of a list apply in the order they were posted, as on Listrak). The worker marks it
``Processing``, applies it in one transaction on its own cursor under ``state.lock``, then marks
it ``Completed`` with the summary counts, or ``Failed``. An import still queued or processing
when the emulator stops is ``Failed`` after a restart: its file was only held in memory.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import duckdb

from ..state import EmulatorState, allocate_id
from .addresses import now
from .import_jobs import COUNT_COLUMNS, ImportJob, apply_job

__all__ = ["SCHEMA", "STATUSES", "SUMMARY_MEMBERS", "ImportQueue", "create_import", "import_queue"]

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS email_import (
    import_id INTEGER PRIMARY KEY,
    list_id INTEGER NOT NULL,
    file_name VARCHAR NOT NULL,
    import_date TIMESTAMP NOT NULL,
    import_type VARCHAR NOT NULL,
    segmentation_import_type VARCHAR NOT NULL,
    options VARCHAR NOT NULL,  -- the remaining ImportFile members, as JSON
    status VARCHAR NOT NULL,
    start_date TIMESTAMP,
    end_date TIMESTAMP,
    error VARCHAR,
    counts VARCHAR  -- ListImportSummary members, as JSON, once completed
);
CREATE TABLE IF NOT EXISTS email_import_contact (
    import_id INTEGER NOT NULL,
    row_no BIGINT NOT NULL,
    email VARCHAR,
    result VARCHAR NOT NULL
);
"""

STATUSES = ("Queued", "Processing", "Completed", "Failed")
SUMMARY_MEMBERS = ("processedCount", *COUNT_COLUMNS)

_QUEUES: dict[int, ImportQueue] = {}


def create_import(
    db: duckdb.DuckDBPyConnection,
    state: EmulatorState,
    list_id: int,
    file_name: str,
    import_type: str,
    segmentation_import_type: str,
    options: dict[str, Any],
) -> int:
    """Record a new ``Queued`` import and return its id (call under ``state.lock``)."""
    import_id = allocate_id(db, "email_import", "email_import", "import_id", 1)
    db.execute(
        "INSERT INTO email_import VALUES (?, ?, ?, ?, ?, ?, ?, 'Queued', NULL, NULL, NULL, NULL)",
        [
            import_id,
            list_id,
            file_name,
            now(state),
            import_type,
            segmentation_import_type,
            json.dumps(options),
        ],
    )
    return import_id


class ImportQueue:
    """One worker thread per emulator; ``paused()`` holds it so tests can see ``Queued``."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._executor: ThreadPoolExecutor | None = None
        self._generation = 0
        self._open = threading.Event()
        self._open.set()
        self._apply_open = threading.Event()
        self._apply_open.set()
        self._started = threading.Event()

    def submit(self, job: ImportJob) -> Future[None]:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="email-import")
        return self._executor.submit(self._run, job, self._generation)

    def forget_pending(self) -> None:
        """After a reset: jobs posted before it must not touch the new state."""
        self._generation += 1

    @contextmanager
    def paused(self, *, after_start: bool = False) -> Iterator[None]:
        """Hold the worker before it starts an import (``Queued``), or once it has marked it
        ``Processing`` (``after_start``), until the block ends. For tests."""
        gate = self._apply_open if after_start else self._open
        self._started.clear()
        gate.clear()
        try:
            yield
        finally:
            gate.set()

    def wait_started(self, timeout: float) -> bool:
        """Wait until the worker has marked an import ``Processing`` (see ``paused``)."""
        return self._started.wait(timeout)

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until every job posted so far has finished."""
        if self._executor is not None:
            self._executor.submit(lambda: None).result(timeout)

    def _run(self, job: ImportJob, generation: int) -> None:
        self._open.wait()
        state = self._state
        with state.lock:
            if generation != self._generation:
                return
            self._mark_processing(job)
        self._started.set()
        self._apply_open.wait()
        with state.lock:
            if generation != self._generation:
                return
            self._apply(job)

    def _mark_processing(self, job: ImportJob) -> None:
        state = self._state
        with state.cursor() as cur:
            cur.execute(
                "UPDATE email_import SET status = 'Processing', start_date = ? WHERE import_id = ?",
                [now(state), job.import_id],
            )

    def _apply(self, job: ImportJob) -> None:
        state = self._state
        with state.cursor() as cur:
            try:
                cur.execute("BEGIN")
                counts = apply_job(cur, job, now(state))
                full = {name: counts.get(name, 0) for name in SUMMARY_MEMBERS}
                cur.execute(
                    "UPDATE email_import SET status = 'Completed', end_date = ?, counts = ?"
                    " WHERE import_id = ?",
                    [now(state), json.dumps(full), job.import_id],
                )
                cur.execute("COMMIT")
            except Exception as exc:
                log.exception("list import %s failed", job.import_id)
                cur.execute("ROLLBACK")
                cur.execute(
                    "UPDATE email_import SET status = 'Failed', end_date = ?, error = ?"
                    " WHERE import_id = ?",
                    [now(state), f"{type(exc).__name__}: {exc}", job.import_id],
                )


def import_queue(state: EmulatorState) -> ImportQueue:
    """The import queue of a running emulator (created by the email module's install)."""
    return _QUEUES[id(state)]


def install_queue(state: EmulatorState) -> ImportQueue:
    state.register_schema(SCHEMA)
    state.db.execute(
        "UPDATE email_import SET status = 'Failed', end_date = coalesce(end_date, import_date),"
        " error = 'The emulator stopped before the import finished.'"
        " WHERE status IN ('Queued', 'Processing')"
    )
    queue = ImportQueue(state)
    _QUEUES[id(state)] = queue
    state.on_reset(lambda _state: queue.forget_pending())
    return queue
