"""What every warehouse adapter does alike, run over each engine: DuckDB on a real file,
PostgreSQL on a real server on loopback, Snowflake on fakesnow's server (the real connector over
HTTP). Streaming, writes, catalog, missing tables. What only one engine does (its types, its
logins, its errors' wording beyond the shared shape) stays in test_<engine>_adapter.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from listrak_sync.warehouse import Column, TableNotFound, Warehouse, WarehouseError
from listrak_sync.warehouse.duckdb import DuckDBConfig, DuckDBWarehouse

from ..server_engines import SERVER_ENGINES, engine_database
from .batches import batches

ENGINES = ["duckdb", *SERVER_ENGINES]

# How each engine names the types the shared tests create.
TEXT = {"duckdb": "VARCHAR", "postgres": "TEXT", "snowflake": "VARCHAR"}
DECIMAL_38_12 = {"duckdb": "DECIMAL(38,12)", "postgres": "DECIMAL(38, 12)"}
DECIMAL_38_12["snowflake"] = DECIMAL_38_12["postgres"]
# An append naming a column the table lacks: the server adapters check it; DuckDB's binder does.
NO_COLUMN = {
    "duckdb": 'does not have a column with name "nope"',
    "postgres": "has no column 'nope'",
    "snowflake": "has no column 'nope'",
}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    engine: str = request.param
    return engine


@pytest.fixture
def wh(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if engine == "duckdb":
        warehouse: Warehouse = DuckDBWarehouse(DuckDBConfig(path=str(tmp_path / "w.duckdb")))
    else:
        warehouse = engine_database(request, engine).connect()
    with warehouse:
        yield warehouse


def test_implements_the_protocol(wh: Warehouse, engine: str) -> None:
    assert isinstance(wh, Warehouse)
    assert wh.dialect == engine


def test_stream_yields_bounded_batches_in_order(wh: Warehouse) -> None:
    wh.write("t", batches(1, 10_000))
    sizes = []
    seen = 0
    for batch in wh.stream("SELECT id FROM t ORDER BY id", batch_size=1000):
        assert isinstance(batch, pa.RecordBatch)
        assert batch.schema.names == ["id"]  # Snowflake's upper-case ID, named as written
        assert batch.column(0).to_pylist()[0] == seen
        sizes.append(batch.num_rows)
        seen += batch.num_rows
    assert seen == 10_000
    assert max(sizes) <= 1000
    assert len(sizes) >= 10


def test_other_calls_run_while_a_stream_is_open(wh: Warehouse, engine: str) -> None:
    # On PostgreSQL 300,000 rows (cheap there), so the stream is far from read when the other
    # calls run.
    wh.write("t", batches(300 if engine == "postgres" else 3, 1000))
    stream = wh.stream("SELECT id FROM t ORDER BY id", batch_size=100)
    first = next(stream)
    wh.execute("CREATE TABLE side AS SELECT 1 AS x")
    assert wh.query("SELECT count(*) AS n FROM side").column("n").to_pylist() == [1]
    assert next(stream).column("id")[0].as_py() == first.num_rows
    wh.close()  # closes the open stream too


def test_decimals_round_trip_exactly(wh: Warehouse, engine: str) -> None:
    values = [
        Decimal("12345678901234567890123456.123456789012"),
        Decimal("-0.000000000001"),
        Decimal("0"),
        None,
    ]
    kind = pa.decimal128(38, 12)
    assert wh.write("money", pa.table({"v": pa.array(values, kind)})) == 4
    assert wh.describe("money") == [Column("v", DECIMAL_38_12[engine], True)]
    table = wh.query("SELECT v FROM money")
    assert table.schema.field("v").type == kind
    assert table.column("v").to_pylist() == values
    streamed = pa.Table.from_batches(list(wh.stream("SELECT v FROM money", batch_size=2)))
    assert streamed.column("v").to_pylist() == values


def test_empty_results_keep_their_schema(wh: Warehouse) -> None:
    wh.write("t", batches(1, 3))
    empty = wh.query("SELECT id, name FROM t WHERE id < 0")
    assert empty.num_rows == 0
    assert empty.schema.names == ["id", "name"]
    assert list(wh.stream("SELECT id FROM t WHERE id < 0")) == []


def test_write_streams_batches_and_replaces(wh: Warehouse) -> None:
    assert wh.write("t", batches(5, 1000)) == 5000
    assert wh.query("SELECT count(*) AS n, max(id) AS m FROM t").to_pylist() == [
        {"n": 5000, "m": 4999}
    ]
    assert wh.write("t", batches(2, 10)) == 20
    assert wh.query("SELECT count(*) AS n FROM t").column("n").to_pylist() == [20]


def test_write_appends_by_name_and_creates_when_missing(wh: Warehouse, engine: str) -> None:
    assert wh.write("t", batches(1, 3), mode="append") == 3
    assert wh.write("t", pa.table({"name": ["x"], "id": [99]}), mode="append") == 1
    assert wh.write("t", pa.table({"name": ["only"]}), mode="append") == 1
    rows = wh.query("SELECT id, name FROM t ORDER BY name").to_pylist()
    assert {"id": 99, "name": "x"} in rows
    assert {"id": None, "name": "only"} in rows
    with pytest.raises(WarehouseError, match=NO_COLUMN[engine]):
        wh.write("t", pa.table({"nope": [1]}), mode="append")
    with pytest.raises(WarehouseError, match="unknown write mode 'merge'"):
        wh.write("t", batches(1, 1), mode="merge")  # type: ignore[arg-type]


def test_replace_leaves_the_old_table_when_the_source_fails(wh: Warehouse) -> None:
    wh.write("t", batches(1, 10))

    def failing() -> Iterator[pa.RecordBatch]:
        yield from batches(2, 100)
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        wh.write("t", failing())
    assert wh.query("SELECT count(*) AS n FROM t").column("n").to_pylist() == [10]
    assert wh.tables() == ["t"]  # no load table left behind


def test_write_into_a_schema(wh: Warehouse) -> None:
    wh.execute("CREATE SCHEMA crm")
    assert wh.write("crm.orders", batches(1, 4)) == 4
    assert wh.write("crm.orders", batches(1, 2), mode="append") == 2
    assert "crm.orders" in wh.tables()
    assert [c.name for c in wh.describe("crm.orders")] == ["id", "name"]


def test_empty_writes(wh: Warehouse) -> None:
    assert wh.write("t", iter(()), mode="append") == 0
    with pytest.raises(WarehouseError, match="without a schema"):
        wh.write("t", iter(()))
    schema = pa.schema([("id", pa.int64())])
    assert wh.write("t", iter(()), schema=schema) == 0
    assert wh.describe("t") == [Column("id", "BIGINT", True)]


def test_catalog(wh: Warehouse, engine: str) -> None:
    wh.execute("CREATE TABLE a (x INT); CREATE VIEW v AS SELECT x FROM a; CREATE SCHEMA s")
    wh.execute(f"CREATE TABLE s.b (y {TEXT[engine]} NOT NULL)")
    assert wh.tables() == ["a", "s.b", "v"]
    assert wh.describe("s.b") == [Column("y", TEXT[engine], False)]
    assert wh.exists("s.b")
    assert not wh.exists("nope")
    with pytest.raises(TableNotFound, match="no table or view named 'nope'"):
        wh.describe("nope")


def test_missing_table_and_column(wh: Warehouse, engine: str) -> None:
    """The shared shape; each engine's own wording is in its adapter tests."""
    wh.execute("CREATE TABLE t (x INT)")
    with pytest.raises(TableNotFound) as missing:
        wh.query("SELECT * FROM nope")
    if engine in SERVER_ENGINES:  # a server's errors name the connection (a file needs not)
        assert str(missing.value).startswith(f"{wh.name}: ")
    assert "nope" in str(missing.value).lower()
    assert missing.value.statement == "SELECT * FROM nope"
    with pytest.raises(WarehouseError, match=r"(?i)nope") as column:
        list(wh.stream("SELECT nope FROM t"))
    assert column.value.statement == "SELECT nope FROM t"
    # The connection stays usable after a failed statement.
    assert wh.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]


def test_calls_after_close_say_the_warehouse_is_closed(wh: Warehouse) -> None:
    """A closed warehouse says so (a WarehouseError naming it closed), never a driver's own
    exception, and opens no new connection (a server adapter's stream has its own)."""
    wh.execute("CREATE TABLE t (x INT)")
    wh.close()
    wh.close()  # safe twice
    calls: dict[str, Callable[[], object]] = {
        "query": lambda: wh.query("SELECT 1 AS one"),
        "stream": lambda: list(wh.stream("SELECT 1 AS one")),
        "execute": lambda: wh.execute("CREATE TABLE u (x INT)"),
        "write": lambda: wh.write("t", pa.table({"x": [1]}), mode="append"),
        "tables": wh.tables,
        "describe": lambda: wh.describe("t"),
        "exists": lambda: wh.exists("t"),
    }
    found: dict[str, str] = {}
    for name, call in calls.items():
        try:
            call()
        except Exception as exc:
            found[name] = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, WarehouseError) and "closed" in str(exc).lower():
                found[name] = "closed"
        else:
            found[name] = "ran"
    assert found == dict.fromkeys(calls, "closed")
