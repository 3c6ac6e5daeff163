"""``listrak-sync forget`` end to end: warehouse deletion requests, the emulated Privacy API, and
the suppression every later plan and sync applies."""

from __future__ import annotations

import stat
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from listrak_sync.api import ForgetReport, forget
from listrak_sync.project.loader import load_project
from listrak_sync.sync.workspace import Workspace
from tests.conftest import EMAIL_CLIENT, PRIVACY_CLIENT, Emulator
from tests.postgres_server import PostgresServer
from tests.sync.helpers import (
    CLI,
    FAST,
    SECRET_ENV,
    SyncProject,
    cli_env,
    list_state,
    people,
    seed_list,
)
from tests.sync.state_in_postgres import PASSWORD_ENV, other_working_dir, use_postgres_state

PRIVACY_SECRET_ENV = "LSYNC_TEST_PRIVACY_SECRET"


@pytest.fixture
def forgetting(project: SyncProject, monkeypatch: pytest.MonkeyPatch) -> SyncProject:
    """The email project with a ``forget:`` section, a privacy credential and requests table."""
    monkeypatch.setenv(PRIVACY_SECRET_ENV, PRIVACY_CLIENT[1])
    config_file = project.root / "listrak-sync.yml"
    config = yaml.safe_load(config_file.read_text())
    config["credentials"]["privacy"] = {
        "type": "listrak",
        "client_id": PRIVACY_CLIENT[0],
        "client_secret": {"env": PRIVACY_SECRET_ENV},
    }
    config["forget"] = {"credential": "privacy", "poll_interval": 0.05}
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    project.execute(
        "CREATE TABLE deletion_requests (email VARCHAR, phone VARCHAR, requested_at TIMESTAMP)"
    )
    project.emulator.admin.seed({"privacy": {"processingSeconds": 0.2}})
    seed_list(project.emulator)
    project.set_people(people(3))
    project.sync()
    assert set(list_state(project.emulator)["contacts"]) == {
        "person1@example.com",
        "person2@example.com",
        "person3@example.com",
    }
    return project


def _run(project: SyncProject, *, resend_unconfirmed: bool = False) -> ForgetReport:
    return forget(
        load_project(project.root),
        client_options=dict(FAST),
        resend_unconfirmed=resend_unconfirmed,
    )


def test_a_deletion_request_removes_the_contact_and_later_syncs_never_add_it_back(
    forgetting: SyncProject, emulator: Emulator
) -> None:
    forgetting.execute(
        "INSERT INTO deletion_requests VALUES "
        "('  Person2@Example.COM ', NULL, TIMESTAMP '2026-11-30 10:00:00'),"
        "('not an address', NULL, TIMESTAMP '2026-11-30 11:00:00'),"
        "(NULL, '12', TIMESTAMP '2026-11-30 12:00:00')"
    )
    report = _run(forgetting)
    assert report.counts["submitted"] == 1
    assert report.counts["complete"] == 1
    assert [str(p) for p in report.problems] == [
        "row 2, email: not a valid email address",
        "row 3, phone: not a valid number for its country",
    ]
    assert set(list_state(emulator)["contacts"]) == {"person1@example.com", "person3@example.com"}

    # The person is still in the audience table: the plan counts them, the sync skips them.
    plan = forgetting.plan()
    assert plan.audience["counts"]["forgotten"] == 1
    shown = forgetting.cli("plan", forgetting.campaign)
    assert shown.returncode == 0, shown.stderr
    assert "suppressed (forgotten) 1" in shown.stdout
    assert "person2" not in (shown.stdout + shown.stderr).lower()
    emulator.admin.clear_requests()
    forgetting.sync()
    assert set(list_state(emulator)["contacts"]) == {"person1@example.com", "person3@example.com"}

    # A second forget run sends nothing again.
    again = _run(forgetting)
    assert again.counts["already_complete"] == 1
    assert emulator.admin.requests().get("Forget_PostForgetRequest", 0) == 0

    # Only keyed hashes are kept; the salt is private to the owner.
    state = forgetting.root / ".listrak-sync"
    for path in state.rglob("*"):
        if path.is_file():
            assert b"person2" not in path.read_bytes().lower(), path
    assert stat.S_IMODE((state / "forget.salt").stat().st_mode) == 0o600


def test_an_answer_lost_after_listrak_applied_the_request_is_not_sent_twice(
    forgetting: SyncProject, emulator: Emulator
) -> None:
    forgetting.execute("INSERT INTO deletion_requests VALUES ('person3@example.com', NULL, NULL)")
    # Listrak receives and queues the request; the answer never reaches us (as if the process
    # died between Listrak's 201 and our journal write).
    emulator.admin.add_fault(
        method="POST", path="/privacy/v1/Forget$", drop_next=1, drop_after_apply=True
    )
    emulator.admin.clear_requests()
    first = _run(forgetting)
    assert first.counts["unconfirmed"] == 1
    assert not first.ok
    assert emulator.admin.requests()["Forget_PostForgetRequest"] == 1
    # Suppressed from the moment it was journaled, before Listrak confirmed anything.
    assert forgetting.plan().audience["counts"]["forgotten"] == 1

    second = _run(forgetting)
    assert second.counts["unconfirmed"] == 1
    assert emulator.admin.requests()["Forget_PostForgetRequest"] == 1

    # The operator checked and asks for it to be sent again: exactly once more.
    third = _run(forgetting, resend_unconfirmed=True)
    assert third.counts["complete"] == 1
    assert emulator.admin.requests()["Forget_PostForgetRequest"] == 2
    assert "person3@example.com" not in list_state(emulator)["contacts"]


def test_a_kill_between_submit_and_journal_does_not_duplicate_the_request(
    forgetting: SyncProject, emulator: Emulator
) -> None:
    forgetting.execute("INSERT INTO deletion_requests VALUES ('person1@example.com', NULL, NULL)")
    emulator.admin.clear_requests()
    signal_file = forgetting.root / "paused"
    env = cli_env(forgetting.root, SECRET_ENV, EMAIL_CLIENT[1], "forget_submitted")
    process = subprocess.Popen(
        [CLI, "forget", "-p", str(forgetting.root)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while not signal_file.exists():
            assert process.poll() is None, "forget ended before Listrak accepted the request"
            assert time.monotonic() < deadline, "forget never reached forget_submitted"
            time.sleep(0.02)
    finally:
        process.kill()  # SIGKILL: Listrak has the request, our journal does not know its id
        process.wait(timeout=30)
    assert process.returncode == -9
    assert emulator.admin.requests()["Forget_PostForgetRequest"] == 1

    rerun = forgetting.cli("forget")
    assert rerun.returncode == 1
    assert "1 unconfirmed" in rerun.stdout
    assert "--resend-unconfirmed" in rerun.stderr
    assert "person1" not in rerun.stdout + rerun.stderr
    assert emulator.admin.requests()["Forget_PostForgetRequest"] == 1
    with Workspace.in_project(forgetting.root).store() as store:
        assert store.unfinished_run("forget", "forget") is None
        assert [run.status for run in store.runs(kind="forget")] == ["partial", "interrupted"]
    # Suppressed all the same: the next sync leaves Listrak alone for that person.
    assert forgetting.plan().audience["counts"]["forgotten"] == 1


def test_a_transient_refusal_leaves_the_request_for_the_next_run(
    forgetting: SyncProject, emulator: Emulator
) -> None:
    forgetting.execute("INSERT INTO deletion_requests VALUES ('person1@example.com', NULL, NULL)")
    # A paused integration is refused with 401 (transient: it may be resumed).
    emulator.admin.set_client(PRIVACY_CLIENT[0], paused=True)
    first = _run(forgetting)
    assert first.counts["pending"] == 1
    assert "not accepted yet (401" in first.failures[0]
    emulator.admin.set_client(PRIVACY_CLIENT[0], paused=False)
    second = _run(forgetting)
    assert second.counts["complete"] == 1


def test_without_a_forget_section_the_command_says_so(project: SyncProject) -> None:
    result = project.cli("forget")
    assert result.returncode == 1
    assert "no `forget:` section" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_names_an_unknown_forget_credential(project: SyncProject) -> None:
    config_file = project.root / "listrak-sync.yml"
    config = yaml.safe_load(config_file.read_text())
    config["forget"] = {"credential": "privcy"}
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    result = project.cli("validate")
    assert result.returncode == 1
    assert "privcy" in result.stderr
    assert "listrak-sync.yml:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_schedule_forgets_first_then_syncs_without_the_forgotten(
    forgetting: SyncProject, emulator: Emulator
) -> None:
    config_file = forgetting.root / "listrak-sync.yml"
    config = yaml.safe_load(config_file.read_text())
    config["schedules"] = {
        "nightly": {"every": "1d", "forget": True, "campaigns": [forgetting.campaign]}
    }
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    forgetting.execute(
        "INSERT INTO deletion_requests VALUES "
        "('person3@example.com', NULL, TIMESTAMP '2026-11-30 10:00:00')"
    )
    forgetting.set_people(people(4))  # person 4 enters; person 3 is still in the audience

    env = {**forgetting.cli_env(), PRIVACY_SECRET_ENV: PRIVACY_CLIENT[1]}
    done = subprocess.run(
        [CLI, "schedules", "trigger", "nightly", "-p", str(forgetting.root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.index("forget deletion requests: succeeded") < done.stdout.index("sync")
    assert set(list_state(emulator)["contacts"]) == {
        "person1@example.com",
        "person2@example.com",
        "person4@example.com",
    }


def test_a_schedule_that_forgets_needs_a_forget_section(project: SyncProject) -> None:
    config_file = project.root / "listrak-sync.yml"
    config = yaml.safe_load(config_file.read_text())
    config["schedules"] = {"nightly": {"every": "1d", "forget": True}}
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))

    done = project.cli("validate")

    assert done.returncode == 1
    assert "`forget: true` but the project has no `forget:` section" in done.stdout + done.stderr


def test_with_state_in_postgres_a_runner_without_forgets_memory_refuses_to_sync(
    forgetting: SyncProject,
    emulator: Emulator,
    postgres_server: PostgresServer,
    postgres_database: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Whom ``forget`` forgot stays in ``.listrak-sync/``; with the sync state in the warehouse
    a runner without that folder must not sync (it would add them back)."""
    monkeypatch.setenv(PASSWORD_ENV, postgres_server.password)
    use_postgres_state(forgetting.root, postgres_server, postgres_database)
    forgetting.execute(
        "INSERT INTO deletion_requests VALUES "
        "('person2@example.com', NULL, TIMESTAMP '2026-11-30 10:00:00')"
    )
    assert _run(forgetting).counts["complete"] == 1
    elsewhere = SyncProject(other_working_dir(forgetting.root, tmp_path / "elsewhere"), emulator)
    emulator.admin.clear_requests()

    refused = elsewhere.cli("sync", elsewhere.campaign)

    assert refused.returncode == 1, refused.stdout + refused.stderr
    output = " ".join((refused.stdout + refused.stderr).split())
    assert "`listrak-sync forget` forgets people in this project" in output
    assert "nothing was synced" in output
    assert "person2" not in output
    assert not any(emulator.admin.requests().values())  # Listrak never heard of it
    # Where forget ran, syncs go on without the forgotten person.
    forgetting.sync()
    assert set(list_state(emulator)["contacts"]) == {"person1@example.com", "person3@example.com"}
