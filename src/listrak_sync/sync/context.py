"""What a destination gets while a run plans and applies: its target, the journal, the plan rows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic

import pyarrow as pa

from ..audiences.campaigns import AttributePlan
from ..listrak import ListrakClient
from ..state import Step
from ..state.protocol import StateBackend
from . import hooks
from .options import SyncOptions
from .plan import PlanFiles
from .target import TargetT

__all__ = ["RunContext"]


@dataclass
class RunContext(Generic[TargetT]):
    run_id: str
    target_name: str  # "{campaign}/{destination}" (+ "/{group}")
    store: StateBackend
    files: PlanFiles
    client: ListrakClient
    options: SyncOptions
    attributes: list[AttributePlan]
    resumed: bool = False
    # What prepare() returned (on resume: what the run journaled); read it as ``target``.
    prepared: TargetT | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase
    cpu: dict[str, float] = field(default_factory=dict)  # process CPU seconds per phase
    peak_rss_mb: dict[str, int] = field(default_factory=dict)  # peak RSS at each phase's end
    has_snapshot: bool = True  # a previous run's snapshot exists (set before remote() is read)

    @property
    def target(self) -> TargetT:
        """The destination's prepared target (set before any method but ``prepare`` runs)."""
        if self.prepared is None:
            raise RuntimeError(f"{self.target_name}: the destination is not prepared yet")
        return self.prepared

    @property
    def dry_run(self) -> bool:
        return self.options.dry_run

    @property
    def full(self) -> bool:
        return self.options.full

    @property
    def workdir(self) -> Path:
        return self.files.workdir

    async def rows(self, step: Step) -> pa.Table:
        """The plan rows of ``step`` (ordered by key), read off the event loop."""
        return await asyncio.to_thread(self.files.step_rows, step.step_id)

    def file_name(self, step: Step, attempt: int = 0) -> str:
        """A name unique to this step (and attempt), used to find an import after a kill."""
        suffix = f"-r{attempt}" if attempt else ""
        return f"listrak-sync-{self.run_id}-{step.step_id}{suffix}.csv"

    def sending(self, step: Step, **marks: Any) -> Step:
        """Journal that a request for ``step`` may be about to reach Listrak."""
        result = {**(step.result or {}), **marks, "sending": True}
        return self.store.mark_step(self.run_id, step.step_id, "pending", result=result)

    def submitted(self, step: Step, external_id: str, **marks: Any) -> Step:
        """Journal the id Listrak gave the step's request (e.g. an import file id)."""
        self.checkpoint(f"submitted:{step.step_id}")
        result = {**(step.result or {}), **marks}
        updated = self.store.mark_step(
            self.run_id, step.step_id, "submitted", external_id=external_id, result=result
        )
        self.checkpoint(f"journaled:{step.step_id}")
        return updated

    def checkpoint(self, point: str) -> None:
        hooks.checkpoint(point)
