"""What keeping the sync state in PostgreSQL costs: a 1,000,000-member snapshot written and read
back, local Parquet (``.listrak-sync/snapshots/``) against warehouse tables, and a run's plan
file copied to the warehouse and restored (what resuming on another host needs).

Each store runs in its own spawned process so its peak resident memory is its own; both must
hold the same rows.

Run: ``.venv/bin/pytest -m benchmark benchmarks/bench_state_postgres.py -s``
(``BENCH_ROWS`` lowers the size).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.postgres_server import PostgresServer

from benchmarks.memory import peak_rss_mb

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
BATCH = 65_536


def _generate() -> Iterator[Any]:
    import hashlib

    import pyarrow as pa

    from listrak_sync.sync.plan import SNAPSHOT_SCHEMA

    for start in range(0, ROWS, BATCH):
        numbers = range(start, min(ROWS, start + BATCH))
        keys = [f"person{i}@example.com" for i in numbers]
        yield pa.record_batch(
            [
                keys,
                [hashlib.md5(k.encode()).hexdigest() for k in keys],
                [True] * len(keys),
                [i % 3 == 0 for i in numbers],
                [False] * len(keys),
                [None] * len(keys),
                ["20261203T021500-ab12cd34"] * len(keys),
            ],
            schema=SNAPSHOT_SCHEMA,
        )


def _snapshot(source: Path) -> Iterator[Any]:
    import pyarrow.parquet as pq

    yield from pq.ParquetFile(source).iter_batches(batch_size=BATCH)


def _measure(target: str, url: str, password: str, source: Path, queue: Any) -> None:
    import pyarrow.parquet as pq
    from pydantic import SecretStr

    from listrak_sync.state import SnapshotStore
    from listrak_sync.state.protocol import SnapshotBackend
    from listrak_sync.state.warehouse import WarehouseStateStore
    from listrak_sync.sync.plan import SNAPSHOT_SCHEMA
    from listrak_sync.warehouse import connect_state, parse

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        store: WarehouseStateStore | None = None
        snapshots: SnapshotBackend
        if target == "local":
            snapshots = SnapshotStore(work / "snapshots")
        else:
            config = parse(url).with_password(SecretStr(password))  # type: ignore[attr-defined]
            store = WarehouseStateStore(connect_state(config), "bench_state")
            snapshots = store.snapshots()
        started = time.perf_counter()
        snapshots.replace("spring__newsletter", _snapshot(source), SNAPSHOT_SCHEMA)
        result["write"] = time.perf_counter() - started
        started = time.perf_counter()
        copy = snapshots.local("spring__newsletter", work)
        result["read"] = time.perf_counter() - started
        assert copy is not None
        result["rows"] = pq.read_metadata(copy).num_rows
        if store is not None:
            started = time.perf_counter()
            store.save_run_file("r1", "previous.parquet", copy)
            result["save_file"] = time.perf_counter() - started
            started = time.perf_counter()
            (work / "restored").mkdir()
            store.restore_run_files("r1", work / "restored")
            result["restore_file"] = time.perf_counter() - started
            result["file_mb"] = copy.stat().st_size / 1e6
            store.close()
    queue.put({**result, "peak_mb": peak_rss_mb()})


def _run(target: str, url: str, password: str, source: Path) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(target, url, password, source, queue))
    process.start()
    result: dict[str, Any] = queue.get(timeout=1800)
    process.join()
    return result


@pytest.mark.benchmark
def test_state_in_postgres_vs_local_files(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from listrak_sync.sync.plan import SNAPSHOT_SCHEMA

    # The snapshot rows, made before the clock starts (a sync streams them from DuckDB).
    source = tmp_path / "source.parquet"
    with pq.ParquetWriter(source, SNAPSHOT_SCHEMA) as writer:
        for batch in _generate():
            writer.write_batch(batch)
    with PostgresServer() as server:
        database = server.create_database()
        url = server.url(database)
        local = _run("local", url, server.password, source)
        shared = _run("warehouse", url, server.password, source)
    assert local["rows"] == shared["rows"] == ROWS
    print(f"\na {ROWS:,}-member snapshot, written and read back for the next plan")
    print("| store | write s | read s | peak RSS (MB) |\n| --- | ---: | ---: | ---: |")
    for name, result in (("local Parquet", local), ("PostgreSQL table", shared)):
        write, read, peak = result["write"], result["read"], result["peak_mb"]
        print(f"| {name} | {write:.1f} | {read:.1f} | {peak:.0f} |")
    print(
        f"run file of {shared['file_mb']:.0f} MB: saved {shared['save_file']:.1f} s, "
        f"restored {shared['restore_file']:.1f} s"
    )
