"""SnowflakeWarehouse against fakesnow's server on loopback (the real connector over HTTP):
what only Snowflake does (its types, scratch tables, key-pair and password logins, errors, URLs).
What every engine does is in test_warehouse_conformance.py."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.warehouse import TableNotFound, WarehouseError, connect, parse
from listrak_sync.warehouse.snowflake import SnowflakeConfig, SnowflakeWarehouse

from ..snowflake_server import KEY_USER, SnowflakeServer


def config(server: SnowflakeServer, database: str, *, user: str | None = None) -> SnowflakeConfig:
    parsed = parse(server.url(database) if user is None else server.url(database, user=user))
    assert isinstance(parsed, SnowflakeConfig)
    return parsed


@pytest.fixture
def wh(snowflake_server: SnowflakeServer) -> Iterator[SnowflakeWarehouse]:
    database = snowflake_server.create_database()
    target = config(snowflake_server, database).with_password(SecretStr(snowflake_server.password))
    warehouse = connect(target)
    assert isinstance(warehouse, SnowflakeWarehouse)
    with warehouse:
        yield warehouse


def test_decimals_and_types_round_trip(wh: SnowflakeWarehouse) -> None:
    values = [
        Decimal("12345678901234567890123456.123456789012"),
        Decimal("-0.000000000001"),
        Decimal("0"),
        None,
    ]
    kind = pa.decimal128(38, 12)
    table = pa.table(
        {
            "v": pa.array(values, kind),
            "n": pa.array([1, None, 3, 4], pa.int32()),
            "s": ["a", "ü", None, "d"],
            "ok": [True, False, None, True],
            "d": pa.array([19000, None, 0, 1], pa.date32()),
            "ts": pa.array([1_700_000_000_000_000, None, 0, 1], pa.timestamp("us")),
        }
    )
    assert wh.write("money", table) == 4
    assert [(c.name, c.type) for c in wh.describe("money")] == [
        ("v", "DECIMAL(38, 12)"),
        ("n", "BIGINT"),
        ("s", "VARCHAR"),
        ("ok", "BOOLEAN"),
        ("d", "DATE"),
        ("ts", "TIMESTAMP"),
    ]
    read = wh.query("SELECT * FROM money")
    assert read.schema.field("v").type == kind
    assert read.schema.field("n").type == pa.int64()
    assert read.schema.field("ts").type == pa.timestamp("us")
    assert read.column("v").to_pylist() == values
    assert read.column("ts").to_pylist() == table.column("ts").to_pylist()
    streamed = pa.Table.from_batches(list(wh.stream("SELECT v FROM money", batch_size=2)))
    assert streamed.column("v").to_pylist() == values


def test_scratch_tables_are_temporary(wh: SnowflakeWarehouse) -> None:
    wh.execute("CREATE TABLE IF NOT EXISTS listrak_sync_scratch.main.cache (raw VARCHAR)")
    wh.execute("CREATE TABLE IF NOT EXISTS listrak_sync_scratch.main.cache (raw VARCHAR)")
    table = pa.table({"raw": ["a", "b"]})
    assert wh.write("listrak_sync_scratch.main.cache", table, mode="append") == 2
    found = wh.query("SELECT raw FROM listrak_sync_scratch.main.cache ORDER BY raw")
    assert found.column("raw").to_pylist() == ["a", "b"]
    assert "cache" not in wh.tables()


# -- logins and errors: each names the connection, never the password or key ----------------


def test_key_pair_login(
    tmp_path: Path, snowflake_server: SnowflakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRIVATE_KEY_PASSPHRASE", raising=False)
    database = snowflake_server.create_database()
    snowflake_server.write_key(tmp_path / "rsa_key.p8", passphrase="key-pass-61")
    url = snowflake_server.url(database, user=KEY_USER) + "&private_key_file=rsa_key.p8"
    target = parse(url)
    assert isinstance(target, SnowflakeConfig)
    with connect(target.with_password(SecretStr("key-pass-61")), base_dir=tmp_path) as wh:
        assert wh.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]

    with pytest.raises(WarehouseError) as caught:
        connect(target, base_dir=tmp_path)  # no passphrase for the encrypted key
    assert "warehouse.password to its passphrase" in str(caught.value)
    with pytest.raises(WarehouseError) as caught:
        connect(target.with_password(SecretStr("wrong-pass-2")), base_dir=tmp_path)
    assert "cannot load the private key file" in str(caught.value)
    assert "wrong-pass-2" not in str(caught.value)
    with pytest.raises(WarehouseError, match="cannot read the private key file"):
        connect(target, base_dir=tmp_path / "elsewhere")


def test_a_key_the_user_does_not_have_is_refused(
    tmp_path: Path, snowflake_server: SnowflakeServer
) -> None:
    other = SnowflakeServer()  # another key pair; never started, only its key is used
    other.write_key(tmp_path / "other.p8")
    database = snowflake_server.create_database()
    target = parse(
        snowflake_server.url(database, user=KEY_USER) + f"&private_key_file={tmp_path}/other.p8"
    )
    with pytest.raises(WarehouseError) as caught:
        connect(target)
    message = str(caught.value)
    assert message.startswith(f"snowflake://{KEY_USER}@fakesnow/{database}/PUBLIC: ")
    assert "JWT token is invalid" in message
    assert "Hint: the key does not match the public key" in message


def test_wrong_password(snowflake_server: SnowflakeServer) -> None:
    target = config(snowflake_server, snowflake_server.create_database())
    wrong = target.with_password(SecretStr("not-it-51f3"))
    with pytest.raises(WarehouseError) as caught:
        connect(wrong)
    message = str(caught.value)
    assert message.startswith(wrong.display + ": ")
    assert "Incorrect username or password was specified." in message
    assert "Hint: check the user and the password" in message
    assert "not-it-51f3" not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_no_login_at_all(
    snowflake_server: SnowflakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SNOWFLAKE_PASSWORD", raising=False)
    with pytest.raises(WarehouseError, match=r"no login: set \?private_key_file"):
        connect(config(snowflake_server, "DB"))


def test_unreachable_account() -> None:
    unreachable = parse(
        "snowflake://SOMEONE@nowhere-42/SHOP/PUBLIC?host=127.0.0.1&port=1&protocol=http"
        "&login_timeout=3"
    )
    assert isinstance(unreachable, SnowflakeConfig)
    with pytest.raises(WarehouseError) as caught:
        connect(unreachable.with_password(SecretStr("pw-7d1e")))
    message = str(caught.value)
    assert message.startswith("snowflake://SOMEONE@nowhere-42/SHOP/PUBLIC: ")
    assert "Hint: could not reach Snowflake: check the account identifier" in message
    assert "pw-7d1e" not in message


def test_missing_table_and_column_in_snowflake_words(wh: SnowflakeWarehouse) -> None:
    wh.execute("CREATE TABLE t (x INT)")
    with pytest.raises(TableNotFound) as missing:
        wh.query("SELECT * FROM nope")
    assert str(missing.value).startswith(f"{wh.name}: ")
    assert "NOPE" in str(missing.value)
    assert missing.value.statement == "SELECT * FROM nope"
    with pytest.raises(WarehouseError, match="NOPE"):
        list(wh.stream("SELECT nope FROM t"))
    # The connection stays usable after a failed statement.
    assert wh.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]


# -- URLs ---------------------------------------------------------------------------------


def test_url_settings() -> None:
    parsed = parse(
        "snowflake://LISTRAK_SYNC@myorg-shop/SHOP/CRM?warehouse=SYNC_WH&role=LISTRAK_SYNC"
        "&private_key_file=keys/rsa.p8&statement_timeout=600"
    )
    assert parsed == SnowflakeConfig(
        account="myorg-shop",
        user="LISTRAK_SYNC",
        database="SHOP",
        schema="CRM",
        warehouse="SYNC_WH",
        role="LISTRAK_SYNC",
        private_key_file="keys/rsa.p8",
        statement_timeout=600,
    )
    assert parsed.display == "snowflake://LISTRAK_SYNC@myorg-shop/SHOP/CRM"
    assert parse("snowflake://u@xy12345.eu-west-1/DB") == SnowflakeConfig(
        account="xy12345.eu-west-1", user="u", database="DB"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("snowflake://ana:hunter2@acct/db/s", "may not hold the password"),
        ("snowflake://acct/db/s", "name the user"),
        ("snowflake://ana@acct/", "name the database"),
        ("snowflake://ana@acct/db/s/x", "name the database"),
        ("snowflake://ana@acct/db?pool=3", "unknown setting 'pool'"),
        ("snowflake://ana@acct/db?statement_timeout=soon", "statement_timeout"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(WarehouseError, match=message) as caught:
        parse(url)
    assert "hunter2" not in str(caught.value)


def test_password_never_in_repr_or_dump() -> None:
    parsed = parse("snowflake://ana@acct/db")
    assert isinstance(parsed, SnowflakeConfig)
    secret = parsed.with_password(SecretStr("s3cret-pw"))
    assert "s3cret-pw" not in repr(secret)
    assert "s3cret-pw" not in str(secret.model_dump())


def test_sample_data_command_logs_in_from_the_environment(
    snowflake_server: SnowflakeServer,
) -> None:
    url = snowflake_server.url(snowflake_server.create_database())
    runner = CliRunner()
    args = ["sample-data", "--customers", "50", "--warehouse", url, "--json"]
    wrong = runner.invoke(app, args, env={"SNOWFLAKE_PASSWORD": "not-it-0c4"})
    assert wrong.exit_code == 1, wrong.output
    assert "snowflake://LISTRAK_SYNC@fakesnow/" in wrong.output
    assert "Incorrect username or password was specified." in wrong.output
    assert "not-it-0c4" not in wrong.output
    assert "Traceback" not in wrong.output

    done = runner.invoke(app, args, env={"SNOWFLAKE_PASSWORD": snowflake_server.password})
    assert done.exit_code == 0, done.output
    assert '"customer_360": 50' in done.output


# Snowflake's answers to what fakesnow cannot produce (tests/snowflake_server.py ``refusing``).
NO_PRIVILEGE = (
    "003001",
    "42501",
    "SQL access control error:\nInsufficient privileges to operate on table 'CUSTOMERS'",
)
TIMED_OUT = (
    "000630",
    "57014",
    "Statement reached its statement or warehouse timeout of 5 second(s) and was canceled.",
)


def test_permission_denied_names_the_connection_and_the_grant(
    snowflake_server: SnowflakeServer, wh: SnowflakeWarehouse
) -> None:
    with (
        snowflake_server.refusing(r"(?i)\bcustomers\b", *NO_PRIVILEGE),
        pytest.raises(WarehouseError) as caught,
    ):
        list(wh.stream("SELECT * FROM customers"))
    message = str(caught.value)
    assert message.startswith(f"{wh.name}: SQL access control error:")
    assert "Insufficient privileges to operate on table 'CUSTOMERS'" in message
    assert "Hint: the sync needs SELECT on the tables it reads" in message
    assert snowflake_server.password not in message
    assert caught.value.statement == "SELECT * FROM customers"
    assert wh.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]


def test_statement_timeout_names_the_connection_and_the_setting(
    snowflake_server: SnowflakeServer, wh: SnowflakeWarehouse
) -> None:
    with (
        snowflake_server.refusing(r"(?i)\bslow_view\b", *TIMED_OUT),
        pytest.raises(WarehouseError) as caught,
    ):
        wh.query("SELECT count(*) FROM slow_view")
    message = str(caught.value)
    assert message.startswith(f"{wh.name}: Statement reached its statement or warehouse timeout")
    assert "Hint: the statement ran longer than statement_timeout" in message
    assert snowflake_server.password not in message
