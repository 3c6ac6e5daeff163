"""SMS consent's latest-row rule, on DuckDB, PostgreSQL and Snowflake (fakesnow): same numbers,
ties never consent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from listrak_sync.audiences.consent import consented_phones, prepare_consent_phones
from listrak_sync.config.models import SmsOptStatus
from listrak_sync.warehouse import Warehouse, connect, parse
from listrak_sync.warehouse.postgres import PostgresConfig
from listrak_sync.warehouse.snowflake import SnowflakeConfig

from ..postgres_server import PostgresServer
from ..snowflake_server import SnowflakeServer

STATUS = SmsOptStatus(updated_column="updated_at")
ROWS = """
    ('+1 215 555 0001', 'opted_in',  TIMESTAMP '2026-01-02 00:00:00'),
    ('2155550001',      'opted_out', TIMESTAMP '2026-01-01 00:00:00'),
    ('+12155550002',    'opted_out', TIMESTAMP '2026-01-02 00:00:00'),
    ('215-555-0002',    'opted_in',  TIMESTAMP '2026-01-01 00:00:00'),
    ('+12155550003',    'opted_in',  TIMESTAMP '2026-01-05 00:00:00'),
    ('(215) 555-0003',  'opted_out', TIMESTAMP '2026-01-05 00:00:00'),
    ('+12155550004',    'opted_in',  NULL),
    ('+12155550005',    'OPTED_IN',  TIMESTAMP '2026-01-01 00:00:00'),
    ('+12155550005',    NULL,        TIMESTAMP '2025-01-01 00:00:00')
"""


@pytest.fixture(params=["duckdb", "postgres", "snowflake"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        target: object = tmp_path / "w.duckdb"
    elif request.param == "snowflake":
        server: SnowflakeServer = request.getfixturevalue("snowflake_server")
        config = parse(server.url(server.create_database()))
        assert isinstance(config, SnowflakeConfig)
        target = config.with_password(SecretStr(server.password))
    else:
        postgres_server: PostgresServer = request.getfixturevalue("postgres_server")
        config = parse(postgres_server.url(postgres_server.create_database()))
        assert isinstance(config, PostgresConfig)
        target = config.with_password(SecretStr(postgres_server.password))
    with connect(target) as opened:  # type: ignore[arg-type]
        opened.execute(
            "CREATE TABLE sms_opt_status (phone VARCHAR, status VARCHAR, updated_at TIMESTAMP)"
        )
        opened.execute(f"INSERT INTO sms_opt_status VALUES {ROWS}")
        yield opened


def test_latest_dated_row_decides_and_ties_never_consent(warehouse: Warehouse) -> None:
    prepare_consent_phones(warehouse, STATUS, "sms_opt_status", "US")
    query = consented_phones(warehouse, STATUS, "sms_opt_status", "US")
    found = {r["e164"] for r in warehouse.query(query.sql(dialect=warehouse.dialect)).to_pylist()}
    # 1: latest says yes. 2: latest says no. 3: tied on the latest date, one says no.
    # 4: its only row has no date. 5: latest says yes (status compared case-insensitively).
    assert found == {"+12155550001", "+12155550005"}


def test_the_sql_writes_null_ordering_and_needs_no_arg_max(warehouse: Warehouse) -> None:
    # DuckDB's own spelling leaves out its default NULLS LAST; the servers' keep it.
    dialect = "postgres" if warehouse.dialect == "duckdb" else warehouse.dialect
    sql = consented_phones(warehouse, STATUS, "sms_opt_status", "US").sql(dialect=dialect)
    assert '"o"."updated_at" DESC NULLS LAST' in sql
    assert "ARG_MAX" not in sql.upper()
