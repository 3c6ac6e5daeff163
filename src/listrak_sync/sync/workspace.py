"""Where a project's sync state lives: ``.listrak-sync/`` in the project folder, or with
``state: {store: warehouse}`` tables in the warehouse.

``.listrak-sync/`` holds ``state.sqlite`` (runs, journal, outcomes, locks), ``snapshots/`` (one
Parquet per synced target) and ``runs/{run_id}/`` (a run's plan and per-step results; kept
until the run finishes, so a killed run can be finished from it). The folder is 0700 and its
files 0600: they hold emails and phone numbers (see ``state/private.py``). With the state in
the warehouse, runs, journal, outcomes, locks and snapshots are tables (``state/warehouse/``)
and a run's folder is a working copy of files the warehouse also keeps until the run finishes.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from ..project.connection import state_target
from ..project.loader import Project
from ..state import StateStore
from ..state.private import private_folder
from ..state.protocol import SnapshotBackend, StateBackend

if TYPE_CHECKING:
    from ..state import SnapshotStore

__all__ = ["FORGET_MARK", "STATE_FOLDER", "StateLocation", "Workspace"]

STATE_FOLDER = ".listrak-sync"
# The checkpoint (scope, name) a ``forget`` run sets in a warehouse state store. Forget's own
# memory (the salt and the hashes of forgotten people) stays in ``.listrak-sync/``; the mark
# tells a sync on a runner without it that it must not run (it would add those people back).
FORGET_MARK = ("forget", "forgets_people")


@dataclass(frozen=True)
class StateLocation:
    """Where state goes with ``store: warehouse``: a database (its typed config, password
    resolved), the schema there, and the folder its relative paths (a key file) start from."""

    target: BaseModel
    schema: str
    base_dir: Path | None = None


@dataclass(frozen=True)
class Workspace:
    root: Path
    # None: the state is local (``state.sqlite`` and ``snapshots/`` in ``root``).
    shared: StateLocation | None = None

    @classmethod
    def in_project(cls, project_root: Path) -> Workspace:
        """The local workspace of a project folder (state in ``.listrak-sync/``)."""
        return cls(project_root / STATE_FOLDER)

    @classmethod
    def for_project(cls, project: Project) -> Workspace:
        """The workspace the project's ``state`` section describes."""
        config = project.config.state
        if config.store == "local":
            return cls.in_project(project.root)
        return cls(
            project.root / STATE_FOLDER,
            StateLocation(state_target(project), config.schema_, project.root),
        )

    @property
    def state_path(self) -> Path:
        private_folder(self.root, tighten=True)
        return self.root / "state.sqlite"

    def has_state(self) -> bool:
        """Whether any run was ever recorded where this workspace keeps its state (the
        warehouse's tables are made on first use, so a shared store always has them)."""
        return self.shared is not None or (self.root / "state.sqlite").exists()

    def local_store(self) -> StateStore:
        """``state.sqlite``, whatever ``state.store`` says (the scheduler's service keeps its
        own run lock here)."""
        return StateStore(self.state_path)

    def local_snapshots(self) -> SnapshotStore:
        # Snapshots are Parquet files (pyarrow): imported when a run reads or writes one, not
        # by every command that opens the workspace (tests/test_cli_startup.py).
        from ..state import SnapshotStore

        private_folder(self.root, tighten=True)
        return SnapshotStore(self.root / "snapshots")

    def store(self) -> StateBackend:
        if self.shared is None:
            return self.local_store()
        from ..state.warehouse import WarehouseStateStore
        from ..warehouse import connect_state  # the engine's driver loads only when used

        connection = connect_state(self.shared.target, base_dir=self.shared.base_dir)
        try:
            return WarehouseStateStore(connection, self.shared.schema)
        except BaseException:
            connection.close()
            raise

    def snapshots(self, store: StateBackend | None = None) -> SnapshotBackend:
        """Snapshots where the state is: beside ``store`` (which must be this workspace's
        store) when the state is in the warehouse."""
        if self.shared is not None:
            from ..state.warehouse import WarehouseStateStore

            if not isinstance(store, WarehouseStateStore):
                raise TypeError("the warehouse's snapshots need its state store")
            return store.snapshots()
        return self.local_snapshots()

    def run_dir(self, run_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", run_id):
            raise ValueError(f"not a run id: {run_id!r}")
        private_folder(self.root, tighten=True)
        return private_folder(private_folder(self.root / "runs") / run_id)

    def remove_run_dir(self, run_id: str) -> None:
        shutil.rmtree(self.root / "runs" / run_id, ignore_errors=True)
