"""``listrak-sync plan / sync / runs``: output, JSON and exit codes (Typer's runner, in-process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.state import StateStore
from listrak_sync.sync import Workspace
from tests.conftest import EMAIL_CLIENT
from tests.sync.helpers import CLI, FAST, SECRET_ENV, Person, SyncProject, people, seed_list

runner = CliRunner()


def _run(project: SyncProject, *args: str, columns: int = 200) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [*args, "-p", str(project.root)],
        env={
            SECRET_ENV: EMAIL_CLIENT[1],
            "LISTRAK_SYNC_CLIENT_SETTINGS": json.dumps(FAST),
            "COLUMNS": str(columns),
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
    assert "not a valid email address (value 'b***')" in shown  # PII masked
    assert "bad-address" not in shown
    assert "subscribed 3" in shown  # the import's summary
    code, revealed = _run(project, "runs", run_id, "--show-pii")
    assert "not a valid email address (value 'bad-address')" in revealed

    code, raw = _run(project, "runs", run_id, "--json")
    document = json.loads(raw)
    assert document["steps"][0]["status"] == "done"
    assert document["outcome_counts"] == {"invalid_key": 1}

    code, exported = _run(project, "runs", run_id, "--export-outcomes", "sync_outcomes")
    assert code == 0, exported
    with duckdb.connect(str(project.root / "warehouse.duckdb")) as con:
        rows = con.execute("SELECT run_id, key, outcome FROM sync_outcomes").fetchall()
    assert rows == [(run_id, "customer_id=C800001", "invalid_key")]


def test_plan_and_runs_mask_emails_unless_asked(project: SyncProject) -> None:
    seed_list(project.emulator, banned=["person2@example.com"])
    project.set_people(people(3))
    code, planned = _run(project, "plan", "spring")
    assert code == 0, planned
    assert "p***@e***.com" in planned
    assert "@example.com" not in planned
    code, planned = _run(project, "plan", "spring", "--show-pii")
    assert "person1@example.com" in planned

    code, synced = _run(project, "sync", "spring")
    assert code == 0, synced  # the banned address is declined for good: a warning
    assert "@example.com" not in synced
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        run_id = store.runs()[0].run_id
    code, shown = _run(project, "runs", run_id)
    assert "p***@e***.com" in shown
    assert "@example.com" not in shown
    code, shown = _run(project, "runs", run_id, "--show-pii")
    assert "person2@example.com" in shown


def test_run_ids_stay_whole_in_a_narrow_terminal(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(2))
    assert _run(project, "sync", "spring")[0] == 0
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        run = store.runs()[0]
        (step,) = store.steps(run.run_id)
    # A real process: the CLI's consoles take their width from COLUMNS when they are created.
    for columns in (80, 50):
        env = {**project.cli_env(), "COLUMNS": str(columns)}
        listed = subprocess.run(
            [CLI, "runs", "-p", str(project.root)], env=env, capture_output=True, text=True
        )
        assert listed.returncode == 0, listed.stderr
        assert run.run_id in listed.stdout
        assert "spring/newsletter" in listed.stdout
        shown = subprocess.run(
            [CLI, "runs", run.run_id, "-p", str(project.root)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert shown.returncode == 0, shown.stderr
        assert str(step.external_id) in shown.stdout
        assert step.step_id in shown.stdout


def test_runs_refuses_a_negative_outcome_count(project: SyncProject) -> None:
    code, out = _run(project, "runs", "x", "--outcomes", "-1")
    assert code == 2
    assert "--outcomes" in out


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
    assert code == 2  # a usage error: the command line named a destination that is not there
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


def test_ctrl_c_during_sync_exits_130_and_says_how_to_resume(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(3))
    # Slow import status answers: the run is waiting on Listrak, its event loop running, when
    # the user presses Ctrl-C (one SIGINT, as a terminal sends).
    project.emulator.admin.add_fault(path="/Status$", latency_ms=2000)
    process = subprocess.Popen(
        [CLI, "sync", project.campaign, "-p", str(project.root)],
        env=project.cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    while not any("Status" in name for name in project.emulator.admin.requests()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "sync never polled its import"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    project.emulator.admin.clear_faults()
    assert process.returncode == 130, stderr
    assert "interrupted; run `sync` again to resume" in stderr
    assert "Traceback" not in stderr
    # And it does resume: the next sync finishes the interrupted run first.
    done = project.cli("sync", project.campaign)
    assert done.returncode == 0, done.stderr
    assert "finished interrupted run" in done.stdout


def test_a_duckdb_sync_loads_only_what_it_uses(project: SyncProject) -> None:
    # A fresh interpreter, as the command line starts: a DuckDB sync never loads Spark (nor
    # the pandas it brings), pyarrow's Acero engine (Table.group_by) or the puller.
    seed_list(project.emulator)
    project.set_people(people(5))
    probe = (
        "import contextlib, json, sys\n"
        "from listrak_sync.cli import app\n"
        "with contextlib.redirect_stdout(sys.stderr):\n"
        "    try:\n"
        f"        app(['sync', 'spring', '-p', {str(project.root)!r}])\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code in (0, None), exit.code\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {
        **os.environ,
        SECRET_ENV: EMAIL_CLIENT[1],
        "LISTRAK_SYNC_CLIENT_SETTINGS": json.dumps(FAST),
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    imported = set(json.loads(done.stdout.splitlines()[-1]))
    assert "duckdb" in imported  # the sync did run
    assert not imported & {"pyspark", "pyarrow.acero", "pyarrow.dataset"}
    # An email audience has no phones to normalise (audiences/keys.py imports it on first use).
    assert "phonenumbers" not in imported
    assert "listrak_sync.source.pull" not in imported

    # The run record holds each phase's CPU seconds and the peak RSS at its end.
    code, out = _run(project, "runs", "--json")
    assert code == 0, out
    run_id = json.loads(out)[0]["run_id"]
    code, out = _run(project, "runs", run_id, "--json")
    details = json.loads(out)["details"]
    assert set(details["cpu_seconds"]) == set(details["timings"])
    assert details["peak_rss_mb"]["commit"] >= details["peak_rss_mb"]["prepare"] > 0
