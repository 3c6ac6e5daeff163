"""The email sync with its state in PostgreSQL: two working directories never sync the same list
at once (an advisory lock that goes with the holder's connection); validate finds the state
store's problems. Killed runs finished from another working directory, and the audit table, on
every state backend: test_state_in_warehouse.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.postgres_server import PostgresServer
from tests.sync.helpers import SyncProject, paused_sync, people, seed_list
from tests.sync.state_in_postgres import (
    PASSWORD_ENV,
    other_working_dir,
    use_postgres_state,
)


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
