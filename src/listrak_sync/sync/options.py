"""How a sync or plan runs: the flags of ``listrak-sync sync`` and a few knobs for tests."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import ListrakSyncError

__all__ = ["CLIENT_SETTINGS_ENV", "SyncOptions", "client_settings_from_env"]

# ClientSettings overrides as a JSON object (tests shorten import polling through it); read by
# every command and scheduled run that talks to Listrak for a sync.
CLIENT_SETTINGS_ENV = "LISTRAK_SYNC_CLIENT_SETTINGS"


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


def client_settings_from_env() -> dict[str, Any]:
    """The ``LISTRAK_SYNC_CLIENT_SETTINGS`` overrides, or none when it is unset."""
    raw = os.environ.get(CLIENT_SETTINGS_ENV)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ListrakSyncError(f"{CLIENT_SETTINGS_ENV} is not JSON") from None
    if not isinstance(value, dict):
        raise ListrakSyncError(f"{CLIENT_SETTINGS_ENV} must be a JSON object")
    return value
