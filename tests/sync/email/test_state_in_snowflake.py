"""The email sync with its state in Snowflake (fakesnow): killed, and finished by the next
``sync`` from another working directory (``.listrak-sync/`` gone), exactly once; deleting
``.listrak-sync/`` between runs changes nothing. The same journal and bookkeeping as with
PostgreSQL (test_state_in_postgres.py); the lock is a lease row instead of an advisory lock."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.snowflake_server import SnowflakeServer
from tests.sync.helpers import SyncProject, flags, list_state, people, seed_list
from tests.sync.state_in_postgres import (
    PASSWORD_ENV,
    SCHEMA,
    other_working_dir,
    snowflake_rows,
    store,
    use_snowflake_state,
)

from .test_resume import SMALL_FILES, _changed_audience, _expected_flags


@pytest.fixture
def database(snowflake_server: SnowflakeServer) -> str:
    return snowflake_server.create_database()


@pytest.fixture
def shared(
    project: SyncProject,
    snowflake_server: SnowflakeServer,
    database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> SyncProject:
    monkeypatch.setenv(PASSWORD_ENV, snowflake_server.password)
    use_snowflake_state(project.root, snowflake_server, database)
    return project


@pytest.mark.parametrize(
    "point", ["submitted:add-0001", pytest.param("before_commit", marks=pytest.mark.slow)]
)
def test_killed_sync_is_finished_from_another_working_directory(
    shared: SyncProject,
    snowflake_server: SnowflakeServer,
    database: str,
    tmp_path: Path,
    point: str,
) -> None:
    seed_list(shared.emulator)
    shared.set_people(people(12))
    assert shared.sync(client=SMALL_FILES).status == "succeeded"
    shared.set_people(_changed_audience())
    shared.write_config(removal_guard=0.5)
    use_snowflake_state(shared.root, snowflake_server, database)

    shared.kill_at(point, client=SMALL_FILES)
    with store(shared.root) as state:
        killed = state.runs("sync", "spring/newsletter")[0].run_id
    elsewhere = SyncProject(other_working_dir(shared.root, tmp_path / "elsewhere"), shared.emulator)
    assert not (elsewhere.root / ".listrak-sync").exists()

    finished = elsewhere.cli("sync", "spring", "--json", client=SMALL_FILES)

    assert finished.returncode == 0, finished.stderr
    unit = json.loads(finished.stdout)["units"][0]
    assert unit["status"] == "succeeded"
    assert [r["run_id"] for r in unit["resumed"]] == [killed]
    assert flags(shared.emulator) == _expected_flags()
    names = Counter(
        str(i["importFileName"])
        for i in list_state(shared.emulator)["imports"]
        if killed in str(i["importFileName"])
    )
    assert set(names.values()) == {1}  # each file sent once, killed or not
    with store(elsewhere.root) as state:
        steps = state.steps(killed)
        run = state.run(killed)
    assert len(names) == len(steps)
    assert all(s.status == "done" for s in steps)
    assert (run.counts["enter"], run.counts["leave"], run.counts["change"]) == (8, 3, 2)
    assert snowflake_rows(snowflake_server, database, f'SELECT * FROM "{SCHEMA}".run_files') == []
    audited = snowflake_rows(
        snowflake_server,
        database,
        f"SELECT change FROM \"{SCHEMA}\".audit_newsletter WHERE run_id = '{killed}'",
    )
    assert Counter(r["change"] for r in audited) == {"enter": 8, "leave": 3, "change": 2}


def test_deleting_the_state_folder_between_runs_changes_nothing(shared: SyncProject) -> None:
    seed_list(shared.emulator)
    shared.set_people(people(5))
    assert shared.sync().status == "succeeded"
    shutil.rmtree(shared.root / ".listrak-sync")
    shared.set_people(people(6))

    again = shared.sync()

    assert again.status == "succeeded"
    assert again.compared_with == "snapshot"
    assert again.plan is not None
    assert (again.plan.counts["enter"], again.plan.counts["same"]) == (1, 5)
