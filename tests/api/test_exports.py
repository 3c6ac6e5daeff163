"""``listrak_sync`` re-exports a small surface, lazily, in a sorted ``__all__``."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import listrak_sync
from listrak_sync import api


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert listrak_sync.__all__ == sorted(listrak_sync.__all__, key=lambda n: (n.islower(), n))
    for name in listrak_sync.__all__:
        assert getattr(listrak_sync, name) is not None, name
    # The run-history calls and the event server's setup stay in listrak_sync.api
    # (docs/reference/python-api.md).
    history = {"RunDetail", "abandon_run", "export_outcomes", "run_detail", "runs", "unlock"}
    events = {"EventsFile", "EventsSetup", "load_setup"}
    rest = set(api.__all__) - {"ExportTarget", "ProjectLike", *history, *events}
    assert rest <= set(listrak_sync.__all__)


def test_public_names_are_the_documented_ones() -> None:
    assert set(listrak_sync.__all__) == {
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
    }


def test_version_comes_from_the_package_metadata() -> None:
    assert listrak_sync.__version__ == importlib.metadata.version("listrak-sync")


def test_importing_the_package_imports_none_of_its_parts() -> None:
    probe = "import sys, listrak_sync; print(sorted(m for m in sys.modules if 'listrak' in m))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "['listrak_sync', 'listrak_sync._exports']"
