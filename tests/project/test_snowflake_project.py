"""The sample project with ``warehouse.connection`` pointed at Snowflake (fakesnow on loopback):
validate, plan and sync to the emulator, the same plan as from DuckDB; a wrong password, a
missing table and a missing column found by ``validate`` at their place in the file."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from listrak_sync.warehouse.sample_data import generate

from ..snowflake_server import SnowflakeServer, open_snowflake
from .test_postgres_project import CUSTOMERS, SEED, comparable, make_project, plan_json, run


def point_at_snowflake(project: Path, url: str, password_secret: str) -> None:
    config = project / "listrak-sync.yml"
    text, count = re.subn(
        r"(?m)^  connection: .*$",
        f"  connection: {url}\n  password: {{secret: warehouse_password}}",
        config.read_text(),
    )
    assert count == 1
    config.write_text(text)
    secrets = project / "secrets.yml"
    secrets.write_text(secrets.read_text() + f"warehouse_password: {password_secret}\n")
    os.remove(project / "warehouse.duckdb")  # nothing may still read DuckDB


@pytest.fixture
def snowflake_url(snowflake_server: SnowflakeServer) -> str:
    """A database holding the same sample data ``init`` writes to DuckDB."""
    database = snowflake_server.create_database()
    with open_snowflake(snowflake_server, database) as warehouse:
        generate(warehouse, customers=CUSTOMERS, seed=SEED)
    return snowflake_server.url(database)


def test_sample_project_plans_and_syncs_from_snowflake(
    tmp_path: Path, sandbox: str, snowflake_server: SnowflakeServer, snowflake_url: str
) -> None:
    on_duckdb = make_project(tmp_path / "duckdb", sandbox)
    on_snowflake = tmp_path / "snowflake"
    shutil.copytree(on_duckdb, on_snowflake)
    point_at_snowflake(on_snowflake, snowflake_url, snowflake_server.password)

    code, output = run("validate", "--project", str(on_snowflake))
    assert code == 0, output
    assert "no problems" in output

    assert comparable(plan_json(on_snowflake, "spring_sale")) == comparable(
        plan_json(on_duckdb, "spring_sale")
    )

    # The sandbox's SMS list holds numbers outside the audience: removing them all trips the
    # removal guard, whatever the warehouse.
    code, output = run("sync", "spring_sale", "-p", str(on_snowflake), "--allow-large-removal")
    assert code == 0, output
    assert "spring_sale/newsletter (listrak_email) succeeded" in output
    assert "spring_sale/sms_marketing (listrak_sms) succeeded" in output
    assert re.search(r"Listrak results: Subscribed [1-9]", output), output


def test_validate_finds_snowflake_problems_in_place(
    tmp_path: Path, sandbox: str, snowflake_server: SnowflakeServer, snowflake_url: str
) -> None:
    project = make_project(tmp_path / "p", sandbox)
    point_at_snowflake(project, snowflake_url, "not-the-password-3a9")
    code, output = run("validate", "--project", str(project))
    assert code == 1, output
    assert "Incorrect username or password was specified." in output
    assert "snowflake://LISTRAK_SYNC@fakesnow/" in output
    assert "listrak-sync.yml:" in output
    assert "not-the-password-3a9" not in output

    secrets = project / "secrets.yml"
    secrets.write_text(
        secrets.read_text().replace("not-the-password-3a9", snowflake_server.password)
    )
    config = project / "listrak-sync.yml"
    good = config.read_text()
    config.write_text(good.replace("customer_table: customer_360", "customer_table: customer_306"))
    code, output = run("validate", "--project", str(project))
    assert code == 1, output
    assert re.search(r"listrak-sync\.yml:\d+:\d+: table 'customer_306' is not in", output), output
    assert "did you mean 'customer_360'?" in output

    config.write_text(good.replace("WHERE churn_risk = 'high'", "WHERE churn_riks = 'high'"))
    code, output = run("validate", "--project", str(project))
    assert code == 1, output
    # Snowflake folds unquoted names to upper case, and says so.
    assert re.search(r"listrak-sync\.yml:\d+:\d+: unknown column 'CHURN_RIKS'", output), output
    assert "did you mean 'churn_risk'?" in output


@pytest.mark.parametrize(
    ("code", "sqlstate", "answer", "hint"),
    [
        (
            "003001",
            "42501",
            "SQL access control error:\nInsufficient privileges to operate on table 'CUSTOMER_360'",
            "the sync needs SELECT on the tables it reads",
        ),
        (
            "000630",
            "57014",
            "Statement reached its statement or warehouse timeout of 5 second(s) and was canceled.",
            "the statement ran longer than statement_timeout",
        ),
    ],
    ids=["permission-denied", "statement-timeout"],
)
def test_a_refused_audience_query_is_one_clear_error(
    tmp_path: Path,
    sandbox: str,
    snowflake_server: SnowflakeServer,
    snowflake_url: str,
    code: str,
    sqlstate: str,
    answer: str,
    hint: str,
) -> None:
    """What fakesnow cannot produce is answered in Snowflake's own words by the test server
    (``refusing``); the real connector raises its exception, the CLI prints one line naming
    the connection, exit 1."""
    project = make_project(tmp_path / "p", sandbox)
    point_at_snowflake(project, snowflake_url, snowflake_server.password)
    with snowflake_server.refusing(r"(?i)\bcustomer_360\b", code, sqlstate, answer):
        status, output = run("plan", "spring_sale", "-p", str(project))
    assert status == 1, output
    flat = " ".join(output.split())
    assert "snowflake://LISTRAK_SYNC@fakesnow/" in flat
    assert " ".join(answer.split()) in flat
    assert hint in flat
    assert "Traceback" not in output
    assert snowflake_server.password not in output
