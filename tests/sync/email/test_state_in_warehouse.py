"""The email sync with its state in a server warehouse, over each state backend (PostgreSQL,
Snowflake on fakesnow): killed at a point and finished by the next ``sync`` from another
working directory (``.listrak-sync/`` gone), exactly once; deleting ``.listrak-sync/`` between
runs changes nothing. The same journal and bookkeeping on both; the lock is an advisory lock on
PostgreSQL and a lease row on Snowflake (test_state_in_postgres.py has PostgreSQL's lock and
validate tests)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.server_engines import EngineDatabase, engine_database
from tests.sync.helpers import SyncProject, flags, list_state, people, seed_list
from tests.sync.state_in_postgres import (
    PASSWORD_ENV,
    SCHEMA,
    other_working_dir,
    records,
    store,
    use_state,
)

from .test_resume import SMALL_FILES, _changed_audience, _expected_flags

# Where a run is killed, per backend: the quick points run by default, the rest with -m slow.
POSTGRES_POINTS = [
    "planned",
    "before_step:add-0001",
    "submitted:add-0001",
    "journaled:update-0001",
    "done:add-0002",
    "before_commit",
    "committed",
]
QUICK = {
    ("postgres", "submitted:add-0001"),
    ("postgres", "journaled:update-0001"),
    ("postgres", "committed"),
    ("snowflake", "submitted:add-0001"),
}
KILLS = [
    *(("postgres", point) for point in POSTGRES_POINTS),
    ("snowflake", "submitted:add-0001"),
    ("snowflake", "before_commit"),
]


@pytest.fixture(params=["postgres", "snowflake"])
def database(request: pytest.FixtureRequest) -> EngineDatabase:
    return engine_database(request, request.param)


@pytest.fixture
def shared(
    project: SyncProject, database: EngineDatabase, monkeypatch: pytest.MonkeyPatch
) -> SyncProject:
    monkeypatch.setenv(PASSWORD_ENV, database.password)
    use_state(project.root, database)
    return project


@pytest.mark.parametrize(
    ("database", "point"),
    [kill if kill in QUICK else pytest.param(*kill, marks=pytest.mark.slow) for kill in KILLS],
    indirect=["database"],
)
def test_killed_sync_is_finished_from_another_working_directory(
    shared: SyncProject, database: EngineDatabase, tmp_path: Path, point: str
) -> None:
    seed_list(shared.emulator)
    shared.set_people(people(12))
    assert shared.sync(client=SMALL_FILES).status == "succeeded"
    shared.set_people(_changed_audience())
    shared.write_config(removal_guard=0.5)
    use_state(shared.root, database)

    shared.kill_at(point, client=SMALL_FILES)
    with store(shared.root) as state:
        killed = state.runs("sync", "spring/newsletter")[0].run_id
    sent_before = Counter(str(i["importFileName"]) for i in list_state(shared.emulator)["imports"])
    # Another host: the same project elsewhere, no .listrak-sync/ at all.
    elsewhere = SyncProject(other_working_dir(shared.root, tmp_path / "elsewhere"), shared.emulator)
    assert not (elsewhere.root / ".listrak-sync").exists()

    finished = elsewhere.cli("sync", "spring", "--json", client=SMALL_FILES)

    assert finished.returncode == 0, finished.stderr
    unit = json.loads(finished.stdout)["units"][0]
    assert unit["status"] == "succeeded"
    assert [r["run_id"] for r in unit["resumed"]] == [killed]
    assert unit["plan"]["steps"] == []
    assert flags(shared.emulator) == _expected_flags()
    contacts = list_state(shared.emulator)["contacts"]
    assert contacts["person4@example.com"]["segmentationFieldValues"]["City"] == "Denver"
    names = Counter(
        str(i["importFileName"])
        for i in list_state(shared.emulator)["imports"]
        if killed in str(i["importFileName"])
    )
    assert set(names.values()) == {1}  # each file sent once, killed or not
    assert {k: v for k, v in sent_before.items() if killed in k}.items() <= names.items()
    with store(elsewhere.root) as state:
        steps = state.steps(killed)
        run = state.run(killed)
    assert len(names) == len(steps)
    assert all(s.status == "done" for s in steps)
    assert (run.counts["enter"], run.counts["leave"], run.counts["change"]) == (8, 3, 2)
    # The finished run's files are gone from the warehouse; its changes are audited once.
    assert records(database, f'SELECT * FROM "{SCHEMA}".run_files') == []
    audited = records(
        database,
        f'SELECT key, change, action, outcome FROM "{SCHEMA}".audit_newsletter '
        f"WHERE run_id = '{killed}'",
    )
    assert len(audited) == 13
    assert Counter(r["change"] for r in audited) == {"enter": 8, "leave": 3, "change": 2}
    assert {(r["key"], r["action"]) for r in audited if r["key"] == "person1@example.com"} == {
        ("person1@example.com", "flag_off")
    }


def test_deleting_the_state_folder_between_runs_changes_nothing(
    shared: SyncProject, database: EngineDatabase
) -> None:
    seed_list(shared.emulator)
    shared.set_people(people(5))
    assert shared.sync().status == "succeeded"
    tables = records(
        database,
        f"SELECT table_name FROM information_schema.tables WHERE lower(table_schema) = '{SCHEMA}'",
    )
    assert {str(r["table_name"]).lower() for r in tables} == {
        "runs",
        "steps",
        "row_outcomes",
        "checkpoints",
        "locks",
        "run_files",
        "schema_version",
        "snapshot_spring__newsletter",
        "audit_newsletter",
    }
    shutil.rmtree(shared.root / ".listrak-sync")
    shared.set_people(people(6))

    again = shared.sync()

    assert again.status == "succeeded"
    assert again.compared_with == "snapshot"
    assert again.plan is not None
    assert (again.plan.counts["enter"], again.plan.counts["same"]) == (1, 5)
