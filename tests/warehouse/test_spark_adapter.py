"""SparkWarehouse on an embedded Spark: the Warehouse protocol (streams, writes, catalog,
errors), tables as Parquet folders every session sees, and the connection strings."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import SecretStr

from listrak_sync.warehouse import TableNotFound, Warehouse, WarehouseError, connect, parse
from listrak_sync.warehouse.base import SCRATCH_CATALOG
from listrak_sync.warehouse.spark import SparkConfig, SparkWarehouse

pytestmark = pytest.mark.spark


@pytest.fixture
def wh(spark_url: str) -> Iterator[SparkWarehouse]:
    with connect(spark_url) as warehouse:
        assert isinstance(warehouse, SparkWarehouse)
        yield warehouse


def numbers(n: int) -> pa.Table:
    return pa.table({"id": pa.array(range(n), pa.int64()), "label": [f"n{i}" for i in range(n)]})


def test_implements_the_protocol(wh: SparkWarehouse) -> None:
    assert isinstance(wh, Warehouse)
    assert wh.dialect == "spark"


def test_stream_yields_bounded_batches_in_order(wh: SparkWarehouse) -> None:
    wh.write("numbers", numbers(2500))
    batches = list(wh.stream("SELECT id, label FROM numbers ORDER BY id DESC", batch_size=1000))
    assert all(b.num_rows <= 1000 for b in batches)
    ids = [i for b in batches for i in b.column("id").to_pylist()]
    assert ids == list(range(2499, -1, -1))
    assert batches[0].schema == pa.schema([("id", pa.int64()), ("label", pa.string())])


def test_stream_error_in_sql_raises_at_call(wh: SparkWarehouse) -> None:
    wh.write("numbers", numbers(3))
    with pytest.raises(WarehouseError, match="nocolumn") as raised:
        wh.stream("SELECT nocolumn FROM numbers")
    assert raised.value.statement == "SELECT nocolumn FROM numbers"
    assert "JVM" not in str(raised.value)
    assert "\tat " not in str(raised.value)


def test_types_round_trip(wh: SparkWarehouse) -> None:
    data = pa.table(
        {
            "n": pa.array([1, None], pa.int64()),
            "price": pa.array([decimal.Decimal("12.34"), None], pa.decimal128(12, 2)),
            "day": pa.array([dt.date(2026, 1, 2), None], pa.date32()),
            "at": pa.array([dt.datetime(2026, 1, 2, 3, 4, 5), None], pa.timestamp("us")),
            "ok": pa.array([True, None], pa.bool_()),
            "text": pa.array(["é", None], pa.string()),
        }
    )
    wh.write("typed", data)
    assert wh.query("SELECT * FROM typed ORDER BY n NULLS LAST").equals(data)
    assert [(c.name, c.type) for c in wh.describe("typed")] == [
        ("n", "BIGINT"),
        ("price", "DECIMAL(12, 2)"),
        ("day", "DATE"),
        ("at", "TIMESTAMP_NTZ"),
        ("ok", "BOOLEAN"),
        ("text", "STRING"),
    ]


def test_write_replace_and_append_by_name(wh: SparkWarehouse) -> None:
    assert wh.write("t", numbers(3)) == 3
    assert wh.write("t", numbers(2)) == 2
    appended = pa.table({"label": ["x"], "id": pa.array([9], pa.int64())})
    assert wh.write("t", appended, mode="append") == 1
    assert wh.query("SELECT id, label FROM t ORDER BY id").to_pylist() == [
        {"id": 0, "label": "n0"},
        {"id": 1, "label": "n1"},
        {"id": 9, "label": "x"},
    ]
    with pytest.raises(WarehouseError, match="has no column 'extra'"):
        wh.write("t", pa.table({"extra": [1]}), mode="append")


def test_write_streams_batches_and_allows_no_batches_with_a_schema(wh: SparkWarehouse) -> None:
    batches = (b for b in numbers(10).to_batches(max_chunksize=3))
    assert wh.write("s", batches) == 10
    schema = pa.schema([("id", pa.int64())])
    assert wh.write("empty", iter(()), schema=schema) == 0
    assert wh.query("SELECT count(*) AS n FROM empty").to_pylist() == [{"n": 0}]
    assert wh.write("nothing", iter(()), mode="append") == 0
    with pytest.raises(WarehouseError, match="without a schema"):
        wh.write("nothing", iter(()))


def test_replace_keeps_the_old_table_when_the_source_fails(wh: SparkWarehouse) -> None:
    wh.write("kept", numbers(4))

    def failing() -> Iterator[pa.RecordBatch]:
        yield from numbers(2).to_batches()
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        wh.write("kept", failing())
    assert wh.query("SELECT count(*) AS n FROM kept").to_pylist() == [{"n": 4}]
    assert wh.tables() == ["kept"]


def test_tables_are_seen_by_a_new_session_and_not_by_another_warehouse(
    wh: SparkWarehouse, spark_engine: str, tmp_path: Path
) -> None:
    wh.write("orders", numbers(5))
    with connect(wh.config) as again:
        assert again.tables() == ["orders"]
        assert again.query("SELECT count(*) AS n FROM orders").to_pylist() == [{"n": 5}]
    with connect(f"{spark_engine}?warehouse_dir={tmp_path / 'other'}") as other:
        assert other.tables() == []
        with pytest.raises(TableNotFound):
            other.query("SELECT * FROM orders")


def test_missing_table(wh: SparkWarehouse) -> None:
    with pytest.raises(TableNotFound, match="'nope'"):
        wh.describe("nope")
    assert not wh.exists("nope")
    with pytest.raises(TableNotFound, match="nope"):
        wh.query("SELECT * FROM nope")
    with pytest.raises(WarehouseError, match="plain table names"):
        wh.write("crm.orders", numbers(1))


def test_scratch_tables_live_in_the_session_and_are_kept(
    wh: SparkWarehouse, tmp_path: Path
) -> None:
    cache = f"{SCRATCH_CATALOG}.main.cache"
    wh.keep_scratch(tmp_path / "cache")
    wh.execute(f"CREATE TABLE IF NOT EXISTS {cache} (raw VARCHAR, e164 VARCHAR)")
    wh.write(cache, pa.table({"raw": ["1"], "e164": ["+1"]}), mode="append")
    wh.execute(f"CREATE TABLE IF NOT EXISTS {cache} (raw VARCHAR, e164 VARCHAR)")
    wh.write(cache, pa.table({"e164": ["+2"], "raw": ["2"]}), mode="append")
    found = wh.query(f"SELECT c.raw FROM {cache} AS c ORDER BY c.raw").to_pylist()
    assert found == [{"raw": "1"}, {"raw": "2"}]
    assert wh.tables() == []  # never written into the warehouse
    wh.close()
    with connect(wh.config) as again:
        assert isinstance(again, SparkWarehouse)
        again.keep_scratch(tmp_path / "cache")
        assert again.query(f"SELECT count(*) AS n FROM {cache}").to_pylist() == [{"n": 2}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("local[*]", SparkConfig(master="local[*]")),
        ("local[4]", SparkConfig(master="local[4]")),
        ("local", SparkConfig(master="local")),
        (
            "local[2]?warehouse_dir=data/spark&shuffle_partitions=4",
            SparkConfig(master="local[2]", warehouse_dir="data/spark", shuffle_partitions=4),
        ),
        ("sc://spark.internal", SparkConfig(remote="sc://spark.internal:15002")),
        (
            "sc://adb-1.azuredatabricks.net:443/;x-databricks-cluster-id=0123",
            SparkConfig(remote="sc://adb-1.azuredatabricks.net:443/;x-databricks-cluster-id=0123"),
        ),
    ],
)
def test_connection_strings(text: str, expected: SparkConfig) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("local[0]", "not a Spark connection"),
        ("local[*]?threads=2", "unknown setting 'threads'"),
        ("local[*]?shuffle_partitions=none", "shuffle_partitions"),
        ("sc://host:15002/;token=abc123", "may not hold the token"),
        ("sc://host:99999", "port"),
        ("sc://host:15002?x=1", "follow '/;'"),
    ],
)
def test_bad_connection_strings(text: str, message: str) -> None:
    with pytest.raises(WarehouseError, match=message) as raised:
        parse(text)
    assert "abc123" not in str(raised.value)


def test_the_token_never_shows() -> None:
    config = SparkConfig.from_text("sc://host:443/;use_ssl=true")
    with_token = config.with_password(SecretStr("s3cret-token"))
    assert "s3cret-token" not in repr(with_token)
    assert "s3cret-token" not in with_token.model_dump_json()
    assert "s3cret-token" not in with_token.display
    assert with_token.remote_url() == "sc://host:443/;use_ssl=true;token=s3cret-token"
    with pytest.raises(WarehouseError, match="takes no password"):
        SparkConfig(master="local[*]").with_password(SecretStr("x"))
