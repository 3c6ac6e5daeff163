"""Small DuckDB helpers shared by the email modules."""

from __future__ import annotations

from typing import Any

import duckdb

__all__ = ["first"]


def first(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of a result, reading it to the end.

    DuckDB refuses new statements on a connection whose last result is still open, and a
    ``fetchone()`` can leave a streaming result open; reading every row closes it.
    """
    rows = result.fetchall()
    return rows[0] if rows else None
