"""The sync engine: plan an audience against what a destination holds, apply it resumably.

``sync_campaign`` / ``plan_campaign`` run it; destinations implement ``SyncDestination``.
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .destination import Effect, StepGroup, StepResult, SyncDestination, effect_rows
    from .engine import plan_campaign, sync_campaign, sync_campaign_async
    from .errors import SyncError
    from .options import SyncOptions
    from .registry import register
    from .report import EXIT_CODES, Reporter, UnitOutcome
    from .target import SyncTarget
    from .workspace import Workspace

__all__ = [
    "EXIT_CODES",
    "Effect",
    "Reporter",
    "StepGroup",
    "StepResult",
    "SyncDestination",
    "SyncError",
    "SyncOptions",
    "SyncTarget",
    "UnitOutcome",
    "Workspace",
    "effect_rows",
    "plan_campaign",
    "register",
    "sync_campaign",
    "sync_campaign_async",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "Effect": "destination",
        "StepGroup": "destination",
        "StepResult": "destination",
        "SyncDestination": "destination",
        "effect_rows": "destination",
        "plan_campaign": "engine",
        "sync_campaign": "engine",
        "sync_campaign_async": "engine",
        "SyncError": "errors",
        "SyncOptions": "options",
        "register": "registry",
        "EXIT_CODES": "report",
        "Reporter": "report",
        "UnitOutcome": "report",
        "SyncTarget": "target",
        "Workspace": "workspace",
    },
)
