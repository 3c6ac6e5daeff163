"""Import files: rows or Arrow record batches to CSV parts under a byte limit.

Rows are Python sequences (one value per column, ``None`` as empty) or Arrow record batches
(columns by position; pyarrow writes their CSV without a Python loop per row). Every part starts
with the header line when there is one, and no part passes ``max_bytes`` unless a single row
alone would, which is an error naming the row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = ["CsvPart", "ImportColumn", "Rows", "csv_parts"]

Rows = Iterable[Sequence[Any] | pa.RecordBatch | pa.Table]


@dataclass(frozen=True)
class ImportColumn:
    """One column of an import file and what Listrak should do with it.

    ``kind`` is the spec's ``fileColumnType``: ``Email``, ``SegmentationField``, ``Event`` or
    ``ExternalContactID`` for list imports; ``Phone`` or ``SegmentationField`` for SMS contact
    imports.
    """

    name: str
    kind: str
    segmentation_field_id: int | None = None
    default_value: str | None = None


@dataclass(frozen=True)
class CsvPart:
    index: int
    data: bytes
    rows: int
    first_row: int  # 1-based number of the part's first data row in the whole input


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Writer:
    def __init__(self, header: bytes, max_bytes: int) -> None:
        self.header = header
        self.max_bytes = max_bytes
        self.buffer = bytearray(header)
        self.rows = 0
        self.first_row = 1
        self.index = 0

    def fits(self, size: int) -> bool:
        return len(self.buffer) + size <= self.max_bytes

    def flush(self) -> CsvPart | None:
        if self.rows == 0:
            return None
        part = CsvPart(self.index, bytes(self.buffer), self.rows, self.first_row)
        self.index += 1
        self.first_row += self.rows
        self.buffer = bytearray(self.header)
        self.rows = 0
        return part


def csv_parts(
    rows: Rows, columns: Sequence[ImportColumn], *, max_bytes: int, header: bool = True
) -> Iterator[CsvPart]:
    """Split ``rows`` into CSV files of at most ``max_bytes`` bytes each."""
    header_bytes = _line([c.name for c in columns]) if header else b""
    writer = _Writer(header_bytes, max_bytes)
    row_number = 0
    for item in rows:
        if isinstance(item, pa.Table):
            batches: Iterable[pa.RecordBatch] = item.to_batches()
        elif isinstance(item, pa.RecordBatch):
            batches = [item]
        else:
            row_number += 1
            if len(item) != len(columns):
                raise ValueError(
                    f"row {row_number}: {len(item)} values for {len(columns)} columns "
                    f"({', '.join(c.name for c in columns)})"
                )
            yield from _add(writer, _line([_text(v) for v in item]), row_number)
            continue
        for batch in batches:
            if batch.num_columns != len(columns):
                raise ValueError(
                    f"record batch after row {row_number}: {batch.num_columns} columns for "
                    f"{len(columns)} import columns"
                )
            for chunk, count in _batch_chunks(batch, max_bytes - len(header_bytes), row_number):
                if not writer.fits(len(chunk)):
                    part = writer.flush()
                    if part is not None:
                        yield part
                writer.buffer += chunk
                writer.rows += count
                row_number += count
    part = writer.flush()
    if part is not None:
        yield part


def _add(writer: _Writer, line: bytes, row_number: int) -> Iterator[CsvPart]:
    if not writer.fits(len(line)):
        part = writer.flush()
        if part is not None:
            yield part
        if not writer.fits(len(line)):
            raise ValueError(
                f"row {row_number}: {len(line)} bytes, more than the import file limit of "
                f"{writer.max_bytes} bytes with the header"
            )
    writer.buffer += line
    writer.rows += 1


def _line(values: Sequence[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue().encode("utf-8")


def _batch_csv(batch: pa.RecordBatch) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(batch, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue()


def _batch_chunks(
    batch: pa.RecordBatch, room: int, rows_before: int
) -> Iterator[tuple[bytes, int]]:
    """CSV of ``batch`` in pieces no bigger than ``room`` bytes, halving the batch as needed."""
    data = _batch_csv(batch)
    if len(data) <= room or batch.num_rows == 0:
        if len(data) > room:
            raise ValueError(f"row {rows_before + 1}: too large for the import file limit")
        yield data, batch.num_rows
        return
    if batch.num_rows == 1:
        raise ValueError(
            f"row {rows_before + 1}: {len(data)} bytes, more than the import file limit"
        )
    half = batch.num_rows // 2
    yield from _batch_chunks(batch.slice(0, half), room, rows_before)
    yield from _batch_chunks(batch.slice(half), room, rows_before + half)
