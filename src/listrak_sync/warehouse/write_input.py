"""What server engines' ``write()`` does with its input: its arguments checked, one Arrow reader
over a table or an iterable of batches (cast to a given schema), the exception the caller's
iterator raised kept aside and raised instead of the driver's report of it, an append's columns
checked against the table's, and columns put in a table's order. Shared by the PostgreSQL and
Snowflake adapters; each keeps its own SQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import pyarrow as pa

from .base import WarehouseError

__all__ = [
    "chain",
    "check_append_columns",
    "input_reader",
    "reordered",
    "source_failure_first",
    "write_input",
]


def write_input(
    table: str, data: pa.Table | Iterable[pa.RecordBatch], mode: str, schema: pa.Schema | None
) -> tuple[pa.RecordBatchReader, list[BaseException]] | None:
    """``input_reader`` after the checks every ``write()`` makes: a known mode, and a schema when
    ``replace`` gets no batches. ``None`` when an append has nothing to write (0 rows)."""
    if mode not in ("replace", "append"):
        raise WarehouseError(f"unknown write mode {mode!r} (replace or append)")
    reader, source_error = input_reader(data, schema)
    if reader is None:
        if mode == "append":
            return None
        raise WarehouseError(f"cannot create {table!r} from no batches without a schema")
    return reader, source_error


def check_append_columns(
    connection: str,
    table: str,
    incoming: Sequence[str],
    present: Sequence[str],
    *,
    fold_case: bool = False,
) -> None:
    """Refuse an append whose input has a column ``table`` lacks (``fold_case``: names compared
    case-insensitively, as Snowflake's unquoted names are)."""

    def key(name: str) -> str:
        return name.lower() if fold_case else name

    have = {key(name) for name in present}
    missing = [name for name in incoming if key(name) not in have]
    if missing:
        raise WarehouseError(f"{connection}: {table!r} has no column {missing[0]!r}")


@contextmanager
def source_failure_first(source_error: list[BaseException]) -> Iterator[None]:
    """Inside the block, a failure while the caller's input had failed is that input's
    exception (the driver reports it only as text, or as its own error), not the driver's."""
    try:
        yield
    except BaseException:
        if source_error:
            raise source_error[0] from None
        raise


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
