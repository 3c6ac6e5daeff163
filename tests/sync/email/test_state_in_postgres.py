"""The email sync with its state in PostgreSQL: killed at any point and finished by the next
``sync`` from another working directory (``.listrak-sync/`` gone), exactly once; two working
directories never sync the same list at once; every member change lands in the audit table."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.postgres_server import PostgresServer
from tests.sync.helpers import SyncProject, flags, list_state, paused_sync, people, seed_list
from tests.sync.state_in_postgres import (
    PASSWORD_ENV,
    SCHEMA,
    other_working_dir,
    rows,
    state_tables,
    store,
    use_postgres_state,
)

from .test_resume import SMALL_FILES, _changed_audience, _expected_flags


@pytest.fixture
def shared(
    project: SyncProject,
    postgres_server: PostgresServer,
    postgres_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> SyncProject:
    monkeypatch.setenv(PASSWORD_ENV, postgres_server.password)
    use_postgres_state(project.root, postgres_server, postgres_database)
    return project


def _configure(
    project: SyncProject, server: PostgresServer, database: str, **values: object
) -> None:
    project.write_config(**values)
    use_postgres_state(project.root, server, database)


POINTS = [
    "planned",
    "before_step:add-0001",
    "submitted:add-0001",
    "journaled:update-0001",
    "done:add-0002",
    "before_commit",
    "committed",
]
QUICK = {"submitted:add-0001", "journaled:update-0001", "committed"}


@pytest.mark.parametrize(
    "point",
    [p if p in QUICK else pytest.param(p, marks=pytest.mark.slow) for p in POINTS],
)
def test_killed_sync_is_finished_from_another_working_directory(
    shared: SyncProject,
    postgres_server: PostgresServer,
    postgres_database: str,
    tmp_path: Path,
    point: str,
) -> None:
    seed_list(shared.emulator)
    shared.set_people(people(12))
    assert shared.sync(client=SMALL_FILES).status == "succeeded"
    shared.set_people(_changed_audience())
    _configure(shared, postgres_server, postgres_database, removal_guard=0.5)

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
    assert set(names.values()) == {1}
    assert {k: v for k, v in sent_before.items() if killed in k}.items() <= names.items()
    with store(elsewhere.root) as state:
        steps = state.steps(killed)
        run = state.run(killed)
    assert len(names) == len(steps)
    assert all(s.status == "done" for s in steps)
    assert (run.counts["enter"], run.counts["leave"], run.counts["change"]) == (8, 3, 2)
    # The finished run's files are gone from the warehouse; its changes are audited once.
    assert rows(postgres_server, postgres_database, f"SELECT * FROM {SCHEMA}.run_files") == []
    audited = rows(
        postgres_server,
        postgres_database,
        f"SELECT key, change, action, outcome FROM {SCHEMA}.audit_newsletter "
        f"WHERE run_id = '{killed}'",
    )
    assert len(audited) == 13
    assert Counter(change for _, change, _, _ in audited) == {"enter": 8, "leave": 3, "change": 2}
    assert {(key, action) for key, _, action, _ in audited if key == "person1@example.com"} == {
        ("person1@example.com", "flag_off")
    }


def test_deleting_the_state_folder_between_runs_changes_nothing(
    shared: SyncProject, postgres_server: PostgresServer, postgres_database: str
) -> None:
    seed_list(shared.emulator)
    shared.set_people(people(5))
    assert shared.sync().status == "succeeded"
    assert state_tables(postgres_server, postgres_database) == {
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
    assert again.plan.counts["enter"] == 1
    assert again.plan.counts["same"] == 5


def test_a_second_working_directory_is_refused_while_one_syncs(
    shared: SyncProject, tmp_path: Path
) -> None:
    seed_list(shared.emulator)
    shared.set_people(people(3))
    elsewhere = SyncProject(other_working_dir(shared.root, tmp_path / "elsewhere"), shared.emulator)

    with paused_sync(shared.root, ["spring"], "planned", shared.cli_env("planned")):
        refused = elsewhere.cli("sync", "spring")

    assert refused.returncode == 5, refused.stdout + refused.stderr
    output = " ".join((refused.stdout + refused.stderr).split())  # unwrapped
    assert "sync:spring/newsletter is in use by run" in output
    assert "it is still running, so this command did nothing" in output
    assert "The warehouse frees this lock when that run's connection ends." in output
    # The killed holder's session is gone: the lock went with it.
    finished = elsewhere.cli("sync", "spring")
    assert finished.returncode == 0, finished.stdout + finished.stderr


def test_validate_finds_state_problems_in_place(
    project: SyncProject,
    postgres_server: PostgresServer,
    postgres_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.set_people(people(1))
    config = project.root / "listrak-sync.yml"
    config.write_text(config.read_text() + "state:\n  store: warehouse\n")
    duckdb_only = project.cli("validate")
    assert duckdb_only.returncode == 1
    output = " ".join((duckdb_only.stdout + duckdb_only.stderr).split())
    assert re.search(r"listrak-sync\.yml:\d+:\d+: cannot open the state store: the duckdb", output)
    assert "set state.connection to a postgresql:// or snowflake:// URL" in output

    use_postgres_state(project.root, postgres_server, postgres_database)
    monkeypatch.setenv(PASSWORD_ENV, "not-the-state-password-5")
    wrong = project.cli("validate")
    assert wrong.returncode == 1
    output = " ".join((wrong.stdout + wrong.stderr).split())
    assert "password authentication failed" in output
    assert "not-the-state-password-5" not in output
    monkeypatch.setenv(PASSWORD_ENV, postgres_server.password)
    assert project.cli("validate").returncode == 0
