"""The Snowflake adapter against a real Snowflake account: what fakesnow cannot prove (key-pair
login, roles and warehouses, identifier case, TO_NUMBER-free split, PUT/COPY into real stages).

Opt-in: skipped unless these are set (the URL as in a project file, no secret in it):

- ``LISTRAK_SYNC_SNOWFLAKE_URL``: ``snowflake://USER@ACCOUNT/DB/SCHEMA?warehouse=WH&role=ROLE``,
  a schema the role may create tables and stages in (the tests make and drop their own tables);
- ``LISTRAK_SYNC_SNOWFLAKE_PRIVATE_KEY_FILE`` (added as ``private_key_file``) and/or
  ``LISTRAK_SYNC_SNOWFLAKE_PASSWORD`` (the login password, or the key's passphrase).

Run: ``pytest -m snowflake_live tests/warehouse/test_snowflake_live.py``.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pyarrow as pa
import pytest
from pydantic import SecretStr
from sqlglot import exp

from listrak_sync.audiences.split import bucket_expression
from listrak_sync.warehouse import TableNotFound, WarehouseError, connect, parse
from listrak_sync.warehouse.snowflake import SnowflakeConfig, SnowflakeWarehouse

URL = os.environ.get("LISTRAK_SYNC_SNOWFLAKE_URL", "")
KEY_FILE = os.environ.get("LISTRAK_SYNC_SNOWFLAKE_PRIVATE_KEY_FILE", "")
PASSWORD = os.environ.get("LISTRAK_SYNC_SNOWFLAKE_PASSWORD", "")

pytestmark = [
    pytest.mark.snowflake_live,
    pytest.mark.skipif(
        not URL or not (KEY_FILE or PASSWORD),
        reason="set LISTRAK_SYNC_SNOWFLAKE_URL and a key file or password to run against "
        "a real Snowflake account",
    ),
]


def live_config() -> SnowflakeConfig:
    url = URL
    if KEY_FILE:
        url += ("&" if "?" in url else "?") + "private_key_file=" + quote(KEY_FILE)
    config = parse(url)
    assert isinstance(config, SnowflakeConfig)
    return config.with_password(SecretStr(PASSWORD) if PASSWORD else None)


@pytest.fixture
def wh() -> Iterator[SnowflakeWarehouse]:
    warehouse = connect(live_config())
    assert isinstance(warehouse, SnowflakeWarehouse)
    with warehouse:
        yield warehouse


@pytest.fixture
def table(wh: SnowflakeWarehouse) -> Iterator[str]:
    name = f"listrak_sync_live_{uuid.uuid4().hex[:8]}"
    yield name
    wh.execute(f"DROP TABLE IF EXISTS {name}")


def test_unquoted_tables_answer_quoted_lower_case_names(wh: SnowflakeWarehouse, table: str) -> None:
    # How a data team creates tables: unquoted, so Snowflake stores CUSTOMER_ID.
    wh.execute(f"CREATE TABLE {table} (customer_id VARCHAR, lifetime_value NUMBER(12, 2))")
    wh.execute(f"INSERT INTO {table} VALUES ('C1', 12.50), ('C2', NULL)")
    assert [c.name for c in wh.describe(table)] == ["customer_id", "lifetime_value"]
    assert table in wh.tables()
    # How audiences query it: quoted, as written in the project.
    found = wh.query(f'SELECT "customer_id", "lifetime_value" FROM "{table}" ORDER BY 1')
    assert found.schema.names == ["customer_id", "lifetime_value"]
    assert found.schema.field("lifetime_value").type == pa.decimal128(12, 2)
    assert found.column("customer_id").to_pylist() == ["C1", "C2"]


def test_write_and_stream_through_a_stage(wh: SnowflakeWarehouse, table: str) -> None:
    ids = pa.array(range(100_000), pa.int64())
    assert (
        wh.write(table, pa.table({"id": ids, "ts": pa.array(ids, pa.timestamp("us"))})) == 100_000
    )
    sizes = [b.num_rows for b in wh.stream(f"SELECT id, ts FROM {table}", batch_size=10_000)]
    assert sum(sizes) == 100_000
    assert max(sizes) <= 10_000


def test_split_bucket_is_the_md5_prefix(wh: SnowflakeWarehouse) -> None:
    for key in ("1", "cust-42", "ünïcode", "C00000001"):
        sql = exp.select(
            exp.alias_(bucket_expression(exp.Literal.string(key), "s1", "snowflake"), "b")
        )
        expected = int(hashlib.md5(f"s1:{key}".encode()).hexdigest()[:8], 16) % 10_000
        assert wh.query(sql.sql(dialect="snowflake")).column("b").to_pylist() == [expected], key


def test_scratch_tables_are_temporary(wh: SnowflakeWarehouse) -> None:
    wh.execute("CREATE TABLE IF NOT EXISTS listrak_sync_scratch.main.live_cache (raw VARCHAR)")
    assert wh.write("listrak_sync_scratch.main.live_cache", pa.table({"raw": ["a"]}), mode="append")
    assert wh.query("SELECT raw FROM listrak_sync_scratch.main.live_cache").num_rows == 1


def test_missing_table_names_the_connection(wh: SnowflakeWarehouse) -> None:
    with pytest.raises(TableNotFound) as caught:
        wh.query("SELECT * FROM listrak_sync_no_such_table")
    assert str(caught.value).startswith(wh.name + ": ")
    assert "does not exist or not authorized" in str(caught.value)


def test_wrong_password_names_the_connection() -> None:
    config = live_config().model_copy(update={"private_key_file": None})
    with pytest.raises(WarehouseError) as caught:
        connect(config.with_password(SecretStr("not-the-password-8c1")))
    assert str(caught.value).startswith(config.display + ": ")
    assert "not-the-password-8c1" not in str(caught.value)
