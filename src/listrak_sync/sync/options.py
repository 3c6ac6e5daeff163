"""How a sync or plan runs: the flags of ``listrak-sync sync`` and a few knobs for tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SyncOptions"]


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    full: bool = False  # compare with what Listrak holds instead of the last snapshot
    allow_large_removal: bool = False
    destinations: tuple[str, ...] = ()  # only these destinations of the campaign (all if empty)
    step_concurrency: int = 4  # steps (imports) in flight at once
    # ClientSettings members to change (e.g. import_poll_interval for tests); hosts come from
    # the project's `listrak:` section.
    client: dict[str, Any] = field(default_factory=dict)
    keep_work: bool = False  # keep the run's work folder (plan Parquet) after it finishes
