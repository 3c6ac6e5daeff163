"""listrak-sync: warehouse-native audience sync between a data warehouse and Listrak.

The library in five lines::

    import listrak_sync

    project = listrak_sync.load_project("my-project")
    result = listrak_sync.sync(project, "spring_sale")
    print(result.exit_code, [unit.status for unit in result.units])
    result.raise_for_status()

Names are imported on first use, so ``import listrak_sync`` (and the ``listrak-sync`` command's
start-up) stays light; ``listrak_sync.api`` holds the calls, ``listrak_sync.errors`` the error
tree and the exit codes.

``listrak_sync.sync`` is the call, although a subpackage has the same name: the import system
binds a subpackage to its parent's attribute once imported, and this package declines that one
binding. Import from the engine by its full name (``from listrak_sync.sync import SyncOptions``,
``from listrak_sync.sync import engine``); ``import listrak_sync.sync as x`` gives the call.
"""

import sys
import types
from typing import TYPE_CHECKING

from ._exports import lazy_exports

if TYPE_CHECKING:
    from .api import (
        ExportOptions,
        ForgetError,
        ForgetReport,
        PullReport,
        SourceFailure,
        SyncResult,
        export,
        export_async,
        forget,
        load_project,
        plan,
        plan_async,
        pull,
        pull_async,
        sync,
        sync_async,
    )
    from .errors import ExitCode, ListrakSyncError
    from .files.export import ExportReport
    from .project.loader import Project
    from .source.pull import PullResult
    from .sync.report import Reporter, UnitOutcome

    __version__: str

__all__ = [
    "ExitCode",
    "ExportOptions",
    "ExportReport",
    "ForgetError",
    "ForgetReport",
    "ListrakSyncError",
    "Project",
    "PullReport",
    "PullResult",
    "Reporter",
    "SourceFailure",
    "SyncResult",
    "UnitOutcome",
    "__version__",
    "export",
    "export_async",
    "forget",
    "load_project",
    "plan",
    "plan_async",
    "pull",
    "pull_async",
    "sync",
    "sync_async",
]

_HOMES = {
    **dict.fromkeys(
        (
            "ExportOptions",
            "ForgetError",
            "ForgetReport",
            "PullReport",
            "SourceFailure",
            "SyncResult",
            "export",
            "export_async",
            "forget",
            "load_project",
            "plan",
            "plan_async",
            "pull",
            "pull_async",
            "sync",
            "sync_async",
        ),
        "api",
    ),
    "ExitCode": "errors",
    "ListrakSyncError": "errors",
    "ExportReport": "files.export",
    "Project": "project.loader",
    "PullResult": "source.pull",
    "Reporter": "sync.report",
    "UnitOutcome": "sync.report",
}
_lazy = lazy_exports(__name__, _HOMES)


def __getattr__(name: str) -> object:
    if name == "__version__":
        from importlib.metadata import version

        value = version("listrak-sync")
        globals()[name] = value
        return value
    return _lazy(name)


class _Package(types.ModuleType):
    """This package's module type: the call ``sync`` keeps its name when the ``sync``
    subpackage is imported."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "sync" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
