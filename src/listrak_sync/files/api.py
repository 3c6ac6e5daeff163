"""Validated records as Data Import API JSON: camelCase keys, nested address, items in orders.

The API has no order-item route: items travel inside their order (§3.1). Orders and items are
both streams, so they are joined in a scratch DuckDB file (which spills to disk) rather than in
Python memory, and read back in the orders' source order with each order's items as a list.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..config.datasets import Column
from .csvfile import iso_datetime

__all__ = ["OrderJoin", "api_batch", "to_records"]

# Birthday is a date in the file and a date-time in the API. Noon UTC keeps the same calendar
# day in every zone from UTC-11 to UTC+11, whichever zone Listrak converts to (unverified, §3.2).
_BIRTHDAY_TIME = "12:00:00"
_ROW = "__row"


def api_batch(batch: pa.RecordBatch, columns: Sequence[Column]) -> pa.RecordBatch:
    """A validated batch with API field names and date-times rendered as RFC 3339 text."""
    arrays: list[pa.Array] = []
    names: list[str] = []
    for column in columns:
        if column.api_field is None:
            continue
        values = batch.column(column.name)
        if pa.types.is_timestamp(values.type):
            values = iso_datetime(values)
        elif pa.types.is_date(values.type):
            values = iso_datetime(values, _BIRTHDAY_TIME)
        arrays.append(values)
        names.append(column.api_field)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def to_records(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """JSON records from an :func:`api_batch`; null keys are left out, dotted names nested."""
    nested = [n for n in batch.schema.names if "." in n]
    records: list[dict[str, Any]] = []
    for row in batch.to_pylist():
        record = {k: v for k, v in row.items() if v is not None and "." not in k and k != _ROW}
        for name in nested:
            value = row[name]
            if value is not None:
                parent, child = name.split(".", 1)
                record.setdefault(parent, {})[child] = value
        if "items" in record:
            record["items"] = [_compact(item) for item in record["items"]]
        records.append(record)
    return records


class OrderJoin:
    """Stages API-ready orders and items in a scratch DuckDB file and reads orders with items."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = duckdb.connect(str(path))
        self._db.execute("SET preserve_insertion_order = true")
        self._tables: set[str] = set()

    def add(self, table: str, batch: pa.RecordBatch, rows: pa.Array) -> None:
        staged = pa.Table.from_batches([batch]).append_column(_ROW, rows)
        self._db.register("incoming", staged)
        if table in self._tables:
            self._db.execute(f"INSERT INTO {table} SELECT * FROM incoming")
        else:
            self._db.execute(f"CREATE TABLE {table} AS SELECT * FROM incoming")
            self._tables.add(table)
        self._db.unregister("incoming")

    def orphans(self) -> pa.Array:
        """Source rows of items whose order is not among the staged orders."""
        if "items" not in self._tables:
            return pa.array([], pa.int64())
        if "orders" not in self._tables:
            sql = f"SELECT {_ROW} FROM items ORDER BY {_ROW}"
        else:
            sql = (
                f"SELECT i.{_ROW} FROM items i ANTI JOIN orders o "
                f'ON o."orderNumber" = i."orderNumber" ORDER BY i.{_ROW}'
            )
        return self._table(sql).column(0).combine_chunks()

    def orders(self, batch_size: int) -> Iterator[pa.RecordBatch]:
        """Orders in source order, each with an ``items`` list in the items' source order."""
        if "orders" not in self._tables:
            return
        if "items" in self._tables:
            fields = ", ".join(f'"{n}" := i."{n}"' for n in self._columns("items") if n != _ROW)
            sql = (
                "WITH grouped AS ("
                f'SELECT i."orderNumber" AS __key, list(struct_pack({fields}) ORDER BY i.{_ROW})'
                ' AS items FROM items i GROUP BY i."orderNumber") '
                "SELECT o.*, g.items FROM orders o LEFT JOIN grouped g "
                f'ON g.__key = o."orderNumber" ORDER BY o.{_ROW}'
            )
        else:
            sql = f"SELECT * FROM orders ORDER BY {_ROW}"
        yield from self._db.sql(sql).to_arrow_reader(batch_size)

    def _table(self, sql: str) -> pa.Table:
        return self._db.sql(sql).to_arrow_table()

    def _columns(self, table: str) -> list[str]:
        return list(self._table(f"SELECT * FROM {table} LIMIT 0").schema.names)

    def close(self) -> None:
        self._db.close()
        for suffix in ("", ".wal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
