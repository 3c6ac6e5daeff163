"""Uses of the public API that must type-check under mypy --strict (tests/test_typing.py).

Never run; mypy reads it, as stamina's tests/typing does.
"""

from __future__ import annotations

import asyncio

import listrak_sync
from listrak_sync import ExitCode, ListrakSyncError, Project, PullReport, SyncResult
from listrak_sync.errors import RemovalRefused


def sync_in_five_lines() -> int:
    project: Project = listrak_sync.load_project("my-project")
    result: SyncResult = listrak_sync.sync(project, "spring_sale", allow_large_removal=False)
    statuses: list[str] = [unit.status for unit in result.units]
    assert statuses
    return result.raise_for_status().exit_code


def plan_by_folder() -> bool:
    result = listrak_sync.plan("my-project", "spring_sale", full=True, destinations=["email"])
    return result.ok and result.planned


async def in_a_running_loop() -> PullReport:
    synced = await listrak_sync.sync_async("my-project", "spring_sale", dry_run=True)
    assert synced.exit_code in (ExitCode.OK, ExitCode.PARTIAL)
    await listrak_sync.plan_async("my-project", "spring_sale")
    report = await listrak_sync.pull_async("my-project", "email_state", full=True)
    exported = await listrak_sync.export_async("my-project", ["customers"], to="dir", out="files")
    assert not exported.failed
    exported.raise_for_status()
    return report


def errors() -> int:
    try:
        listrak_sync.pull("my-project").raise_for_status()
    except RemovalRefused as exc:
        return exc.exit_code
    except ListrakSyncError as exc:
        hint: str | None = exc.hint
        lines: list[tuple[str, str | None]] = exc.report()
        assert hint is None or lines
        return exc.exit_code
    return asyncio.run(in_a_running_loop()).exit_code


version: str = listrak_sync.__version__
