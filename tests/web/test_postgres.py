"""The console on a PostgreSQL warehouse (the real server the suite starts): log in, segment
sizes, the builder's live size, a campaign's preview and plan; and a slow count superseded by a
newer edit is cancelled in the server, not left running (pg_stat_activity says so)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from listrak_sync.warehouse import WarehouseError, connect, parse
from listrak_sync.warehouse.postgres import PostgresConfig
from listrak_sync.web import create_app
from listrak_sync.web._live import LiveQueries
from tests.postgres_server import PostgresServer
from tests.sync.helpers import FAST, seed_list
from tests.web.conftest import ConsoleProject, log_in

PASSWORD_ENV = "LSYNC_TEST_CONSOLE_PG_PASSWORD"
TABLES = ("customer_360", "merged_customers", "orders")
SLOW = "SELECT customer_id FROM slow_customers"  # the view sleeps a minute before its rows


def _config(server: PostgresServer, database: str) -> PostgresConfig:
    parsed = parse(server.url(database))
    assert isinstance(parsed, PostgresConfig)
    return parsed.with_password(SecretStr(server.password))


def _active(server: PostgresServer, database: str, text: str) -> list[str]:
    """The statements running now in ``database`` that contain ``text``."""
    with server.admin() as con:
        rows = con.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
            " AND pid <> pg_backend_pid() AND position(%s in query) > 0",
            (database, text),
        ).fetchall()
    return [str(row[0]) for row in rows]


def _wait_until(check: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def on_postgres(
    console_project: ConsoleProject,
    postgres_server: PostgresServer,
    postgres_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> ConsoleProject:
    """The console's test project with its tables copied into PostgreSQL and
    ``warehouse.connection`` pointed there (the DuckDB file removed)."""
    duck = console_project.root / "warehouse.duckdb"
    with (
        duckdb.connect(str(duck)) as source,
        connect(_config(postgres_server, postgres_database)) as target,
    ):
        for table in TABLES:
            target.write(table, source.sql(f"SELECT * FROM {table}").arrow())
        target.execute("CREATE VIEW slow_customers AS SELECT c.* FROM customer_360 c, pg_sleep(60)")
    duck.unlink()
    monkeypatch.setenv(PASSWORD_ENV, postgres_server.password)
    text = console_project.config_file.read_text()
    pointed = text.replace(
        "  connection: warehouse.duckdb   # a DuckDB file next to this one\n",
        f"  connection: {postgres_server.url(postgres_database)}\n"
        f"  password: {{env: {PASSWORD_ENV}}}\n",
    )
    assert pointed != text
    console_project.config_file.write_text(pointed)
    return console_project


@pytest.fixture
def pg_client(on_postgres: ConsoleProject) -> Iterator[TestClient]:
    app = create_app(on_postgres.root, client_settings=FAST)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def test_the_console_runs_on_a_postgresql_warehouse(
    pg_client: TestClient, on_postgres: ConsoleProject
) -> None:
    seed_list(on_postgres.emulator)
    token = log_in(pg_client, "mia")
    assert "north_america" in pg_client.get("/segments").text
    assert 'data-size="20"' in pg_client.get("/segments/members/size").text
    assert 'data-size="16"' in pg_client.get("/segments/north_america/size").text
    # The builder's live size: two or more orders (10 of 20), and NOT gold (4 of those 10).
    page = pg_client.get("/segments/new").text
    base = re.search(r'name="base" value="([^"]*)"', page)
    assert base
    form = {
        "csrf": token, "base": base[1], "original": "", "name": "loyal", "top": "all",
        "g0.join": "all", "g0.c0.kind": "aggregate", "g0.c0.table": "orders",
        "g0.c0.function": "count", "g0.c0.op": "gte", "g0.c0.value": "2",
        "g1.join": "all", "g1.not": "1", "g1.c0.column": "tier", "g1.c0.op": "eq",
        "g1.c0.value": "gold",
    }  # fmt: skip
    assert 'data-size="6"' in pg_client.post("/segments/builder/size", data=form).text
    reach = pg_client.post("/segments/builder/size?reach=1", data=form).text
    assert 'data-email="6"' in reach
    # The campaign's preview, PII masked, and its plan as a job.
    preview = pg_client.get("/campaigns/spring/preview").text
    assert "Sample rows (PII masked)" in preview
    assert not re.search(r"person\d+@example\.com", preview)
    started = pg_client.post("/campaigns/spring/plan", data={"csrf": token},
                             follow_redirects=False)  # fmt: skip
    assert started.status_code == 303
    job = started.headers["location"]
    status: dict[str, str] = {}

    def finished() -> bool:
        found = re.search(r'data-status="(\w+)"', pg_client.get(f"{job}?part=status").text)
        status["now"] = found[1] if found else ""
        return status["now"] != "running"

    _wait_until(finished, "the plan job", timeout=120)
    text = pg_client.get(job).text
    assert status["now"] == "done", text
    assert "Plan (compared with" in text


def test_a_newer_count_cancels_the_older_one_in_the_postgresql_server(
    postgres_server: PostgresServer, postgres_database: str
) -> None:
    config = _config(postgres_server, postgres_database)
    live = LiveQueries()
    outcome: dict[str, str] = {}

    def older() -> None:
        with connect(config) as warehouse, live.running("session:size", warehouse):
            try:
                warehouse.query("SELECT pg_sleep(60) AS slept")
            except WarehouseError as exc:
                outcome["stopped"] = str(exc)

    thread = threading.Thread(target=older)
    thread.start()
    _wait_until(lambda: _active(postgres_server, postgres_database, "pg_sleep(60)"),
                "the slow count to run")  # fmt: skip
    with connect(config) as newer, live.running("session:size", newer):
        assert newer.query("SELECT 42 AS n").column(0)[0].as_py() == 42
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert "canceling statement due to user request" in outcome["stopped"]
    assert not _active(postgres_server, postgres_database, "pg_sleep(60)")
    # An idle warehouse ignores the cancel, and keeps working.
    with connect(config) as idle:
        idle.interrupt()  # type: ignore[attr-defined]
        assert idle.query("SELECT 7 AS n").column(0)[0].as_py() == 7


def test_a_slow_size_superseded_by_a_newer_edit_stops_in_the_server(
    pg_client: TestClient, postgres_server: PostgresServer, postgres_database: str
) -> None:
    token = log_in(pg_client, "mia")
    database = postgres_database
    answers: dict[str, Any] = {}

    def slow_edit() -> None:
        answers["slow"] = pg_client.post("/segments/sql/size", data={"csrf": token, "sql": SLOW})

    thread = threading.Thread(target=slow_edit)
    thread.start()
    _wait_until(lambda: _active(postgres_server, database, "slow_customers"),
                "the slow size to run")  # fmt: skip
    # The person types on: the newer size is counted, and the older one stops in PostgreSQL.
    newer = pg_client.post(
        "/segments/sql/size",
        data={"csrf": token, "sql": "SELECT customer_id FROM customer_360 WHERE country = 'CA'"},
    )
    assert 'data-size="4"' in newer.text
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert "canceling statement due to user request" in answers["slow"].text
    assert not _active(postgres_server, database, "slow_customers")
