"""A per-contact call's writes: decided first, then applied as one change.

Deciding every write before running any means a refusal never needs a rollback, and a call
that writes once skips BEGIN and COMMIT: a single statement is atomic on its own.

The busiest calls (Create Contact, Subscribe) first try the common case blind: plain INSERTs
that assume nothing about the number exists yet, which the primary keys refuse
(``duckdb.ConstraintException``) when something does. Only then does the call look the number
up and decide exactly, as it always did, so a refusal answers the same either way; the blind
try saves the lookup, which costs as much as a write.
"""

from __future__ import annotations

from typing import Any

import duckdb

__all__ = ["Statement", "apply_writes"]

Statement = tuple[str, list[Any] | dict[str, Any]]


def apply_writes(cur: duckdb.DuckDBPyConnection, statements: list[Statement]) -> None:
    """Run ``statements`` all or nothing."""
    if len(statements) == 1:
        cur.execute(*statements[0])
        return
    if not statements:
        return
    cur.execute("BEGIN TRANSACTION")
    try:
        for sql, params in statements:
            cur.execute(sql, params)
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")
