"""The warehouse SQL of a pull: staging tables, one row per key, merge or replace.

Plain ANSI SQL (window functions, ``DELETE ... WHERE key IN``, ``CREATE TABLE AS``), so the same
statements run on DuckDB and on the engines that come next; the work happens in the warehouse,
never row by row in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..warehouse import Warehouse

__all__ = [
    "counts_by",
    "greatest_present",
    "latest_rows",
    "merge",
    "newest",
    "q",
    "replace",
    "stage_name",
]


def q(name: str) -> str:
    """A quoted identifier (``schema.table`` quotes each part)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def greatest_present(*values: str) -> str:
    """The greatest of the non-NULL ``values`` (SQL expressions), NULL when all are: DuckDB's
    and PostgreSQL's ``greatest`` skip NULLs, Snowflake's returns NULL, so each argument falls
    back on the others and every engine gives the same answer."""
    if len(values) == 1:
        return values[0]
    fallbacks = [
        f"coalesce({', '.join([value, *(v for v in values if v != value)])})" for value in values
    ]
    return f"greatest({', '.join(fallbacks)})"


def stage_name(prefix: str, what: str) -> str:
    return f"{prefix}__stage_{what}"


def latest_rows(
    source: str, key: Sequence[str], order: Sequence[str], columns: Sequence[str]
) -> str:
    """``SELECT columns`` of ``source`` keeping one row per ``key``: the first by ``order``."""
    partition = ", ".join(q(k) for k in key)
    ordering = ", ".join(order)
    wanted = ", ".join(q(c) for c in columns)
    return (
        f"SELECT {wanted} FROM (SELECT *, row_number() OVER (PARTITION BY {partition}"
        f" ORDER BY {ordering}) AS _rank FROM {source}) ranked WHERE _rank = 1"
    )


def replace(warehouse: Warehouse, table: str, select: str) -> None:
    """Make ``table`` exactly the result of ``select``, in one transaction."""
    warehouse.execute(
        f"BEGIN TRANSACTION; DROP TABLE IF EXISTS {q(table)};"
        f" CREATE TABLE {q(table)} AS {select}; COMMIT"
    )


def merge(
    warehouse: Warehouse,
    table: str,
    select: str,
    key: Sequence[str],
    columns: Sequence[str],
    *,
    keep: str | None = None,
) -> None:
    """Upsert the rows of ``select`` into ``table`` by ``key``, in one transaction.

    Rows of ``table`` whose key is in ``select`` are replaced; with ``keep`` (a predicate over
    the selected columns), selected rows failing it are only removed, not inserted (how an
    unsubscribed contact leaves a subscribed-only table). A missing table is created.
    """
    if not warehouse_has(warehouse, table):
        where = f" WHERE {keep}" if keep else ""
        warehouse.execute(f"CREATE TABLE {q(table)} AS SELECT * FROM ({select}) s{where}")
        return
    names = ", ".join(q(c) for c in columns)
    if len(key) == 1:
        match = f"{q(key[0])} IN (SELECT {q(key[0])} FROM _changes)"
    else:
        pairs = " AND ".join(f"t.{q(k)} = c.{q(k)}" for k in key)
        match = f"EXISTS (SELECT 1 FROM _changes c WHERE {pairs})"
    where = f" WHERE {keep}" if keep else ""
    # The changes are staged before the transaction, so it holds only the DELETE and INSERT:
    # on Snowflake DDL would commit an open transaction (and fakesnow refuses it).
    warehouse.execute(
        "DROP TABLE IF EXISTS _changes;"
        f" CREATE TEMP TABLE _changes AS {select};"
        " BEGIN TRANSACTION;"
        f" DELETE FROM {q(table)} t WHERE {match};"
        f" INSERT INTO {q(table)} ({names}) SELECT {names} FROM _changes{where};"
        " COMMIT;"
        " DROP TABLE _changes"
    )


def warehouse_has(warehouse: Warehouse, table: str) -> bool:
    return table in warehouse.tables()


def drop(warehouse: Warehouse, tables: Sequence[str]) -> None:
    if tables:
        warehouse.execute("; ".join(f"DROP TABLE IF EXISTS {q(t)}" for t in tables))


def newest(warehouse: Warehouse, table: str, column: str) -> datetime | None:
    """The latest timestamp in ``column`` of ``table``; None when it has none."""
    found = warehouse.query(f"SELECT max({q(column)}) AS m FROM {q(table)}")
    value = found.column("m")[0].as_py()
    return value if isinstance(value, datetime) else None


def counts_by(warehouse: Warehouse, select: str) -> dict[Any, int]:
    """``{s: n}`` of a ``SELECT ... AS s, count(*) AS n ... GROUP BY 1`` query."""
    found = warehouse.query(select)
    groups, counts = found.column("s").to_pylist(), found.column("n").to_pylist()
    return {group: int(n) for group, n in zip(groups, counts, strict=True)}
