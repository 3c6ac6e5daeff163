"""Completing a journal step atomically, and reopening a killed run (used by the sync engine)."""

from __future__ import annotations

from pathlib import Path

from listrak_sync.state import RowOutcome, StateStore


def test_complete_step_marks_done_and_replaces_its_outcomes(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        run = store.start_run("sync", "spring/newsletter")
        store.plan_step(run.run_id, "add-0001", "add", {"rows": 3})
        store.mark_step(run.run_id, "add-0001", "submitted", external_id="17", result={"a": 1})
        store.record_outcomes(run.run_id, [RowOutcome("x", "invalid_key")], step_id="audience")

        first = [RowOutcome("a@x.com", "banned", reason="banned in Listrak")]
        store.complete_step(run.run_id, "add-0001", {"effects": {"failed": 1}}, first)
        # Completing again (a resumed run redoing the bookkeeping) does not duplicate rows.
        step = store.complete_step(run.run_id, "add-0001", {"effects": {"failed": 1}}, first)

        assert step.status == "done"
        assert step.external_id == "17"
        assert step.result == {"effects": {"failed": 1}}
        assert store.outcome_counts(run.run_id) == {"banned": 1, "invalid_key": 1}


def test_reopen_run_clears_the_finish(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        run = store.start_run("sync", "spring/newsletter")
        store.finish_run(run.run_id, "failed", {"enter": 2}, error="Listrak was down")

        reopened = store.reopen_run(run.run_id)

        assert reopened.status == "running"
        assert reopened.finished_at is None
        assert reopened.error is None
        assert reopened.counts == {"enter": 2}
