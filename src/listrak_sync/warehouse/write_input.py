"""What server engines' ``write()`` does with its input: one Arrow reader over a table or an
iterable of batches (cast to a given schema), the exception the caller's iterator raised kept
aside, and columns put in a table's order. Shared by the PostgreSQL and Snowflake adapters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

__all__ = ["chain", "input_reader", "reordered"]


def input_reader(
    data: pa.Table | Iterable[pa.RecordBatch], schema: pa.Schema | None
) -> tuple[pa.RecordBatchReader | None, list[BaseException]]:
    """A reader over the input (cast to ``schema``), and a list that receives the exception the
    caller's iterator raised (drivers report it only as text, or not at all). ``None`` when the
    input has no batches and no schema says what table it would make."""
    errors: list[BaseException] = []
    if isinstance(data, pa.Table):
        table = data.cast(schema) if schema is not None else data
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches()), errors
    batches = iter(data)
    if schema is None:
        first = next(batches, None)
        if first is None:
            return None, errors
        schema = first.schema
        batches = chain(first, batches)
    target = schema

    def checked() -> Iterator[pa.RecordBatch]:
        try:
            for batch in batches:
                yield batch if batch.schema.equals(target) else batch.cast(target)
        except BaseException as exc:
            errors.append(exc)
            raise

    return pa.RecordBatchReader.from_batches(target, checked()), errors


def reordered(reader: pa.RecordBatchReader, columns: list[str]) -> pa.RecordBatchReader:
    """``reader`` with its columns in the table's order, missing ones as nulls (bulk loads such
    as COPY match by position)."""
    source = reader.schema
    fields = [
        source.field(name) if name in source.names else pa.field(name, pa.null())
        for name in columns
    ]
    schema = pa.schema(fields)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            arrays = [
                batch.column(name) if name in source.names else pa.nulls(batch.num_rows)
                for name in columns
            ]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest
