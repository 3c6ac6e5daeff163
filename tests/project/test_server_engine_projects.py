"""The sample project with ``warehouse.connection`` pointed at each server engine (PostgreSQL,
Snowflake on fakesnow): validate, plan and sync to the emulator, the same plan as from DuckDB; a
wrong password, a missing table and a missing column found by ``validate`` at their place in
the file, in each engine's words."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from listrak_sync.warehouse.sample_data import generate

from ..server_engines import SERVER_ENGINES, EngineDatabase, engine_database
from .sample_projects import CUSTOMERS, SEED, comparable, make_project, plan_json, point_at, run

# What each engine says, and names, when validate meets a problem.
WRONG_PASSWORD = {
    "postgres": ["password authentication failed"],
    "snowflake": [
        "Incorrect username or password was specified.",
        "snowflake://LISTRAK_SYNC@fakesnow/",
    ],
}
UNKNOWN_COLUMN = {
    "postgres": [r"listrak-sync\.yml:\d+:\d+: .*churn_riks"],
    # Snowflake folds unquoted names to upper case, and says so.
    "snowflake": [
        r"listrak-sync\.yml:\d+:\d+: unknown column 'CHURN_RIKS'",
        r"did you mean 'churn_risk'\?",
    ],
}


@pytest.fixture(params=SERVER_ENGINES)
def database(request: pytest.FixtureRequest) -> EngineDatabase:
    """A database holding the same sample data ``init`` writes to DuckDB."""
    database = engine_database(request, request.param)
    with database.connect() as warehouse:
        generate(warehouse, customers=CUSTOMERS, seed=SEED)
    return database


def test_sample_project_plans_and_syncs_from_a_server_engine(
    tmp_path: Path, sandbox: str, database: EngineDatabase
) -> None:
    on_duckdb = make_project(tmp_path / "duckdb", sandbox)
    on_server = tmp_path / database.engine
    shutil.copytree(on_duckdb, on_server)
    point_at(on_server, database.url, database.password)

    code, output = run("validate", "--project", str(on_server))
    assert code == 0, output
    assert "no problems" in output

    # vip_winback is left out: its list (1002) lacks the FirstName field in the sample sandbox.
    assert comparable(plan_json(on_server, "spring_sale")) == comparable(
        plan_json(on_duckdb, "spring_sale")
    )

    # The sandbox's SMS list holds numbers outside the audience: removing them all trips the
    # removal guard, whatever the warehouse.
    code, output = run("sync", "spring_sale", "-p", str(on_server), "--allow-large-removal")
    assert code == 0, output
    assert "spring_sale/newsletter (listrak_email) succeeded" in output
    assert "spring_sale/sms_marketing (listrak_sms) succeeded" in output
    assert re.search(r"Listrak results: Subscribed [1-9]", output), output  # the newsletter


def test_validate_finds_problems_in_place(
    tmp_path: Path, sandbox: str, database: EngineDatabase
) -> None:
    project = make_project(tmp_path / "p", sandbox)
    point_at(project, database.url, "not-the-password-3a9")
    code, output = run("validate", "--project", str(project))
    assert code == 1, output
    for said in WRONG_PASSWORD[database.engine]:
        assert said in output
    assert "listrak-sync.yml:" in output
    assert "not-the-password-3a9" not in output

    secrets = project / "secrets.yml"
    secrets.write_text(secrets.read_text().replace("not-the-password-3a9", database.password))
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
    for pattern in UNKNOWN_COLUMN[database.engine]:
        assert re.search(pattern, output), output
