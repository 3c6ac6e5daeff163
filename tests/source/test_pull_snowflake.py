"""``pull`` into a Snowflake warehouse (fakesnow on loopback): the same tables, merges and views
as on DuckDB, loaded with PUT and COPY INTO."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from listrak_sync.warehouse import parse
from listrak_sync.warehouse.snowflake import SnowflakeConfig
from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator

from ..snowflake_server import SnowflakeServer
from .conftest import SourceProject, email_source, seed_email, seed_sms, sms_source
from .test_sms_pull import stored

TABLE = "listrak_news_contacts"


@pytest.fixture
def project(tmp_path: Path, emulator: Emulator, snowflake_server: SnowflakeServer) -> SourceProject:
    url = snowflake_server.url(snowflake_server.create_database())
    target = parse(url)
    assert isinstance(target, SnowflakeConfig)
    env = {
        "TEST_EMAIL_SECRET": EMAIL_CLIENT[1],
        "TEST_SMS_SECRET": SMS_CLIENT[1],
        "TEST_SF_PASSWORD": snowflake_server.password,
    }
    return SourceProject(
        tmp_path,
        emulator,
        env,
        warehouse={"connection": url, "password": {"env": "TEST_SF_PASSWORD"}},
        target=target.with_password(SecretStr(snowflake_server.password)),
    )


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
