"""The sample project with ``warehouse.connection`` pointed at Snowflake (fakesnow on loopback):
what fakesnow cannot produce (a refused grant, a timeout), answered in Snowflake's words, is one
clear error. Validate, plan and sync on every server engine: test_server_engine_projects.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from listrak_sync.project import open_warehouse
from listrak_sync.project.loader import parse_project
from listrak_sync.project.validate import state_problems
from listrak_sync.sync import Workspace
from listrak_sync.warehouse.sample_data import generate

from ..snowflake_server import KEY_USER, SnowflakeServer, open_snowflake
from .sample_projects import CUSTOMERS, SEED, make_project, point_at, run


@pytest.fixture
def snowflake_url(snowflake_server: SnowflakeServer) -> str:
    """A database holding the same sample data ``init`` writes to DuckDB."""
    database = snowflake_server.create_database()
    with open_snowflake(snowflake_server, database) as warehouse:
        generate(warehouse, customers=CUSTOMERS, seed=SEED)
    return snowflake_server.url(database)


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
    point_at(project, snowflake_url, snowflake_server.password)
    with snowflake_server.refusing(r"(?i)\bcustomer_360\b", code, sqlstate, answer):
        status, output = run("plan", "spring_sale", "-p", str(project))
    assert status == 1, output
    flat = " ".join(output.split())
    assert "snowflake://LISTRAK_SYNC@fakesnow/" in flat
    assert " ".join(answer.split()) in flat
    assert hint in flat
    assert "Traceback" not in output
    assert snowflake_server.password not in output


def test_a_relative_key_file_is_found_from_any_working_directory(
    tmp_path: Path, snowflake_server: SnowflakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``private_key_file`` is relative to the project folder, like every path in the project
    file, for the warehouse and for ``state.connection`` alike, wherever the command runs."""
    root = tmp_path / "project"
    (root / "keys").mkdir(parents=True)
    snowflake_server.write_key(root / "keys" / "rsa.p8")
    url = (
        snowflake_server.url(snowflake_server.create_database(), user=KEY_USER)
        + "&private_key_file=keys/rsa.p8"
    )
    state_url = (
        snowflake_server.url(snowflake_server.create_database(), user=KEY_USER)
        + "&private_key_file=keys/rsa.p8"
    )
    project = parse_project(
        f"warehouse:\n  connection: {url}\n"
        f"state:\n  store: warehouse\n  schema: key_state\n  connection: {state_url}\n",
        root,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    assert state_problems(project) == []
    with open_warehouse(project) as warehouse:
        assert warehouse.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]
    store = Workspace.for_project(project).store()
    try:
        assert store.runs("sync", "spring/newsletter") == []
    finally:
        store.close()
