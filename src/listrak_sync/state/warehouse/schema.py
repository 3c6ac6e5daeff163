"""The state tables in the state schema, created on first use.

Their columns are documented for analysts in docs/reference/state-tables.md (a stable
schema: columns are only ever added). ``runs``, ``steps``, ``row_outcomes``, ``checkpoints``
and ``locks`` hold what ``.listrak-sync/state.sqlite`` holds locally; ``run_files`` holds the
Parquet files of an unfinished run's plan, so another working directory can finish it;
``snapshot_<target>`` tables (``snapshots.py``) and ``audit_<destination>`` tables
(``audit.py``) are made per synced target and per destination.
"""

from __future__ import annotations

from contextlib import nullcontext

from .connection import StateConnection, lock_key
from .dialect import quote

__all__ = ["SCHEMA_VERSION", "ensure_schema"]

SCHEMA_VERSION = 1

_TABLES = [
    """CREATE TABLE IF NOT EXISTS {s}.runs (
        seq {identity},
        run_id {text} PRIMARY KEY,
        kind {text} NOT NULL,
        target {text} NOT NULL,
        status {text} NOT NULL,
        started_at {timestamp} NOT NULL,
        finished_at {timestamp},
        counts {text} NOT NULL,
        details {text} NOT NULL,
        error {text}
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.steps (
        seq {identity},
        run_id {text} NOT NULL,
        step_id {text} NOT NULL,
        kind {text} NOT NULL,
        status {text} NOT NULL,
        payload {text} NOT NULL,
        external_id {text},
        result {text},
        updated_at {timestamp} NOT NULL,
        PRIMARY KEY (run_id, step_id)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.row_outcomes (
        seq {identity},
        run_id {text} NOT NULL,
        step_id {text},
        key {text} NOT NULL,
        outcome {text} NOT NULL,
        field {text},
        reason {text}
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.checkpoints (
        scope {text} NOT NULL,
        name {text} NOT NULL,
        value {text} NOT NULL,
        updated_at {timestamp} NOT NULL,
        PRIMARY KEY (scope, name)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.locks (
        resource {text} PRIMARY KEY,
        run_id {text} NOT NULL,
        host {text} NOT NULL,
        pid {bigint} NOT NULL,
        acquired_at {timestamp} NOT NULL,
        owner {text},
        expires_at {timestamp}
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.run_files (
        run_id {text} NOT NULL,
        name {text} NOT NULL,
        part {bigint} NOT NULL,
        data {bytes} NOT NULL,
        PRIMARY KEY (run_id, name, part)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.schema_version (
        version {bigint} NOT NULL
    )""",
]


def ensure_schema(connection: StateConnection, schema: str) -> None:
    """Create the schema (if missing and allowed) and the state tables (if missing).

    A role without the right to create schemas works in one made for it (the GRANT statements
    are in the warehouse guide): an existing schema is never created again."""
    dialect = connection.dialect
    found = connection.rows(
        dialect.sql("SELECT 1 FROM information_schema.schemata WHERE lower(schema_name) = ?"),
        (schema,),
    )
    # Snowflake commits DDL at once, whatever the transaction: its statements run one by one
    # (and its CREATE ... IF NOT EXISTS takes a racing twin).
    atomic = connection.transaction() if dialect.transactional_ddl else nullcontext()
    with atomic:
        # Two first runs at once must not both create the tables (PostgreSQL's catalog
        # refuses the second CREATE ... IF NOT EXISTS racing the first).
        connection.lock_transaction(lock_key(schema, "schema"))
        if not found:
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
        for statement in _TABLES:
            connection.execute(dialect.sql(statement, s=quote(schema)))
        for statement in dialect.indexes:
            connection.execute(dialect.sql(statement, s=quote(schema)))
        if not connection.rows(f"SELECT version FROM {quote(schema)}.schema_version"):
            connection.execute(
                dialect.sql(f"INSERT INTO {quote(schema)}.schema_version VALUES (?)"),
                (SCHEMA_VERSION,),
            )
