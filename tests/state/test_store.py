"""The state store on a real SQLite file: runs, journal, outcomes, checkpoints, locks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from listrak_sync.state import LockHeld, RowOutcome, StateStore


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.sqlite")


def test_run_lifecycle_and_history(store: StateStore) -> None:
    first = store.start_run("sync", "spring-sale/newsletter", {"mode": "add"})
    assert first.status == "running"
    assert store.unfinished_run("sync", "spring-sale/newsletter") == first
    done = store.finish_run(first.run_id, "succeeded", {"entering": 10}, details={"imports": 1})
    assert done.counts == {"entering": 10}
    assert done.details == {"mode": "add", "imports": 1}
    assert store.unfinished_run("sync", "spring-sale/newsletter") is None
    assert store.last_successful_run("sync", "spring-sale/newsletter") == done
    second = store.start_run("sync", "spring-sale/newsletter")
    store.finish_run(second.run_id, "failed", error="list 42 not found")
    assert [r.run_id for r in store.runs(kind="sync")] == [second.run_id, first.run_id]
    assert store.last_successful_run("sync", "spring-sale/newsletter") == done


def test_journal_survives_reopen_and_planning_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with StateStore(path) as store:
        run = store.start_run("sync", "c/d")
        store.plan_step(run.run_id, "import-1", "list_import", {"rows": 500})
        store.mark_step(run.run_id, "import-1", "submitted", external_id="9001")
    with StateStore(path) as store:
        again = store.plan_step(run.run_id, "import-1", "list_import", {"rows": 999})
        assert again.status == "submitted"
        assert again.external_id == "9001"
        assert again.payload == {"rows": 500}
        store.mark_step(run.run_id, "import-1", "done", result={"subscribed": 500})
        assert store.steps(run.run_id)[0].result == {"subscribed": 500}


def test_row_outcomes(store: StateStore) -> None:
    run = store.start_run("sync", "c/d")
    store.record_outcomes(
        run.run_id,
        [
            RowOutcome("a@example.com", "previously_unsubscribed"),
            RowOutcome("not-an-email", "invalid_email", "email", "no @"),
            RowOutcome("b@example.com", "previously_unsubscribed"),
        ],
    )
    assert store.outcome_counts(run.run_id) == {"invalid_email": 1, "previously_unsubscribed": 2}
    assert store.outcomes(run.run_id, "invalid_email") == [
        RowOutcome("not-an-email", "invalid_email", "email", "no @")
    ]
    assert len(store.outcomes(run.run_id, limit=2)) == 2


def test_checkpoints(store: StateStore) -> None:
    assert store.checkpoint("pull:newsletter", "cursor") is None
    store.set_checkpoint("pull:newsletter", "cursor", "2026-11-01T00:00:00")
    store.set_checkpoint("pull:newsletter", "cursor", "2026-11-02T00:00:00")
    assert store.checkpoint("pull:newsletter", "cursor") == "2026-11-02T00:00:00"


def test_a_live_lock_is_refused_and_a_dead_one_taken_over(store: StateStore) -> None:
    store.acquire_lock("sms-list:7:12", "run-a")
    store.acquire_lock("sms-list:7:12", "run-a")  # re-entrant for the same run
    with pytest.raises(LockHeld, match="run-a"):
        store.acquire_lock("sms-list:7:12", "run-b")
    store.release_lock("sms-list:7:12", "run-a")
    store.acquire_lock("sms-list:7:12", "run-b")

    # A lock whose process is gone (killed) is taken over.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    store._db.execute(
        "UPDATE locks SET pid = ? WHERE resource = ?", (int(dead.stdout), "sms-list:7:12")
    )
    store.acquire_lock("sms-list:7:12", "run-c")
    assert store.force_unlock("sms-list:7:12")
    assert os.getpid() > 0


def test_a_held_lock_names_the_run_and_only_a_command_that_exists(store: StateStore) -> None:
    store.acquire_lock("sync:spring/newsletter", "pid-1")
    store.relabel_locks("pid-1", "20261203T000000-abcdef12")
    with pytest.raises(LockHeld) as held:
        store.acquire_lock("sync:spring/newsletter", "pid-2")
    said = str(held.value)
    assert "run 20261203T000000-abcdef12" in said
    assert "runs unlock" not in said  # no such command
    assert "--unlock" not in said  # a live lock on this host: nothing to free by hand
    # A lock from another host is never presumed stale: the message says how to free it.
    store._db.execute("UPDATE locks SET host = 'elsewhere'")
    with pytest.raises(LockHeld) as remote:
        store.acquire_lock("sync:spring/newsletter", "pid-2")
    assert "listrak-sync runs --unlock 'sync:spring/newsletter'" in str(remote.value)
