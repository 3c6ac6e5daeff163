"""Where a project's sync state lives: ``.listrak-sync/`` in the project folder.

``state.sqlite`` (runs, journal, outcomes, locks), ``snapshots/`` (one Parquet per synced
target) and ``runs/{run_id}/`` (a run's plan and per-step results; kept until the run
finishes, so a killed run can be finished from it). The folder is 0700 and its files 0600:
they hold emails and phone numbers (see ``state/private.py``).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..state import SnapshotStore, StateStore
from ..state.private import private_folder

__all__ = ["STATE_FOLDER", "Workspace"]

STATE_FOLDER = ".listrak-sync"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def in_project(cls, project_root: Path) -> Workspace:
        return cls(project_root / STATE_FOLDER)

    @property
    def state_path(self) -> Path:
        private_folder(self.root, tighten=True)
        return self.root / "state.sqlite"

    def store(self) -> StateStore:
        return StateStore(self.state_path)

    def snapshots(self) -> SnapshotStore:
        private_folder(self.root, tighten=True)
        return SnapshotStore(self.root / "snapshots")

    def run_dir(self, run_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", run_id):
            raise ValueError(f"not a run id: {run_id!r}")
        private_folder(self.root, tighten=True)
        return private_folder(private_folder(self.root / "runs") / run_id)

    def remove_run_dir(self, run_id: str) -> None:
        shutil.rmtree(self.root / "runs" / run_id, ignore_errors=True)
