"""The audit tables: one ``audit_<destination>`` table per destination, one row per member
change a sync made (or tried to make) there, for analysts to query and join.

Columns (a stable schema, documented in docs/reference/state-tables.md; columns are only
ever added): ``run_id``, ``target`` (campaign/destination[/group]), ``key`` (the email
address or phone number), ``customer_key``, ``change`` (why: enter, change, leave, rest),
``action`` (what was sent: the step kind, e.g. add, update, flag_off, remove, unsubscribe),
``step_id``, ``outcome`` (added, applied, declined, failed, absent), ``result`` (Listrak's
word for it), ``reason`` and ``recorded_at``.

A run's rows are written when it commits, replacing any rows the same run wrote before (a
run killed while committing writes them again when it is finished): each run's rows appear
once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import pyarrow as pa

from .connection import StateConnection
from .dialect import quote
from .names import table_name

__all__ = ["AUDIT_SCHEMA", "CHANGE_COLUMNS", "audit_table", "write_audit"]

# What the plan gives per changed member (see sync/plan.py ``PlanFiles.changes``).
CHANGE_COLUMNS = pa.schema(
    [
        ("key", pa.string()),
        ("customer_key", pa.string()),
        ("change", pa.string()),
        ("action", pa.string()),
        ("step_id", pa.string()),
        ("outcome", pa.string()),
        ("result", pa.string()),
        ("reason", pa.string()),
    ]
)
AUDIT_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("target", pa.string()),
        *CHANGE_COLUMNS,
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)

_CREATE = """CREATE TABLE IF NOT EXISTS {table} (
    run_id {text} NOT NULL,
    target {text} NOT NULL,
    key {text} NOT NULL,
    customer_key {text},
    change {text} NOT NULL,
    action {text},
    step_id {text},
    outcome {text},
    result {text},
    reason {text},
    recorded_at {timestamp} NOT NULL
)"""


def audit_table(destination: str) -> str:
    """The bare name of ``destination``'s audit table."""
    return table_name("audit", destination)


def write_audit(
    connection: StateConnection,
    schema: str,
    destination: str,
    target: str,
    run_id: str,
    changes: Iterable[pa.RecordBatch],
) -> int:
    """Replace ``run_id``'s rows in ``destination``'s audit table with ``changes``
    (:data:`CHANGE_COLUMNS` batches); returns the row count."""
    table = audit_table(destination)
    qualified = f"{quote(schema)}.{quote(table)}"
    dialect = connection.dialect
    at = datetime.now(UTC)
    rows = 0

    def stamped() -> Iterator[pa.RecordBatch]:
        nonlocal rows
        for batch in changes:
            rows += batch.num_rows
            size = batch.num_rows
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array([run_id] * size, pa.string()),
                    pa.array([target] * size, pa.string()),
                    *batch.select(CHANGE_COLUMNS.names).cast(CHANGE_COLUMNS).columns,
                    pa.array([at] * size, AUDIT_SCHEMA.field("recorded_at").type),
                ],
                schema=AUDIT_SCHEMA,
            )

    connection.execute(dialect.sql(_CREATE, table=qualified))
    with connection.transaction():
        connection.execute(
            dialect.sql(f"DELETE FROM {qualified} WHERE run_id = ? AND target = ?"),
            (run_id, target),
        )
        connection.ingest(schema, table, pa.RecordBatchReader.from_batches(AUDIT_SCHEMA, stamped()))
    return rows
