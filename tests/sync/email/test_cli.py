"""``listrak-sync plan / sync / runs``: output, JSON and exit codes (Typer's runner, in-process)."""

from __future__ import annotations

import json
import os

import duckdb
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.state import StateStore
from listrak_sync.sync import Workspace
from tests.conftest import EMAIL_CLIENT
from tests.sync.helpers import FAST, SECRET_ENV, Person, SyncProject, people, seed_list

runner = CliRunner()


def _run(project: SyncProject, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [*args, "-p", str(project.root)],
        env={
            SECRET_ENV: EMAIL_CLIENT[1],
            "LISTRAK_SYNC_CLIENT_SETTINGS": json.dumps(FAST),
            "COLUMNS": "200",
        },
    )
    return result.exit_code, result.output


def test_plan_sync_and_runs(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people([*people(3), Person("C800001", "bad-address", "Bad")])

    code, planned = _run(project, "plan", "spring")
    assert code == 0, planned
    assert "would create CheckBox field 'spring'" in planned
    assert "add-0001" in planned
    assert "invalid_key 1" in planned

    code, synced = _run(project, "sync", "spring")
    assert code == 0, synced
    assert "created CheckBox field 'spring'" in synced
    assert "Subscribed 3" in synced

    code, listed = _run(project, "runs")
    assert code == 0
    assert "spring/newsletter" in listed
    assert "succeeded" in listed

    with StateStore(Workspace.in_project(project.root).state_path) as store:
        run_id = store.runs()[0].run_id
    code, shown = _run(project, "runs", run_id)
    assert code == 0
    assert "customer_id=C800001" in shown
    assert "not a valid email address (value 'bad-address')" in shown
    assert "subscribed 3" in shown  # the import's summary

    code, raw = _run(project, "runs", run_id, "--json")
    document = json.loads(raw)
    assert document["steps"][0]["status"] == "done"
    assert document["outcome_counts"] == {"invalid_key": 1}

    code, exported = _run(project, "runs", run_id, "--export-outcomes", "sync_outcomes")
    assert code == 0, exported
    with duckdb.connect(str(project.root / "warehouse.duckdb")) as con:
        rows = con.execute("SELECT run_id, key, outcome FROM sync_outcomes").fetchall()
    assert rows == [(run_id, "customer_id=C800001", "invalid_key")]


def test_sync_json_and_exit_codes(project: SyncProject) -> None:
    seed_list(project.emulator, banned=["person3@example.com"])
    project.set_people(people(10))

    code, out = _run(project, "sync", "spring", "--json")
    assert code == 0  # one banned address: declined for good, a warning
    document = json.loads(out)
    assert document["exit_code"] == 0
    assert document["units"][0]["run"]["counts"]["declined"] == 1
    assert any("banned (email) 1" in w for w in document["units"][0]["warnings"])

    project.set_people(people(6))
    code, out = _run(project, "sync", "spring")
    assert code == 4, out  # removal guard: 4 of 9 members
    assert "--allow-large-removal" in out

    with StateStore(Workspace.in_project(project.root).state_path) as store:
        store.acquire_lock("sync:spring/newsletter", "another process")
        code, out = _run(project, "sync", "spring", "--allow-large-removal")
        assert code == 5, out
        assert "locked" in out
        store.release_lock("sync:spring/newsletter", "another process")

    code, out = _run(project, "sync", "spring", "--allow-large-removal")
    assert code == 0, out  # the banned address is not sent again


def test_unknown_campaign_and_destination_are_errors(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(2))

    code, out = _run(project, "sync", "sprng")
    assert code == 1
    assert "no campaign named 'sprng'" in out
    assert "did you mean 'spring'?" in out

    code, out = _run(project, "sync", "spring", "-d", "sms")
    assert code == 1
    assert "does not send to sms" in out


def test_runs_without_state(project: SyncProject) -> None:
    code, out = _run(project, "runs")
    assert code == 0
    assert "no runs yet" in out
    assert not os.path.exists(Workspace.in_project(project.root).state_path)


def test_a_failed_run_is_resumed_or_abandoned(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(4))
    # Listrak refuses every status poll: the run fails after sending its import.
    project.emulator.admin.add_fault(path="/Status$", error_rate=1.0, error_status=500)
    code, out = _run(project, "sync", "spring")
    project.emulator.admin.clear_faults()
    assert code == 1, out
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        failed = store.runs()[0]
    assert failed.status == "failed"
    assert failed.details["resumable"] is True

    code, out = _run(project, "runs", failed.run_id, "--abandon")
    assert code == 0, out
    code, out = _run(project, "sync", "spring", "--json")
    assert code == 0, out
    document = json.loads(out)
    assert document["units"][0]["resumed"] == []
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        assert store.run(failed.run_id).status == "interrupted"
