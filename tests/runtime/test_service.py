"""The scheduler end to end on a real project: the CLI in subprocesses, runs in worker
processes, syncs to the emulator, alerts to a webhook receiver and an SMTP server on loopback.
"""

from __future__ import annotations

import os
import shlex
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from listrak_sync.runtime import SchedulerState
from listrak_sync.state import StateStore
from listrak_sync.sync import Workspace
from listrak_sync.sync.hooks import PAUSE_AT, PAUSE_FILE
from tests.sync.helpers import CLI, Person, SyncProject, list_state, people, seed_list

from .conftest import Mailbox, Receiver

HOOK_ENV = "LSYNC_TEST_HOOK_KEY"
SMALL_FILES = {"max_import_bytes": 300}  # several imports per step kind


def _configure(project: SyncProject, receiver: Receiver, mailbox: Mailbox | None) -> None:
    config: dict[str, Any] = yaml.safe_load((project.root / "listrak-sync.yml").read_text())
    channels: dict[str, Any] = {
        "hook": {"type": "webhook", "url": receiver.url, "signing_secret": {"env": HOOK_ENV}}
    }
    alerts = ["hook"]
    if mailbox is not None:
        channels["mail"] = {
            "type": "email",
            "host": "localhost",
            "port": mailbox.port,
            "username": mailbox.user,
            "password": {"env": "LSYNC_TEST_SMTP_PASSWORD"},
            "from": "listrak-sync@example.com",
            "to": ["ops@example.com"],
            "ca_file": str(mailbox.ca_file),
        }
        alerts.append("mail")
    config["schedules"] = {
        "nightly": {
            "every": "1h",
            "campaigns": [project.campaign],
            "alerts": alerts,
            "max_failures": 3,
        }
    }
    config["alerts"] = {"channels": channels}
    config["scheduler"] = {"poll_interval": "1s", "shutdown_timeout": "20s"}
    (project.root / "listrak-sync.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def _env(project: SyncProject, mailbox: Mailbox | None = None, **extra: str) -> dict[str, str]:
    env = project.cli_env(client=SMALL_FILES)
    env[HOOK_ENV] = "hook-signing-key"
    if mailbox is not None:
        env["LSYNC_TEST_SMTP_PASSWORD"] = mailbox.password
    env.update(extra)
    return env


def _cli(project: SyncProject, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args, "-p", str(project.root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_guard_alerts_by_webhook_and_mail_and_the_approval_recovers(
    project: SyncProject, receiver: Receiver, mailbox: Mailbox
) -> None:
    seed_list(project.emulator)
    _configure(project, receiver, mailbox)
    env = _env(project, mailbox)
    project.set_people(people(10))

    first = _cli(project, env, "schedules", "trigger", "nightly")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "sync newsletter: succeeded" in first.stdout
    assert receiver.requests == []

    project.set_people(people(2))  # 8 of 10 would leave: the guard stops the run
    stopped = _cli(project, env, "schedules", "trigger", "nightly")
    assert stopped.returncode == 4, stopped.stdout + stopped.stderr
    (alert,) = receiver.events()
    assert alert["event"] == "alert"
    assert alert["condition"] == "removal_guard"
    assert "would turn off or unsubscribe 8 of 10" in alert["text"]
    approve = alert["approve"]
    assert approve.startswith("listrak-sync sync spring --destination newsletter")
    assert "--allow-large-removal" in approve
    assert f"listrak-sync runs {alert['run_id']}" in alert["text"]
    (mail,) = mailbox.messages
    assert mail["Subject"] == "[listrak-sync] nightly: stopped by the removal guard"
    assert approve in mail.get_payload(decode=True).decode()
    assert "person" not in alert["text"]  # no addresses in alerts
    # ... but a masked few of those it would remove, for whoever approves.
    assert "Among them: p***@e***.com, p***@e***.com, p***@e***.com." in alert["text"]

    argv = shlex.split(approve)
    approved = subprocess.run(
        [CLI, *argv[1:]], env=env, capture_output=True, text=True, timeout=180
    )
    assert approved.returncode == 0, approved.stdout + approved.stderr

    again = _cli(project, env, "schedules", "trigger", "nightly")
    assert again.returncode == 0, again.stdout + again.stderr
    assert [(e["event"], e["condition"]) for e in receiver.events()] == [
        ("alert", "removal_guard"),
        ("recovered", "removal_guard"),
    ]
    assert len(mailbox.messages) == 2
    assert "recovered" in mailbox.messages[1]["Subject"]

    listed = _cli(project, env, "schedules", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"name": "nightly"' in listed.stdout


def _wait(condition: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _scheduler(project: SyncProject, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [CLI, "--log-format", "json", "scheduler", "-p", str(project.root), "--metrics-port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _descendants(parent: int) -> list[int]:
    """Every process below ``parent`` (a worker's own children hold its locks too)."""
    found: list[int] = []
    todo = [parent]
    while todo:
        below = _children(todo.pop())
        found += below
        todo += below
    return found


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def _owe_a_run(project: SyncProject) -> None:
    """Make the state say the schedule was first seen two hours ago: one fire is owed within
    the grace window (as after a short downtime)."""
    path = Workspace.in_project(project.root).root / "scheduler.sqlite"
    earlier = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    with SchedulerState(path) as state:
        state.schedule("nightly", datetime.now(UTC))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schedules SET first_seen = ?, last_fire = NULL", (earlier,))


def _state(project: SyncProject) -> SchedulerState:
    return SchedulerState(Workspace.in_project(project.root).root / "scheduler.sqlite")


def test_a_scheduler_killed_mid_run_resumes_it_once_and_keeps_its_failures_and_alerts(
    project: SyncProject, receiver: Receiver
) -> None:
    seed_list(project.emulator)
    _configure(project, receiver, None)
    project.set_people(people(12))
    # A failed run first: the failure count and the alert must survive the kill.
    broken = _env(project)
    broken.pop("LSYNC_TEST_EMAIL_SECRET")
    failed = _cli(project, broken, "schedules", "trigger", "nightly")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert [e["condition"] for e in receiver.events()] == ["failed"]
    _owe_a_run(project)

    point = "done:add-0002"
    pause_file = project.root / "paused"
    env = _env(project, **{PAUSE_AT: point, PAUSE_FILE: str(pause_file)})
    first = _scheduler(project, env)
    try:
        _wait(pause_file.exists, f"the run to reach {point}")
    finally:
        # As in a host crash: the worker (in its own session) and the scheduler, at once.
        for pid in _descendants(first.pid):
            os.kill(pid, signal.SIGKILL)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        (killed,) = store.runs("sync", "spring/newsletter", limit=1)
    assert killed.status == "running"
    with _state(project) as state:
        assert state.schedule("nightly", datetime.now(UTC)).failures == 1
        (interrupted,) = state.runs("nightly", status="running")
    assert len(receiver.requests) == 1

    second = _scheduler(project, _env(project))
    try:

        def done() -> bool:
            with _state(project) as state:
                return state.run(interrupted.run_id).status != "running"

        _wait(done, "the resumed run to finish")
        port = _metrics_port(project, second)
        # The run's record is written before the scheduler counts it: wait for the count too.
        counted = 'listrak_sync_scheduled_runs_total{schedule="nightly",status="succeeded"} 1.0'
        seen: list[str] = []

        def count_shown() -> bool:
            text = httpx2.get(f"http://127.0.0.1:{port}/metrics").text
            seen[:] = [line for line in text.splitlines() if "scheduled_runs_total{" in line]
            return counted in text

        try:
            _wait(count_shown, "the succeeded run in /metrics")
        except AssertionError as exc:  # say what the scheduler did count (a flaky CI failure)
            raise AssertionError(f"{exc}; /metrics shows {seen}") from None
        assert httpx2.get(f"http://127.0.0.1:{port}/healthz").json()["ok"] is True
        _wait(lambda: len(receiver.requests) == 2, "the recovery message")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0

    with _state(project) as state:
        run = state.run(interrupted.run_id)
        ran = [r for r in state.runs("nightly") if r.status not in ("missed", "skipped")]
        assert state.schedule("nightly", datetime.now(UTC)).failures == 0
    assert run.status == "succeeded"
    assert run.attempts == 2
    assert len(ran) == 2  # the failed trigger and the resumed run: nothing ran twice
    names = Counter(
        str(i["importFileName"])
        for i in list_state(project.emulator)["imports"]
        if killed.run_id in str(i["importFileName"])
    )
    assert names
    assert set(names.values()) == {1}  # every import of the killed sync started once
    assert [(e["event"], e["condition"]) for e in receiver.events()] == [
        ("alert", "failed"),
        ("recovered", "failed"),
    ]


def _metrics_port(project: SyncProject, process: subprocess.Popen[str]) -> int:
    """The port the scheduler's metrics server bound (it logs the URL at start)."""
    assert process.stderr is not None
    for line in process.stderr:
        if "/metrics" in line and "metrics on" in line:
            url = line.split("metrics on ", 1)[1].split("/metrics", 1)[0]
            return int(url.rsplit(":", 1)[1])
    pytest.fail("the scheduler never said where its metrics are")


def test_sigterm_stops_a_run_at_a_safe_point_and_the_next_start_finishes_it(
    project: SyncProject, receiver: Receiver
) -> None:
    seed_list(project.emulator)
    _configure(project, receiver, None)
    project.set_people(people(12))
    _owe_a_run(project)
    # Slow imports: the run is still applying when SIGTERM comes.
    project.emulator.admin.add_fault(path="ListImport", latency_ms=400)
    first = _scheduler(project, _env(project))
    store_path = Workspace.in_project(project.root).state_path

    def applying() -> bool:
        if not store_path.exists():
            return False
        with StateStore(store_path) as store:
            runs = store.runs("sync", "spring/newsletter", limit=1)
            return bool(runs) and runs[0].details.get("phase") == "applying"

    try:
        _wait(applying, "the sync to start applying")
    finally:
        first.send_signal(signal.SIGTERM)
        code = first.wait(60)
    assert code == 0
    with StateStore(store_path) as store:
        (stopped,) = store.runs("sync", "spring/newsletter", limit=1)
    assert stopped.status == "interrupted"  # journaled by the engine, not killed
    assert stopped.details.get("resumable") is True
    with _state(project) as state:
        (scheduled,) = [r for r in state.runs("nightly") if r.status == "interrupted"]
        assert state.schedule("nightly", datetime.now(UTC)).failures == 0

    project.emulator.admin.clear_faults()
    second = _scheduler(project, _env(project))
    try:

        def finished() -> bool:
            with _state(project) as state:
                return state.run(scheduled.run_id).status not in ("running", "interrupted")

        _wait(finished, "the resumed run")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0
    with _state(project) as state:
        run = state.run(scheduled.run_id)
    assert run.status == "succeeded"
    assert run.attempts == 2
    with StateStore(store_path) as store:
        assert store.run(stopped.run_id).status == "succeeded"
    names = Counter(
        str(i["importFileName"])
        for i in list_state(project.emulator)["imports"]
        if stopped.run_id in str(i["importFileName"])
    )
    assert set(names.values()) == {1}
    assert receiver.requests == []  # an interrupted run is not a failure


def test_a_pull_then_the_sync_after_it(project: SyncProject, receiver: Receiver) -> None:
    seed_list(project.emulator, [{"emailAddress": "someone@example.com"}])
    _configure(project, receiver, None)
    config: dict[str, Any] = yaml.safe_load((project.root / "listrak-sync.yml").read_text())
    config["sources"] = {"news": {"type": "listrak_email", "credential": "email", "list_id": 1001}}
    config["schedules"] = {
        "consent": {"every": "6h", "pulls": ["news"], "alerts": ["hook"]},
        "nightly": {
            "after": ["consent"],
            "campaigns": [project.campaign],
            "alerts": ["hook"],
            "conditions": {"rejected_share": 0.2},
        },
    }
    (project.root / "listrak-sync.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    project.set_people([*people(3), Person("C000099", "jane.doe.example.com")])

    done = _cli(project, _env(project), "schedules", "trigger", "consent")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "pull news: succeeded" in done.stdout
    with _state(project) as state:
        (pulled,) = state.runs("consent")
        (synced,) = state.runs("nightly")
    assert pulled.status == "succeeded"
    assert synced.status == "succeeded"
    assert synced.reason == "after consent"
    assert synced.detail["result"]["targets"][0]["counts"]["added"] == 3
    project.execute("SELECT count(*) FROM listrak_news_contacts")  # the pull's table exists
    # One of four audience rows has no valid address: over the 20 % threshold, said with the
    # customer and the masked value only.
    (alert,) = receiver.events()
    assert alert["condition"] == "rejected_share"
    assert "25.0% of 4 audience rows" in alert["text"]
    assert "customer C000099" in alert["text"]
    assert "jane.doe" not in alert["text"]


def test_alerts_test_sends_to_the_channel_and_names_unknown_ones(
    project: SyncProject, receiver: Receiver, mailbox: Mailbox
) -> None:
    _configure(project, receiver, mailbox)
    env = _env(project, mailbox)
    sent = _cli(project, env, "alerts", "test", "hook")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    (event,) = receiver.events()
    assert event["condition"] == "test"
    mailed = _cli(project, env, "alerts", "test", "mail")
    assert mailed.returncode == 0, mailed.stdout + mailed.stderr
    assert len(mailbox.messages) == 1
    unknown = _cli(project, env, "alerts", "test", "hookk")
    assert unknown.returncode == 1
    assert "no alert channel named 'hookk'" in unknown.stderr
    env.pop(HOOK_ENV)
    unset = _cli(project, env, "alerts", "test", "hook")
    assert unset.returncode == 1
    assert HOOK_ENV in unset.stderr
    assert "hook-signing-key" not in unset.stderr


def test_an_export_destination_on_a_schedule(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    made = subprocess.run([CLI, "init", str(root)], capture_output=True, text=True, timeout=180)
    assert made.returncode == 0, made.stdout + made.stderr
    config: dict[str, Any] = yaml.safe_load((root / "listrak-sync.yml").read_text())
    config["schedules"] = {"catalog": {"cron": "0 3 * * *", "exports": ["files"]}}
    (root / "listrak-sync.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    done = subprocess.run(
        [CLI, "schedules", "trigger", "catalog", "-p", str(root)],
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "export files: succeeded" in done.stdout
    written = sorted(p.name.split("_2")[0] for p in (root / "listrak-files").glob("*.csv"))
    assert written == [
        "Listrak_Customer",
        "Listrak_OrderItem_Feed",
        "Listrak_Order_Feed",
        "Listrak_Product_Feed",
    ]
