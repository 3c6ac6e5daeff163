"""``pull`` into a server warehouse, over each engine (PostgreSQL written with COPY, Snowflake on
fakesnow loaded with PUT and COPY INTO): the same tables, merges and views as on DuckDB
(test_email_pull.py, test_sms_pull.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator

from ..server_engines import SERVER_ENGINES, EngineDatabase, engine_database
from .conftest import SourceProject, email_source, seed_email, seed_sms, sms_source
from .test_sms_pull import stored

TABLE = "listrak_news_contacts"
PASSWORD_ENV = "TEST_WH_PASSWORD"


def server_project(tmp_path: Path, emulator: Emulator, database: EngineDatabase) -> SourceProject:
    env = {
        "TEST_EMAIL_SECRET": EMAIL_CLIENT[1],
        "TEST_SMS_SECRET": SMS_CLIENT[1],
        PASSWORD_ENV: database.password,
    }
    return SourceProject(
        tmp_path,
        emulator,
        env,
        warehouse={"connection": database.url, "password": {"env": PASSWORD_ENV}},
        target=database.config(),
    )


@pytest.fixture(params=SERVER_ENGINES)
def project(request: pytest.FixtureRequest, tmp_path: Path, emulator: Emulator) -> SourceProject:
    return server_project(tmp_path, emulator, engine_database(request, request.param))


def test_email_pull_full_then_incremental(project: SourceProject) -> None:
    seed_email(project.emulator, 500)
    project.write({"news": email_source(fields=[101, 103])})
    first = project.pull()
    assert first.exit_code == 0, first.output
    states = project.query(
        f"SELECT subscription_state, count(*) AS n FROM {TABLE} GROUP BY 1 ORDER BY 1"
    )
    assert states == [("Subscribed", 450), ("Unsubscribed", 50)]
    assert project.query(
        f"SELECT first_name FROM {TABLE} WHERE email_lower = 'person00002@example.com'"
    ) == [("First2",)]

    again = project.pull()  # incremental: merged by key, nothing duplicated
    assert again.exit_code == 0, again.output
    assert project.runs("news")[0].details["full"] is False
    assert project.query(f"SELECT count(*) AS n FROM {TABLE}") == [(500,)]


def test_sms_pull_builds_the_opt_status_view(project: SourceProject) -> None:
    seed_sms(project.emulator, 200)
    project.write({"sms": sms_source(field_names={71: "tier"})})
    result = project.pull()
    assert result.exit_code == 0, result.output
    assert project.query("SELECT count(*) AS n FROM listrak_sms_opt_outs") == [(200 // 7,)]
    status = dict(
        project.query(
            "SELECT phone, status FROM listrak_sms_opt_status"
            f" WHERE phone IN ('{stored(1)}', '{stored(7)}')"
        )
    )
    assert status == {stored(1): "opted_in", stored(7): "opted_out"}
    # Every phone has a date its status was last seen or changed (the consent rule needs it).
    assert project.query(
        "SELECT count(*) AS n FROM listrak_sms_opt_status WHERE updated_at IS NULL"
    ) == [(0,)]


def test_with_state_in_postgres_a_pull_needs_no_state_folder(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``state: {store: warehouse}``: runs, incremental cursors and the identify snapshot are
    in the warehouse, so a pull on a runner without ``.listrak-sync/`` reads only changes."""
    project = server_project(tmp_path, emulator, engine_database(request, "postgres"))
    monkeypatch.setenv(PASSWORD_ENV, project.env[PASSWORD_ENV])  # for runs()
    project.state = {"store": "warehouse", "schema": "pull_state"}
    seed_email(project.emulator, 300)
    events = {"sink": {"type": "jsonl", "path": "events/news.jsonl"}, "user_id_field": 103}
    project.write({"news": email_source(fields=[101], events=events)})
    first = project.pull()
    assert first.exit_code == 0, first.output
    assert project.runs("news")[0].details["full"] is True
    shutil.rmtree(project.root / ".listrak-sync")

    again = project.pull()

    assert again.exit_code == 0, again.output
    run = project.runs("news")[0]
    assert run.details["full"] is False  # the cursor came from the warehouse
    assert run.details["since"]
    # The identify snapshot too: only the contact the inclusive cursor reads again is compared,
    # and it has not changed, so nobody is identified twice.
    assert run.counts.get("identify_events", 0) == 0
    assert [r.status for r in project.runs("news")] == ["succeeded", "succeeded"]
    assert project.query(f"SELECT count(*) AS n FROM {TABLE}") == [(300,)]
