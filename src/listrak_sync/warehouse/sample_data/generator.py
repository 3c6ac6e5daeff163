"""generate(): build the sample retail tables in a warehouse."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from time import perf_counter

from ..base import Warehouse, WarehouseError
from ..duckdb import DuckDBWarehouse, quote_table
from . import DEFAULT_SEED
from .sql import TABLES, cleanup, statements

__all__ = ["TABLES", "SampleData", "generate"]


@dataclass(frozen=True)
class SampleData:
    """What generate() wrote: rows per table, and how long it took."""

    customers: int
    seed: int
    as_of: date
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def generate(
    warehouse: Warehouse,
    *,
    customers: int,
    seed: int = DEFAULT_SEED,
    as_of: date | None = None,
    replace: bool = False,
) -> SampleData:
    """Write the sample tables (see ``TABLES``) for ``customers`` customers into ``warehouse``.

    The same ``customers``, ``seed`` and ``as_of`` (default: today; dates fall before it) give
    identical tables. On DuckDB the data is generated in place by SQL; another engine receives
    it as Arrow batches streamed from a scratch in-memory DuckDB. Existing sample tables are
    only overwritten with ``replace=True``.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if customers >= 100_000_000:
        raise ValueError("customers must be below 100,000,000 (ids are C + 8 digits)")
    as_of = as_of or date.today()
    if not replace:
        existing = sorted(set(TABLES) & set(warehouse.tables()))
        if existing:
            raise WarehouseError(
                f"the warehouse already has {', '.join(existing)}; pass replace=True "
                "(--replace on the command line) to overwrite them"
            )
    started = perf_counter()
    if warehouse.dialect == "duckdb":
        rows = _build(warehouse, customers, seed, as_of)
    else:
        with DuckDBWarehouse() as scratch:
            _build(scratch, customers, seed, as_of)
            rows = {
                table: warehouse.write(table, scratch.stream(f"SELECT * FROM {quote_table(table)}"))
                for table in TABLES
            }
    return SampleData(customers, seed, as_of, rows, perf_counter() - started)


def _build(warehouse: Warehouse, customers: int, seed: int, as_of: date) -> dict[str, int]:
    try:
        for _, sql in statements(customers, seed, as_of):
            warehouse.execute(sql)
    finally:
        warehouse.execute(cleanup())
    counts = " UNION ALL ".join(
        f"SELECT '{table}' AS t, count(*) AS n FROM {quote_table(table)}" for table in TABLES
    )
    found = dict(zip(*warehouse.query(counts).to_pydict().values(), strict=True))
    return {table: int(found[table]) for table in TABLES}
