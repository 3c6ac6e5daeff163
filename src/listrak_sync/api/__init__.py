"""listrak-sync as a library: the calls behind the ``listrak-sync`` command.

::

    import listrak_sync

    project = listrak_sync.load_project("path/to/project")
    result = listrak_sync.sync(project, "spring_sale")
    result.raise_for_status()   # RunsPartial, RemovalRefused, RunsLocked or RunsFailed

Each call has an ``..._async`` twin for a running event loop, and takes an optional
``client`` and ``warehouse`` to use instead of the ones the project describes.
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from ._campaigns import plan, plan_async, sync, sync_async
    from ._events_setup import EventsFile, EventsSetup, load_setup
    from ._export import ExportOptions, ExportTarget, export, export_async
    from ._forget import ForgetError, ForgetReport, forget
    from ._project import ProjectLike, load_project
    from ._pull import pull, pull_async
    from ._results import PullReport, SourceFailure, SyncResult
    from ._runs import RunDetail, abandon_run, export_outcomes, run_detail, runs, unlock

__all__ = [
    "EventsFile",
    "EventsSetup",
    "ExportOptions",
    "ExportTarget",
    "ForgetError",
    "ForgetReport",
    "ProjectLike",
    "PullReport",
    "RunDetail",
    "SourceFailure",
    "SyncResult",
    "abandon_run",
    "export",
    "export_async",
    "export_outcomes",
    "forget",
    "load_project",
    "load_setup",
    "plan",
    "plan_async",
    "pull",
    "pull_async",
    "run_detail",
    "runs",
    "sync",
    "sync_async",
    "unlock",
]

# Each call imports only its own part (a sync never loads the exporter's SFTP client).
_HOMES = {
    **dict.fromkeys(("plan", "plan_async", "sync", "sync_async"), "_campaigns"),
    **dict.fromkeys(("EventsFile", "EventsSetup", "load_setup"), "_events_setup"),
    **dict.fromkeys(("ExportOptions", "ExportTarget", "export", "export_async"), "_export"),
    **dict.fromkeys(("ForgetError", "ForgetReport", "forget"), "_forget"),
    **dict.fromkeys(("ProjectLike", "load_project"), "_project"),
    **dict.fromkeys(("pull", "pull_async"), "_pull"),
    **dict.fromkeys(("PullReport", "SourceFailure", "SyncResult"), "_results"),
    **dict.fromkeys(
        ("RunDetail", "abandon_run", "export_outcomes", "run_detail", "runs", "unlock"), "_runs"
    ),
}
__getattr__ = lazy_exports(__name__, _HOMES)
