"""The SMS sync with its state in a server warehouse (PostgreSQL, and Snowflake on fakesnow):
killed at a point and finished by the next ``sync`` from another working directory
(``.listrak-sync/`` gone), as an uninterrupted run would end; an import whose id was journaled
is polled, not sent again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server_engines import EngineDatabase, engine_database
from tests.sync.state_in_postgres import (
    PASSWORD_ENV,
    SCHEMA,
    other_working_dir,
    records,
    use_state,
)

from .conftest import SmsProject
from .test_resume import _imports, _kill_at, _people, _seed, finish_killed_run

POINTS = [
    "planned",
    "halfway:add-0001",
    "submitted:add-0001",
    "journaled:update-0001",
    "done:unsubscribe-0001",
    "before_commit",
    "committed",
]
QUICK = {("postgres", "halfway:add-0001"), ("postgres", "journaled:update-0001")}
# Snowflake keeps the same journal through another driver: one point where an import was sent
# and its id journaled is enough to show it (the points themselves are the sync's, not the
# backend's). About 30 s on fakesnow, so with -m slow; the email sync's Snowflake kill test
# (tests/sync/email/test_state_in_warehouse.py) runs by default.
KILLS = [
    *(("postgres", point) for point in POINTS),
    ("snowflake", "journaled:update-0001"),
]


@pytest.fixture
def database(request: pytest.FixtureRequest) -> EngineDatabase:
    return engine_database(request, request.param)


@pytest.mark.parametrize(
    ("database", "point"),
    [kill if kill in QUICK else pytest.param(*kill, marks=pytest.mark.slow) for kill in KILLS],
    indirect=["database"],
)
def test_sms_sync_killed_is_finished_from_another_working_directory(
    sms_project: SmsProject,
    database: EngineDatabase,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    point: str,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, database.password)
    sms_project.destination = {"removal_guard": 0.5}
    sms_project.write_config()
    use_state(sms_project.root, database)
    _seed(sms_project)
    sms_project.people(_people(changed=False))
    assert sms_project.sync().status == "succeeded"
    imports_before = len(_imports(sms_project))
    sms_project.people(_people(changed=True))

    _kill_at(sms_project, point)
    elsewhere = other_working_dir(sms_project.root, tmp_path / "elsewhere")
    assert not (elsewhere / ".listrak-sync").exists()
    unit = finish_killed_run(sms_project, elsewhere, point, imports_before)
    killed = unit["resumed"][0]["run_id"]
    audited = records(
        database,
        f"SELECT action, count(*) AS n FROM \"{SCHEMA}\".audit_sms WHERE run_id = '{killed}' "
        "GROUP BY action ORDER BY action",
    )
    assert {r["action"]: r["n"] for r in audited} == {"add": 30, "unsubscribe": 10, "update": 5}
