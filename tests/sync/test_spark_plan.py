"""Planning inside Spark gives the DuckDB plan's diff: the same change and attribute hash for
every key, the same counts, and only the changed rows sent back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from listrak_sync.sync.plan import SNAPSHOT_SCHEMA, PlanFiles, audience_schema
from listrak_sync.sync.spark_plan import SENT_BACK, diff_in_spark
from listrak_sync.warehouse import Warehouse, WarehouseError, connect

pytestmark = pytest.mark.spark
ATTRIBUTES = 2


def city(i: int) -> str | None:
    return None if i % 5 == 0 else ("" if i % 5 == 1 else f"city {i}")  # '' counts as NULL


def audience() -> pa.Table:
    """k000..k089; every 7th has a new first name since the snapshot."""
    rows = range(90)
    keys = [f"k{i:03d}" for i in rows]
    return pa.table(
        [
            keys,
            ["treatment"] * 90,
            keys,
            [f"first {i}" if i % 7 else f"renamed {i}" for i in rows],
            [city(i) if i % 5 != 1 else None for i in rows],
        ],
        schema=audience_schema(ATTRIBUTES),
    )


def previous(folder: Path) -> Path:
    """k010..k109: members up to k099 (k020 was not), k100.. never were; hashed as the plan
    hashes (md5 of the attribute texts, NULL and '' alike)."""
    rows = range(10, 110)
    con = duckdb.connect()
    con.register(
        "p",
        pa.table(
            {
                "key": [f"k{i:03d}" for i in rows],
                "a0": [f"first {i}" for i in rows],
                "a1": [city(i) for i in rows],
                "member": [i < 100 and i != 20 for i in rows],
            }
        ),
    )
    table = con.sql(
        "SELECT key, md5(concat_ws(chr(31), coalesce(nullif(a0, ''), chr(0)),"
        " coalesce(nullif(a1, ''), chr(0)))) AS attr_hash, member, member AS owned,"
        " FALSE AS declined, NULL AS state, 'r0' AS run_id FROM p"
    ).to_arrow_table()
    target = folder / "previous"
    target.mkdir()
    pq.write_table(table.cast(SNAPSHOT_SCHEMA), target / "part-0.parquet")
    return target


@pytest.fixture
def spark(spark_url: str) -> Iterator[Warehouse]:
    with connect(spark_url) as warehouse:
        warehouse.write("audience", audience())
        yield warehouse


def duckdb_plan(folder: Path, snapshot: Path | None) -> tuple[dict[str, int], int, set[tuple]]:
    folder.mkdir()
    files = PlanFiles(folder, ATTRIBUTES)
    files.load_audience(audience().to_batches())
    files.previous_from_snapshot(None if snapshot is None else next(snapshot.glob("*.parquet")))
    summary = files.build([])
    plan = pq.read_table(files.plan).to_pylist()
    rows = {(r["key"], r["change"], r["attr_hash"], r["prev_hash"]) for r in plan}
    return summary.counts, summary.members, rows


def test_the_diff_in_spark_is_the_duckdb_plan(spark: Warehouse, tmp_path: Path) -> None:
    snapshot = previous(tmp_path)
    counts, members, planned = duckdb_plan(tmp_path / "duck", snapshot)
    assert counts == {"enter": 11, "change": 11, "same": 68, "leave": 10, "rest": 10}

    diff = diff_in_spark(spark, "SELECT * FROM audience", ATTRIBUTES, str(snapshot))
    try:
        assert diff.counts == counts
        assert diff.members == members
        batches = list(diff.rows(batch_size=8))
        assert all(b.num_rows <= 8 for b in batches)
        sent = [r for b in batches for r in b.to_pylist()]
        assert {r["change"] for r in sent} == set(SENT_BACK)
        assert {(r["key"], r["change"], r["attr_hash"], r["prev_hash"]) for r in sent} == planned
    finally:
        diff.close()


def test_a_first_run_has_no_snapshot(spark: Warehouse, tmp_path: Path) -> None:
    counts, _, planned = duckdb_plan(tmp_path / "duck", None)
    diff = diff_in_spark(spark, "SELECT * FROM audience", ATTRIBUTES, None)
    assert diff.counts == counts == {"enter": 90, "change": 0, "same": 0, "leave": 0, "rest": 0}
    sent = {
        (r["key"], r["change"], r["attr_hash"], r["prev_hash"])
        for b in diff.rows()
        for r in b.to_pylist()
    }
    assert sent == planned


def test_only_spark_plans_inside_the_engine(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as duck, pytest.raises(WarehouseError, match="needs Spark"):
        diff_in_spark(duck, "SELECT 1", 0, None)
