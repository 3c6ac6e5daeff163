"""Snapshots are replaced atomically and never half-written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from listrak_sync.state import SnapshotStore

SCHEMA = pa.schema([("key", pa.string()), ("attr_hash", pa.uint64())])


def _batches(keys: list[str]) -> Iterator[pa.RecordBatch]:
    for start in range(0, len(keys), 2):
        chunk = keys[start : start + 2]
        yield pa.record_batch(
            [pa.array(chunk), pa.array(range(len(chunk)), pa.uint64())], schema=SCHEMA
        )


def test_replace_commits_a_readable_snapshot(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    assert not store.exists("spring/newsletter")
    assert store.replace("spring/newsletter", _batches(["a", "b", "c"]), SCHEMA) == 3
    assert store.path("spring/newsletter").parent == tmp_path / "snapshots"
    assert pq.read_table(store.path("spring/newsletter")).column("key").to_pylist() == [
        "a",
        "b",
        "c",
    ]


def test_a_failed_write_keeps_the_previous_snapshot(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.replace("d", _batches(["old"]), SCHEMA)

    def broken() -> Iterator[pa.RecordBatch]:
        yield from _batches(["new1", "new2"])
        raise RuntimeError("warehouse went away")

    with pytest.raises(RuntimeError):
        store.replace("d", broken(), SCHEMA)
    assert pq.read_table(store.path("d")).column("key").to_pylist() == ["old"]
    assert [p.name for p in tmp_path.iterdir()] == ["d.parquet"]
