"""PostgresWarehouse on a real PostgreSQL server on loopback: what only PostgreSQL does (NUMERIC
and its types, its logins and errors, its URLs). What every engine does is in
test_warehouse_conformance.py."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pytest
from pydantic import SecretStr

from listrak_sync.warehouse import TableNotFound, WarehouseError, connect, parse
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


def test_numerics_beyond_pythons_precision_read_exactly(wh: PostgresWarehouse) -> None:
    # ADBC hands NUMERIC over as text; the adapter casts it strictly to the declared type, for
    # stored values and for values the server computes (the shared round trip is in
    # test_warehouse_conformance.py).
    values = [
        Decimal("12345678901234567890123456.123456789012"),
        Decimal("9999999999999999999999999.999999999999"),
        None,
    ]
    kind = pa.decimal128(38, 12)
    assert wh.write("money", pa.table({"v": pa.array(values, kind)})) == 3
    assert wh.query("SELECT v FROM money").column("v").to_pylist() == values
    sums = wh.query("SELECT sum(v)::numeric(38, 12) AS s, 1.10::numeric(6, 2) AS p FROM money")
    total = Decimal("22345678901234567890123456.123456789011")  # beyond Python's 28 digits
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


# -- errors: each names the connection, never the password --------------------------------


def test_missing_table_and_column_in_postgres_words(wh: PostgresWarehouse) -> None:
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
