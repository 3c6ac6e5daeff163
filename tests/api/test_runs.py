"""Run history from Python: ``listrak_sync.api.runs`` and friends, after a real sync."""

from __future__ import annotations

import duckdb
import pytest

import listrak_sync
from listrak_sync import api
from listrak_sync.errors import ListrakSyncError
from tests.sync.helpers import FAST, Person, SyncProject, people, seed_list


def test_runs_details_outcomes_and_refusals(project: SyncProject) -> None:
    assert api.runs(project.root) == []
    seed_list(project.emulator)
    project.set_people([*people(3), Person("C999999", None, "NoEmail", "Boston")])
    result = listrak_sync.sync(project.root, "spring", client_settings=FAST)
    run = result.units[0].run
    assert run is not None

    assert [r.run_id for r in api.runs(project.root)] == [run.run_id]
    detail = api.run_detail(project.root, run.run_id)
    assert detail.run.status == "succeeded"
    assert detail.steps
    assert detail.outcome_counts == {"missing_key": 1}

    assert api.export_outcomes(project.root, run.run_id, "sync_outcomes") == 1
    with duckdb.connect(str(project.root / "warehouse.duckdb")) as con:
        assert con.execute("SELECT key, outcome FROM sync_outcomes").fetchall() == [
            ("customer_id=C999999", "missing_key")
        ]

    with pytest.raises(ListrakSyncError, match="is succeeded, not unfinished"):
        api.abandon_run(project.root, run.run_id)
    with pytest.raises(ListrakSyncError, match="no run 'nope'"):
        api.run_detail(project.root, "nope")
    assert api.unlock(project.root, "sync:spring/newsletter") is False
