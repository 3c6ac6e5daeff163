"""DuckDBWarehouse on a real database file: streaming, writes, catalog, errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from listrak_sync.warehouse import Column, TableNotFound, WarehouseError, connect
from listrak_sync.warehouse.duckdb import DuckDBConfig, DuckDBWarehouse

from .batches import batches


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    with DuckDBWarehouse(DuckDBConfig(path=str(tmp_path / "w.duckdb"))) as warehouse:
        yield warehouse


def test_stream_is_lazy_and_leaves_the_connection_free(wh: DuckDBWarehouse) -> None:
    # A result far bigger than we read: only the first batch is produced, and other calls run
    # on the warehouse while the stream is open.
    stream = wh.stream("SELECT range AS i, repeat('x', 100) AS pad FROM range(50000000)")
    first = next(stream)
    assert first.num_rows <= 65_536
    wh.execute("CREATE TABLE side AS SELECT 1 AS x")
    assert wh.query("SELECT count(*) AS n FROM side").column("n").to_pylist() == [1]
    assert next(stream).column("i")[0].as_py() == first.num_rows
    del stream  # an abandoned stream closes its cursor when collected


def test_stream_error_in_sql_raises_at_call(wh: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseError, match="syntax error") as info:
        wh.stream("SELEC 1")
    assert info.value.statement == "SELEC 1"


def test_stream_error_while_producing_rows(wh: DuckDBWarehouse) -> None:
    sql = "SELECT CASE WHEN range > 150000 THEN error('bad row ' || range) END FROM range(300000)"
    with pytest.raises(WarehouseError, match="bad row") as info:
        for _ in wh.stream(sql, batch_size=1024):
            pass
    assert info.value.statement == sql


def test_query_returns_a_table(wh: DuckDBWarehouse) -> None:
    table = wh.query("SELECT 1 AS a, 'x' AS b")
    assert table.to_pylist() == [{"a": 1, "b": "x"}]


def test_execute_runs_several_statements(wh: DuckDBWarehouse) -> None:
    wh.execute(
        "CREATE TABLE u (a INTEGER); INSERT INTO u VALUES (1), (2); INSERT INTO u VALUES (3)"
    )
    assert wh.query("SELECT sum(a) AS s FROM u").column("s").to_pylist() == [6]


def test_write_streams_batches_and_counts_rows(wh: DuckDBWarehouse) -> None:
    assert wh.write("people", batches(20, 5000)) == 100_000
    assert wh.query("SELECT count(*) AS n, max(id) AS m FROM people").to_pylist() == [
        {"n": 100_000, "m": 99_999}
    ]


def test_write_replace_and_append(wh: DuckDBWarehouse) -> None:
    wh.write("people", batches(1, 10))
    wh.write("people", batches(1, 5), mode="replace")
    assert wh.query("SELECT count(*) AS n FROM people").column("n").to_pylist() == [5]
    # append matches columns by name, whatever their order in the input
    swapped = pa.table({"name": ["z"], "id": pa.array([99], pa.int64())})
    assert wh.write("people", swapped, mode="append") == 1
    assert wh.query("SELECT name FROM people WHERE id = 99").to_pylist() == [{"name": "z"}]


def test_write_append_creates_missing_table_in_a_schema(wh: DuckDBWarehouse) -> None:
    wh.execute("CREATE SCHEMA listrak")
    assert wh.write("listrak.contacts", batches(2, 3), mode="append") == 6
    assert "listrak.contacts" in wh.tables()


def test_write_with_schema_casts_and_allows_no_batches(wh: DuckDBWarehouse) -> None:
    schema = pa.schema([("id", pa.int32()), ("name", pa.string())])
    assert wh.write("empty", iter(()), schema=schema) == 0
    assert wh.describe("empty") == [Column("id", "INTEGER"), Column("name", "VARCHAR")]
    assert wh.write("cast", batches(1, 3), schema=schema) == 3
    assert wh.describe("cast")[0].type == "INTEGER"
    with pytest.raises(WarehouseError, match="no batches without a schema"):
        wh.write("nothing", iter(()))
    assert wh.write("nothing", iter(()), mode="append") == 0


def test_copy_between_warehouses_by_streaming(wh: DuckDBWarehouse, tmp_path: Path) -> None:
    wh.execute("CREATE TABLE src AS SELECT range AS id, range % 7 AS k FROM range(200000)")
    with connect(tmp_path / "other.duckdb") as other:
        written = other.write("dst", wh.stream("SELECT * FROM src", batch_size=10_000))
        assert written == 200_000
        assert (
            other.query("SELECT sum(k) AS s FROM dst").to_pylist()
            == wh.query("SELECT sum(k) AS s FROM src").to_pylist()
        )


def test_tables_and_describe(wh: DuckDBWarehouse) -> None:
    wh.execute(
        "CREATE TABLE customers (customer_id VARCHAR NOT NULL, ltv DECIMAL(12, 2), born DATE);"
        "CREATE VIEW vips AS SELECT customer_id FROM customers WHERE ltv > 1000;"
        "CREATE SCHEMA mart; CREATE TABLE mart.orders (id BIGINT);"
        "CREATE TEMP TABLE scratch (x INTEGER)"
    )
    assert wh.tables() == ["customers", "mart.orders", "vips"]
    assert wh.describe("customers") == [
        Column("customer_id", "VARCHAR", nullable=False),
        Column("ltv", "DECIMAL(12,2)"),
        Column("born", "DATE"),
    ]
    assert wh.describe("vips") == [Column("customer_id", "VARCHAR", nullable=False)]
    assert wh.describe("mart.orders") == [Column("id", "BIGINT")]


def test_errors_name_the_problem(wh: DuckDBWarehouse) -> None:
    with pytest.raises(TableNotFound, match="missing_table") as info:
        wh.query("SELECT * FROM missing_table")
    assert "pg_" not in str(info.value)  # DuckDB's system-catalog suggestions are dropped
    wh.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(WarehouseError, match=r"Binder Error.*nope") as bind:
        wh.query("SELECT nope FROM t")
    assert bind.value.statement == "SELECT nope FROM t"
    with pytest.raises(WarehouseError, match="Conversion Error"):
        wh.execute("INSERT INTO t VALUES ('not a number')")


def test_read_only_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "ro.duckdb"
    with connect(path) as warehouse:
        warehouse.execute("CREATE TABLE t AS SELECT 1 AS a")
    with connect(f"duckdb:///{path}?read_only=true") as ro:
        assert ro.query("SELECT a FROM t").to_pylist() == [{"a": 1}]
        with pytest.raises(WarehouseError, match="read-only"):
            ro.execute("INSERT INTO t VALUES (2)")


def test_read_only_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="does not exist"):
        DuckDBWarehouse.open(tmp_path / "missing.duckdb", read_only=True)


def test_file_persists_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "p.duckdb"  # parent folders are created
    with DuckDBWarehouse.open(path) as warehouse:
        warehouse.write("t", batches(1, 4))
    with DuckDBWarehouse.open(path) as warehouse:
        assert warehouse.query("SELECT count(*) AS n FROM t").column("n").to_pylist() == [4]


def test_shared_by_threads(wh: DuckDBWarehouse) -> None:
    wh.execute("CREATE TABLE hits (worker INTEGER)")
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for _ in range(20):
                wh.execute(f"INSERT INTO hits VALUES ({worker})")
                wh.query("SELECT count(*) FROM hits")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert wh.query("SELECT count(*) AS n FROM hits").column("n").to_pylist() == [80]


def test_close_ends_open_streams(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse.open(tmp_path / "c.duckdb")
    stream = warehouse.stream("SELECT range FROM range(1000000)", batch_size=1000)
    next(stream)
    warehouse.close()
    warehouse.close()  # twice is fine
    with pytest.raises(WarehouseError, match="closed"):
        warehouse.query("SELECT 1")
