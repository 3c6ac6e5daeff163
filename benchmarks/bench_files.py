"""Files export: 1,000,000 order items to a local file and to SFTP on loopback.

Compared, on the same run and data, with a naive exporter: the csv module writing row by row
after validating each value in Python.
Run: .venv/bin/pytest -m benchmark benchmarks/bench_files.py -s
"""

from __future__ import annotations

import csv
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.files.conftest import SftpServer, sftp_server  # noqa: F401 (fixture)

from listrak_sync.config.datasets import STATUS_CODES
from listrak_sync.config.files import DatasetSource, ListrakFilesDestination
from listrak_sync.files import Exporter, upload_files
from listrak_sync.warehouse import Warehouse, connect

ROWS = 1_000_000
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
SQL = "SELECT * FROM order_items"


def _warehouse(tmp_path: Path) -> Warehouse:
    wh = connect(str(tmp_path / "bench.duckdb"))
    wh.execute(
        f"""
        CREATE TABLE order_items AS SELECT
          lpad((i // 3)::VARCHAR, 10, '0') AS order_id,
          'SKU-' || (i % 3) || '-' || (i % 5000) AS sku,
          ['Completed', 'Shipped', '8', 'Pending'][1 + i % 4] AS status,
          1 + i % 4 AS quantity,
          (10 + i % 90)::DOUBLE + 0.99 AS price,
          (9 + i % 90)::DOUBLE + 0.5 AS discounted_price,
          ((1 + i % 4) * ((9 + i % 90) + 0.5))::DOUBLE AS item_total,
          CASE WHEN i % 10 = 0 THEN 'Promotion' END AS discount_type,
          CASE WHEN i % 10 = 0 THEN 'Fall sale, "20%" off' END AS discount_description,
          TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_seconds(i) AS ship_date
        FROM range({ROWS}) r(i)
        """
    )
    return wh


def _naive(wh: Warehouse, path: Path) -> int:
    """Row-by-row: Python validation of each value, then csv.writer."""
    names = {n.lower(): i for i, n in enumerate(STATUS_CODES)}
    written = 0
    seen: set[tuple[str, str]] = set()
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["ordernumber", "alternateordernumber", "sku", "status", "quantity", "price",
             "discountedprice", "itemdiscounttotal", "itemtotal", "discounttype",
             "discountdescription", "shipdate"]
        )  # fmt: skip
        for batch in wh.stream(SQL):
            for row in batch.to_pylist():
                order = str(row["order_id"] or "").strip()
                sku = str(row["sku"] or "").strip()
                if not order or not sku or len(order) > 50 or len(sku) > 100:
                    continue
                if (order, sku) in seen:
                    continue
                seen.add((order, sku))
                status: Any = row["status"]
                if status is not None:
                    status = str(status).strip()
                    status = STATUS_CODES[int(status)] if status.isdigit() else status
                    if status.lower() not in names:
                        continue
                    status = STATUS_CODES[names[status.lower()]]
                quantity = int(row["quantity"])
                if quantity <= 0:
                    continue
                money = [
                    "" if row[k] is None else f"{float(row[k]):.2f}"
                    for k in ("price", "discounted_price", "item_total")
                ]
                description = (row["discount_description"] or "").replace("\n", " ")[:100]
                ship = row["ship_date"]
                writer.writerow(
                    [order, "", sku, status, quantity, money[0], money[1], "", money[2],
                     row["discount_type"] or "", description,
                     ship.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ship else ""]
                )  # fmt: skip
                written += 1
    return written


def _destination(tmp_path: Path) -> ListrakFilesDestination:
    return ListrakFilesDestination(
        datasets={"order_items": DatasetSource(query=SQL)}, spool_dir=tmp_path
    )


@pytest.mark.benchmark
async def test_files_export_throughput(sftp_server: SftpServer, tmp_path: Path) -> None:  # noqa: F811
    wh = _warehouse(tmp_path)
    try:
        start = time.perf_counter()
        report = Exporter(wh, _destination(tmp_path), now=NOW).write_dir([], tmp_path / "dir")
        ours_dir = time.perf_counter() - start
        (entry,) = report.datasets
        assert entry.rows_written == ROWS

        start = time.perf_counter()
        naive_path = tmp_path / "naive.csv"
        assert _naive(wh, naive_path) == ROWS
        naive_dir = time.perf_counter() - start
        ours_file = tmp_path / "dir" / str(entry.file_name)
        assert naive_path.read_bytes() == ours_file.read_bytes()  # same output, same rules

        start = time.perf_counter()
        report = await Exporter(wh, _destination(tmp_path), now=NOW).upload(
            [], sftp_server.target()
        )
        ours_sftp = time.perf_counter() - start
        assert not report.failed

        start = time.perf_counter()
        _naive(wh, naive_path)
        await upload_files(sftp_server.target(), [(naive_path, "naive.csv")])
        naive_sftp = time.perf_counter() - start
    finally:
        wh.close()
    size_mb = ours_file.stat().st_size / 1e6
    print(f"\nFiles export, {ROWS:,} order items ({size_mb:.0f} MB file)")
    for label, ours, naive in (
        ("local file", ours_dir, naive_dir),
        ("SFTP loopback", ours_sftp, naive_sftp),
    ):
        print(
            f"  {label:14s} listrak-sync {ROWS / ours:>10,.0f} rows/s ({ours:.2f} s)   "
            f"naive {ROWS / naive:>10,.0f} rows/s ({naive:.2f} s)   ratio {naive / ours:.1f}x"
        )
