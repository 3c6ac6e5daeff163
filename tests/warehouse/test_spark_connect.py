"""SparkWarehouse over Spark Connect (the path Databricks takes): a real server on loopback,
its own catalog holding the tables, writes by ``saveAsTable``, reads as Arrow over gRPC."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from listrak_sync.sync.spark_snapshots import check_workers
from listrak_sync.warehouse import TableNotFound, Warehouse, WarehouseError, connect
from listrak_sync.warehouse.base import SCRATCH_CATALOG
from listrak_sync.warehouse.spark import SparkWarehouse

from ..spark_connect_server import SparkConnectServer

pytestmark = pytest.mark.spark


@pytest.fixture
def wh(spark_connect_url: str) -> Iterator[SparkWarehouse]:
    with connect(spark_connect_url) as warehouse:
        assert isinstance(warehouse, SparkWarehouse)
        yield warehouse


@pytest.fixture
def name() -> str:
    """A table name of its own (the server's catalog is shared by the session's tests)."""
    return f"t_{uuid.uuid4().hex[:10]}"


def test_round_trip_over_spark_connect(wh: SparkWarehouse, name: str) -> None:
    assert isinstance(wh, Warehouse)
    data = pa.table(
        {"id": pa.array(range(2500), pa.int64()), "label": [f"n{i}" for i in range(2500)]}
    )
    assert wh.write(name, (b for b in data.to_batches(max_chunksize=700))) == 2500
    assert name in wh.tables()
    assert [(c.name, c.type) for c in wh.describe(name)] == [("id", "BIGINT"), ("label", "STRING")]
    batches = list(wh.stream(f"SELECT * FROM {name} ORDER BY id DESC", batch_size=1000))
    assert all(b.num_rows <= 1000 for b in batches)
    assert [i for b in batches for i in b.column("id").to_pylist()] == list(range(2499, -1, -1))
    assert (
        wh.write(name, pa.table({"label": ["x"], "id": pa.array([9], pa.int64())}), mode="append")
        == 1
    )
    assert wh.query(f"SELECT count(*) AS n FROM {name}").to_pylist() == [{"n": 2501}]
    assert wh.write(name, data.slice(0, 3)) == 3
    assert wh.query(f"SELECT count(*) AS n FROM {name}").to_pylist() == [{"n": 3}]


def test_scratch_tables_stay_in_the_session(wh: SparkWarehouse, spark_connect_url: str) -> None:
    cache = f"{SCRATCH_CATALOG}.main.phones"
    wh.execute(f"CREATE TABLE IF NOT EXISTS {cache} (raw VARCHAR, e164 VARCHAR)")
    wh.write(cache, pa.table({"raw": ["1"], "e164": ["+1"]}), mode="append")
    assert wh.query(f"SELECT raw FROM {cache}").to_pylist() == [{"raw": "1"}]
    assert not any("phones" in t for t in wh.tables())
    with connect(spark_connect_url) as other, pytest.raises(WarehouseError):
        other.query(f"SELECT raw FROM {cache}")  # another session does not see it


def test_errors_over_spark_connect(wh: SparkWarehouse) -> None:
    with pytest.raises(TableNotFound, match="nope"):
        wh.query("SELECT * FROM nope")
    with pytest.raises(TableNotFound):
        wh.describe("nope")


def test_an_unreachable_server_is_a_warehouse_error() -> None:
    with (
        pytest.raises(WarehouseError, match=r"sc://127\.0\.0\.1:9"),
        connect("sc://127.0.0.1:9") as warehouse,
    ):
        warehouse.query("SELECT 1")


def test_the_workers_run_this_listrak_sync(wh: SparkWarehouse) -> None:
    check_workers(wh)  # the test server's workers run this interpreter


@pytest.mark.slow
def test_workers_without_listrak_sync_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster whose Python workers lack listrak-sync (no wheel installed): a server of its
    own whose worker interpreter finds a ``listrak_sync`` that cannot be imported, as on a
    cluster without it. The sync would stop before planning, saying what to install."""
    for mark in ("SPARK_CONNECT_MODE_ENABLED", "SPARK_REMOTE"):
        monkeypatch.delenv(mark, raising=False)  # put back after the test (see conftest)
    shadow = tmp_path / "shadow" / "listrak_sync"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'listrak_sync'\", name='listrak_sync')\n"
    )
    python = tmp_path / "python"
    python.write_text(
        f'#!/bin/sh\nPYTHONPATH={shadow.parent} exec {sys.executable} "$@"\n', "utf-8"
    )
    python.chmod(0o755)
    with SparkConnectServer(python=str(python)) as server, connect(server.url) as warehouse:
        assert isinstance(warehouse, SparkWarehouse)
        with pytest.raises(WarehouseError) as caught:
            check_workers(warehouse)
    assert "Spark's Python workers cannot import listrak_sync" in str(caught.value)
    assert "cluster library" in str(caught.value)
