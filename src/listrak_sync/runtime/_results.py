"""What a scheduled run reports back: one result per thing it ran (a campaign's destination,
a pulled source, an exported destination). The worker process writes it as JSON; the scheduler
reads it to record the run, count metrics and decide on alerts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SEVERITY", "RunResult", "TargetResult", "TargetStatus", "worst"]

TargetStatus = Literal["succeeded", "partial", "refused", "locked", "failed", "interrupted"]
# The worst status decides the run's; a run stopped by SIGTERM is interrupted whatever else.
SEVERITY: tuple[TargetStatus, ...] = (
    "succeeded",
    "partial",
    "refused",
    "locked",
    "failed",
    "interrupted",
)


class TargetResult(BaseModel):
    """One destination synced, one source pulled, or one destination exported."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["forget", "sync", "pull", "export"]
    name: str  # the campaign, source or export destination
    destination: str  # what metrics and alerts are per: a destination or a source
    status: TargetStatus
    run_id: str | None = None  # the sync run (`listrak-sync runs ID`)
    error: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    audience_total: int | None = None  # audience rows read (sync)
    audience_ok: int | None = None  # of which deliverable
    removal_guard: str | None = None  # the guard's message when it stopped the run
    approve_command: str | None = None  # what a person runs to let the removal through
    removal_sample: list[str] = Field(default_factory=list)  # a few it would remove, masked
    # A few rejected audience rows: customer key, status, the contact key masked.
    rejected_sample: list[str] = Field(default_factory=list)


class RunResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TargetStatus
    targets: list[TargetResult] = Field(default_factory=list)
    error: str | None = None  # a failure before any target ran (e.g. the project did not load)


def worst(statuses: list[TargetStatus]) -> TargetStatus:
    return max(statuses, key=SEVERITY.index) if statuses else "succeeded"
