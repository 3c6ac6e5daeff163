"""Writing one data set into a local file: streamed, under a temporary name, then renamed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from .csvfile import CsvEncoder
from .rules import BatchValidator

__all__ = ["WriteResult", "partial_name", "write_file"]


@dataclass(frozen=True)
class WriteResult:
    path: Path
    rows_read: int
    rows_written: int
    rows_rejected: int
    size: int


def partial_name(final: str) -> str:
    """A name Listrak's pick-up cannot mistake for the final one (hidden, other suffix)."""
    return f".{final}.part"


def write_file(
    batches: Iterable[pa.RecordBatch],
    validator: BatchValidator,
    encoder: CsvEncoder,
    path: Path,
    *,
    on_batch: Callable[[pa.RecordBatch, pa.Array], None] | None = None,
) -> WriteResult:
    """Validate and write ``batches`` to ``path``; the final name appears only when complete.

    ``on_batch`` sees each batch of kept rows with their row numbers (cross-file checks).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(partial_name(path.name))
    read = written = rejected = 0
    try:
        with temp.open("wb") as out:
            size = out.write(encoder.header())
            for batch in batches:
                checked = validator.check(batch, read + 1)
                read += batch.num_rows
                rejected += checked.rejected
                written += checked.batch.num_rows
                if on_batch is not None and checked.batch.num_rows:
                    on_batch(checked.batch, checked.rows)
                size += encoder.write(checked.batch, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    return WriteResult(path, read, written, rejected, size)
