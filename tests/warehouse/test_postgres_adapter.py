"""PostgresWarehouse on a real PostgreSQL server on loopback: streaming, writes, catalog, errors."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pydantic import SecretStr

from listrak_sync.warehouse import Column, TableNotFound, Warehouse, WarehouseError, connect, parse
from listrak_sync.warehouse.postgres import PostgresConfig, PostgresWarehouse

from ..postgres_server import PostgresServer


def config(server: PostgresServer, database: str, **settings: str) -> PostgresConfig:
    query = "".join(f"&{k}={v}" for k, v in settings.items())
    parsed = parse(server.url(database) + query)
    assert isinstance(parsed, PostgresConfig)
    return parsed.with_password(SecretStr(server.password))


@pytest.fixture
def wh(postgres_server: PostgresServer, postgres_database: str) -> Iterator[PostgresWarehouse]:
    warehouse = connect(config(postgres_server, postgres_database))
    assert isinstance(warehouse, PostgresWarehouse)
    with warehouse:
        yield warehouse


def batches(count: int, size: int, start: int = 0) -> Iterator[pa.RecordBatch]:
    for k in range(count):
        first = start + k * size
        ids = pa.array(range(first, first + size), pa.int64())
        yield pa.record_batch({"id": ids, "name": pc.cast(ids, pa.string())})


def test_implements_the_protocol(wh: PostgresWarehouse) -> None:
    assert isinstance(wh, Warehouse)
    assert wh.dialect == "postgres"


def test_stream_yields_bounded_batches_in_order(wh: PostgresWarehouse) -> None:
    wh.execute("CREATE TABLE t AS SELECT g AS i FROM generate_series(0, 9999) AS g")
    sizes = []
    seen = 0
    for batch in wh.stream("SELECT i FROM t ORDER BY i", batch_size=1000):
        assert batch.column(0).to_pylist()[0] == seen
        sizes.append(batch.num_rows)
        seen += batch.num_rows
    assert seen == 10000
    assert max(sizes) <= 1000


def test_other_calls_run_while_a_stream_is_open(wh: PostgresWarehouse) -> None:
    wh.execute("CREATE TABLE t AS SELECT g AS i FROM generate_series(1, 300000) AS g")
    stream = wh.stream("SELECT i FROM t ORDER BY i", batch_size=1000)
    first = next(stream)
    wh.execute("CREATE TABLE side AS SELECT 1 AS x")
    assert wh.query("SELECT count(*) AS n FROM side").column("n").to_pylist() == [1]
    assert next(stream).column("i")[0].as_py() == first.num_rows + 1
    wh.close()  # closes the open stream too


def test_decimals_round_trip_exactly(wh: PostgresWarehouse) -> None:
    # ADBC hands NUMERIC over as text; the adapter casts it strictly to the declared type.
    values = [
        Decimal("12345678901234567890123456.123456789012"),
        Decimal("-0.000000000001"),
        Decimal("0"),
        Decimal("9999999999999999999999999.999999999999"),
        None,
    ]
    kind = pa.decimal128(38, 12)
    assert wh.write("money", pa.table({"v": pa.array(values, kind)})) == 5
    assert wh.describe("money") == [Column("v", "DECIMAL(38, 12)", True)]
    table = wh.query("SELECT v FROM money")
    assert table.schema.field("v").type == kind
    assert table.column("v").to_pylist() == values
    streamed = pa.Table.from_batches(list(wh.stream("SELECT v FROM money", batch_size=2)))
    assert streamed.column("v").to_pylist() == values
    # And values the server computes, read through the same cast.
    sums = wh.query("SELECT sum(v)::numeric(38, 12) AS s, 1.10::numeric(6, 2) AS p FROM money")
    total = Decimal("22345678901234567890123456.123456789010")  # beyond Python's 28 digits
    assert sums.to_pylist() == [{"s": total, "p": Decimal("1.10")}]


def test_an_unfit_numeric_is_an_error_not_a_rounded_value(wh: PostgresWarehouse) -> None:
    with pytest.raises(WarehouseError, match=r"column 'n'.*cast the column"):
        wh.query("SELECT 'NaN'::numeric(10, 2) AS n")
    # Unconstrained NUMERIC has no fixed Arrow type: float64, as documented.
    assert wh.query("SELECT 1.5::numeric AS n").schema.field("n").type == pa.float64()


def test_types_read_as_arrow(wh: PostgresWarehouse) -> None:
    wh.execute(
        "CREATE TABLE t (i integer, b bigint, s varchar(20), d date, ts timestamp, "
        "tz timestamptz, f double precision, ok boolean)"
    )
    assert [c.type for c in wh.describe("t")] == [
        "INT",
        "BIGINT",
        "VARCHAR(20)",
        "DATE",
        "TIMESTAMP",
        "TIMESTAMPTZ",
        "DOUBLE PRECISION",
        "BOOLEAN",
    ]
    schema = wh.query("SELECT * FROM t").schema
    assert [f.type for f in schema] == [
        pa.int32(),
        pa.int64(),
        pa.string(),
        pa.date32(),
        pa.timestamp("us"),
        pa.timestamp("us", tz="UTC"),
        pa.float64(),
        pa.bool_(),
    ]


def test_write_streams_batches_and_replaces(wh: PostgresWarehouse) -> None:
    assert wh.write("t", batches(5, 1000)) == 5000
    assert wh.write("t", batches(2, 10)) == 20
    assert wh.query("SELECT count(*) AS n FROM t").column("n").to_pylist() == [20]


def test_write_appends_by_name_and_creates_when_missing(wh: PostgresWarehouse) -> None:
    assert wh.write("t", batches(1, 3), mode="append") == 3
    assert wh.write("t", pa.table({"name": ["x"], "id": [99]}), mode="append") == 1
    assert wh.write("t", pa.table({"name": ["only"]}), mode="append") == 1
    rows = wh.query("SELECT id, name FROM t ORDER BY name").to_pylist()
    assert {"id": 99, "name": "x"} in rows
    assert {"id": None, "name": "only"} in rows
    with pytest.raises(WarehouseError, match="has no column 'nope'"):
        wh.write("t", pa.table({"nope": [1]}), mode="append")


def test_replace_is_atomic_when_the_source_fails(wh: PostgresWarehouse) -> None:
    wh.write("t", batches(1, 10))

    def failing() -> Iterator[pa.RecordBatch]:
        yield from batches(2, 100)
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        wh.write("t", failing())
    assert wh.query("SELECT count(*) AS n FROM t").column("n").to_pylist() == [10]


def test_write_into_a_schema(wh: PostgresWarehouse) -> None:
    wh.execute("CREATE SCHEMA crm")
    assert wh.write("crm.orders", batches(1, 4)) == 4
    assert "crm.orders" in wh.tables()
    assert [c.name for c in wh.describe("crm.orders")] == ["id", "name"]


def test_empty_writes(wh: PostgresWarehouse) -> None:
    assert wh.write("t", iter(()), mode="append") == 0
    with pytest.raises(WarehouseError, match="without a schema"):
        wh.write("t", iter(()))
    schema = pa.schema([("id", pa.int64())])
    assert wh.write("t", iter(()), schema=schema) == 0
    assert wh.describe("t") == [Column("id", "BIGINT", True)]


def test_catalog(wh: PostgresWarehouse) -> None:
    wh.execute("CREATE TABLE a (x int); CREATE VIEW v AS SELECT x FROM a; CREATE SCHEMA s")
    wh.execute("CREATE TABLE s.b (y text NOT NULL)")
    assert wh.tables() == ["a", "s.b", "v"]
    assert wh.describe("s.b") == [Column("y", "TEXT", False)]
    with pytest.raises(TableNotFound, match="no table or view named 'nope'"):
        wh.describe("nope")


# -- errors: each names the connection, never the password --------------------------------


def test_missing_table_and_column(wh: PostgresWarehouse) -> None:
    wh.execute("CREATE TABLE t (x int)")
    with pytest.raises(TableNotFound) as missing:
        wh.query("SELECT * FROM nope")
    assert str(missing.value) == f'{wh.name}: relation "nope" does not exist'
    assert missing.value.statement == "SELECT * FROM nope"
    with pytest.raises(WarehouseError, match=r'column "nope" does not exist'):
        list(wh.stream("SELECT nope FROM t"))
    # The connection stays usable after a failed statement.
    assert wh.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]


def test_wrong_password(postgres_server: PostgresServer, postgres_database: str) -> None:
    wrong = config(postgres_server, postgres_database).with_password(SecretStr("not-it-51f3"))
    with pytest.raises(WarehouseError) as caught:
        connect(wrong)
    message = str(caught.value)
    assert message.startswith(wrong.display + ": ")
    assert "password authentication failed" in message
    assert "Hint: check the password" in message
    assert "not-it-51f3" not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_unreachable_host(postgres_server: PostgresServer) -> None:
    unreachable = parse("postgresql://someone@127.0.0.1:1/shop?connect_timeout=2")
    assert isinstance(unreachable, PostgresConfig)
    with pytest.raises(WarehouseError) as caught:
        connect(unreachable.with_password(SecretStr("pw-7d1e")))
    message = str(caught.value)
    assert message.startswith("postgresql://someone@127.0.0.1:1/shop: ")
    assert "Connection refused" in message
    assert "Hint: is the server running" in message
    assert "pw-7d1e" not in message


def test_permission_denied(
    postgres_server: PostgresServer, postgres_database: str, wh: PostgresWarehouse
) -> None:
    wh.execute("CREATE TABLE secret_table (x int)")
    with postgres_server.admin(postgres_database) as admin:
        admin.execute("DROP ROLE IF EXISTS reader")
        admin.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-pw-88'")
    reader = parse(postgres_server.url(postgres_database, user="reader"))
    assert isinstance(reader, PostgresConfig)
    with (
        connect(reader.with_password(SecretStr("reader-pw-88"))) as limited,
        pytest.raises(WarehouseError) as caught,
    ):
        limited.query("SELECT * FROM secret_table")
    message = str(caught.value)
    assert "permission denied for table secret_table" in message
    assert "Hint: the sync needs SELECT" in message
    assert "reader-pw-88" not in message


def test_statement_timeout(postgres_server: PostgresServer, postgres_database: str) -> None:
    with connect(config(postgres_server, postgres_database, statement_timeout="0.2")) as slow:
        with pytest.raises(WarehouseError) as caught:
            slow.query("SELECT pg_sleep(5)")
        assert "canceling statement due to statement timeout" in str(caught.value)
        assert "Hint: the statement ran longer than statement_timeout" in str(caught.value)
        assert slow.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]


# -- URLs ---------------------------------------------------------------------------------


def test_url_settings() -> None:
    parsed = parse(
        "postgresql://ana@db.example.com:6432/shop?sslmode=require&statement_timeout=30"
        "&schema=crm&sslrootcert=/etc/ca.pem"
    )
    assert isinstance(parsed, PostgresConfig)
    assert (parsed.host, parsed.port, parsed.database, parsed.user) == (
        "db.example.com",
        6432,
        "shop",
        "ana",
    )
    assert (parsed.sslmode, parsed.statement_timeout, parsed.schema_) == ("require", 30, "crm")
    assert parse("postgres://h/db") == PostgresConfig(host="h", database="db")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://ana:hunter2@h/db", "may not hold the password"),
        ("postgresql://h/db?sslmode=sometimes", "sslmode"),
        ("postgresql://h/db?pool=3", "unknown setting 'pool'"),
        ("postgresql://h/", "name one database"),
        ("postgresql://h:99999/db", "port"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(WarehouseError, match=message) as caught:
        parse(url)
    assert "hunter2" not in str(caught.value)


def test_password_never_in_repr_or_dump() -> None:
    parsed = parse("postgresql://ana@h/db")
    assert isinstance(parsed, PostgresConfig)
    secret = parsed.with_password(SecretStr("s3cret-pw"))
    assert "s3cret-pw" not in repr(secret)
    assert "s3cret-pw" not in str(secret.model_dump())
    assert "s3cret-pw" in secret.libpq_uri()
