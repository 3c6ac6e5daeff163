"""Run history from Python: the calls behind ``listrak-sync runs``."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from ..errors import ListrakSyncError
from ..project.connection import open_warehouse
from ..project.loader import Project
from ..state import RowOutcome, Run, Step
from ..state.protocol import StateBackend
from ..state.warehouse import WarehouseStateStore
from ..sync.workspace import Workspace
from ..warehouse import Warehouse
from ._project import ProjectLike, load_project

__all__ = ["RunDetail", "abandon_run", "export_outcomes", "run_detail", "runs", "unlock"]

_FINISHED = ("succeeded", "partial", "refused")


@dataclass(frozen=True)
class RunDetail:
    """One run: its record, its journal of steps, and its row outcomes (the first ones)."""

    run: Run
    steps: list[Step]
    outcome_counts: dict[str, int]
    outcomes: list[RowOutcome]


def runs(project: ProjectLike, *, limit: int = 20) -> list[Run]:
    """The latest runs (syncs and pulls), latest first; none before the first run."""
    store = _store(project)
    if store is None:
        return []
    with store:
        return store.runs(limit=limit)


def run_detail(project: ProjectLike, run_id: str, *, outcomes: int | None = 20) -> RunDetail:
    """Run ``run_id`` with its steps, its outcome counts and its first ``outcomes`` outcomes
    (``None``: all of them)."""
    with _open(project, run_id) as store:
        return RunDetail(
            run=_run(store, run_id),
            steps=store.steps(run_id),
            outcome_counts=store.outcome_counts(run_id),
            outcomes=store.outcomes(run_id, limit=outcomes),
        )


def abandon_run(project: ProjectLike, run_id: str) -> Run:
    """Give up finishing an interrupted run: the next sync plans afresh from the last snapshot
    (imports the run sent stay applied in Listrak)."""
    loaded = _project(project)
    with _open(loaded, run_id) as store:
        run = _run(store, run_id)
        if run.status in _FINISHED:
            raise ListrakSyncError(f"run {run_id} is {run.status}, not unfinished")
        finished = store.finish_run(
            run_id,
            "interrupted",
            run.counts,
            error="abandoned by hand; imports it sent stay applied in Listrak",
            details={"resumable": False},
        )
        if isinstance(store, WarehouseStateStore):
            store.drop_run_files(run_id)
    Workspace.for_project(loaded).remove_run_dir(run_id)
    return finished


def unlock(project: ProjectLike, resource: str) -> bool:
    """Remove a stale lock (as an error named it); whether it was held."""
    store = _store(project)
    if store is None:
        return False
    with store:
        return store.force_unlock(resource)


def export_outcomes(
    project: ProjectLike, run_id: str, table: str, *, warehouse: Warehouse | None = None
) -> int:
    """Append the row outcomes of ``run_id`` to the warehouse ``table``; how many."""
    loaded = _project(project)
    with _open(loaded, run_id) as store:
        rows = store.outcomes(run_id)
    data = pa.table(
        {
            "run_id": pa.array([run_id] * len(rows), pa.string()),
            "key": pa.array([r.key for r in rows], pa.string()),
            "outcome": pa.array([r.outcome for r in rows], pa.string()),
            "field": pa.array([r.field for r in rows], pa.string()),
            "reason": pa.array([r.reason for r in rows], pa.string()),
        }
    )
    if warehouse is not None:
        warehouse.write(table, data, mode="append")
    else:
        with open_warehouse(loaded) as opened:
            opened.write(table, data, mode="append")
    count: int = data.num_rows
    return count


def _project(project: ProjectLike) -> Project:
    return project if isinstance(project, Project) else load_project(project)


def _store(project: ProjectLike) -> StateBackend | None:
    """The project's state store (``state.store`` says where), or None before the first
    run of a local one."""
    workspace = Workspace.for_project(_project(project))
    return workspace.store() if workspace.has_state() else None


def _open(project: ProjectLike, run_id: str) -> StateBackend:
    store = _store(project)
    if store is None:
        raise ListrakSyncError(f"no run {run_id!r}", hint="no runs yet: the state store is empty")
    return store


def _run(store: StateBackend, run_id: str) -> Run:
    try:
        return store.run(run_id)
    except KeyError:
        raise ListrakSyncError(f"no run {run_id!r}") from None
