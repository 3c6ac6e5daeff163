"""Reading 1,000,000 rows from PostgreSQL as Arrow: the adapter (ADBC, binary COPY) vs psycopg 3.

The adapter streams ``(customer_id, email, ltv numeric(12,2), updated_at timestamptz)`` in
65,536-row batches with NUMERIC cast to decimal. The baseline is what the choice was measured
against: psycopg 3's server-side cursor, ``fetchmany`` 65,536 rows and ``pa.array`` per column.
Each runs in its own spawned process so that its peak resident memory is its own; both must read
the same rows (count and decimal sum).

Run: ``.venv/bin/pytest -m benchmark benchmarks/bench_postgres_read.py -s``
(``BENCH_ROWS`` lowers the size).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from decimal import Decimal
from typing import Any

import pytest
from tests.postgres_server import PostgresServer

from benchmarks.memory import peak_rss_mb

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
SQL = "SELECT customer_id, email, ltv, updated_at FROM customers"
BATCH = 65_536


def _adapter(url: str, password: str) -> dict[str, Any]:
    import pyarrow.compute as pc
    from pydantic import SecretStr

    from listrak_sync.warehouse import connect, parse

    started = time.perf_counter()
    rows, total = 0, Decimal(0)
    config = parse(url).with_password(SecretStr(password))  # type: ignore[attr-defined]
    with connect(config) as warehouse:
        for batch in warehouse.stream(SQL, batch_size=BATCH):
            rows += batch.num_rows
            total += pc.sum(batch.column("ltv")).as_py() or 0
    return {"seconds": time.perf_counter() - started, "rows": rows, "sum": total}


def _psycopg(url: str, password: str) -> dict[str, Any]:
    import psycopg
    import pyarrow as pa
    import pyarrow.compute as pc

    started = time.perf_counter()
    rows, total = 0, Decimal(0)
    with psycopg.connect(url, password=password) as con, con.cursor(name="bench") as cursor:
        cursor.itersize = BATCH
        cursor.execute(SQL)
        while chunk := cursor.fetchmany(BATCH):
            columns = list(zip(*chunk, strict=True))
            batch = pa.RecordBatch.from_arrays(
                [pa.array(c) for c in columns], names=["customer_id", "email", "ltv", "updated_at"]
            )
            rows += batch.num_rows
            total += pc.sum(batch.column("ltv")).as_py() or 0
    return {"seconds": time.perf_counter() - started, "rows": rows, "sum": total}


def _measure(target: str, url: str, password: str, queue: Any) -> None:
    result = {"adapter": _adapter, "psycopg": _psycopg}[target](url, password)
    queue.put({**result, "peak_mb": peak_rss_mb()})


def _run(target: str, url: str, password: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(target, url, password, queue))
    process.start()
    result: dict[str, Any] = queue.get(timeout=1800)
    process.join()
    return result


@pytest.mark.benchmark
def test_adapter_vs_psycopg() -> None:
    with PostgresServer() as server:
        database = server.create_database()
        with server.admin(database) as con:
            con.execute(
                "CREATE TABLE customers AS SELECT 'C' || lpad(g::text, 8, '0') AS customer_id,"
                " 'person' || g || '@example.com' AS email,"
                " ((g % 100000) / 100.0)::numeric(12, 2) AS ltv,"
                " timestamptz '2026-01-01' + g * interval '1 second' AS updated_at"
                f" FROM generate_series(1, {ROWS}) AS g"
            )
            con.execute("ANALYZE customers")
        url = server.url(database)
        adapter = _run("adapter", url, server.password)
        baseline = _run("psycopg", url, server.password)
    assert adapter["rows"] == baseline["rows"] == ROWS
    assert adapter["sum"] == baseline["sum"]
    print(f"\n{ROWS:,} rows from PostgreSQL as Arrow batches of {BATCH:,}")
    print("| reader | seconds | peak RSS (MB) |\n| --- | ---: | ---: |")
    for name, result in (("adapter (ADBC)", adapter), ("psycopg 3 cursor", baseline)):
        print(f"| {name} | {result['seconds']:.1f} | {result['peak_mb']:.0f} |")
    print(f"ratio: {baseline['seconds'] / adapter['seconds']:.1f}x faster")
