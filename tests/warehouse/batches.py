"""Arrow input for the warehouse tests: ``count`` batches of ``size`` rows, ``id`` (int64,
counting from ``start``) and ``name`` (its text)."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["batches"]


def batches(count: int, size: int, start: int = 0) -> Iterator[pa.RecordBatch]:
    for k in range(count):
        first = start + k * size
        ids = pa.array(range(first, first + size), pa.int64())
        yield pa.record_batch({"id": ids, "name": pc.cast(ids, pa.string())})
