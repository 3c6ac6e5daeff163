"""Plan and sync a campaign from Python: the calls behind ``listrak-sync plan`` and ``sync``."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..sync.options import SyncOptions
from ._project import ProjectLike, checked
from ._results import SyncResult

if TYPE_CHECKING:
    from ..listrak import ListrakClient
    from ..sync.report import Reporter
    from ..warehouse import Warehouse

__all__ = ["plan", "plan_async", "sync", "sync_async"]


def sync(
    project: ProjectLike,
    campaign: str,
    *,
    dry_run: bool = False,
    full: bool = False,
    allow_large_removal: bool = False,
    destinations: Sequence[str] = (),
    as_of: dt.date | None = None,
    client: ListrakClient | None = None,
    warehouse: Warehouse | None = None,
    client_settings: Mapping[str, Any] | None = None,
    reporter: Reporter | None = None,
) -> SyncResult:
    """Bring each destination of ``campaign`` in step with its audience.

    ``project`` is a loaded project or its folder. The project is checked as ``validate``
    checks it first: a problem raises ``ProjectError`` before anything runs. An interrupted
    run of a destination is finished first. ``client`` and ``warehouse`` replace the ones the
    project describes (the caller opens and closes them); ``client_settings`` changes
    ``ClientSettings`` members of the clients the project describes. Runs its own event loop:
    inside a running one, ``await sync_async(...)``.
    """
    return asyncio.run(
        sync_async(
            project,
            campaign,
            dry_run=dry_run,
            full=full,
            allow_large_removal=allow_large_removal,
            destinations=destinations,
            as_of=as_of,
            client=client,
            warehouse=warehouse,
            client_settings=client_settings,
            reporter=reporter,
        )
    )


async def sync_async(
    project: ProjectLike,
    campaign: str,
    *,
    dry_run: bool = False,
    full: bool = False,
    allow_large_removal: bool = False,
    destinations: Sequence[str] = (),
    as_of: dt.date | None = None,
    client: ListrakClient | None = None,
    warehouse: Warehouse | None = None,
    client_settings: Mapping[str, Any] | None = None,
    reporter: Reporter | None = None,
) -> SyncResult:
    """:func:`sync` inside a running event loop (a notebook, an async task runner)."""
    loaded = checked(project, warehouse=warehouse, credentials=client is None)
    # The engine (pyarrow, DuckDB, sqlglot, the HTTP client) is imported once the project is
    # known to be good: a bad project or a typo is reported without loading it.
    from ..sync.engine import sync_campaign_async

    options = SyncOptions(
        dry_run=dry_run,
        full=full,
        allow_large_removal=allow_large_removal,
        destinations=tuple(destinations),
        client=dict(client_settings or {}),
    )
    units = await sync_campaign_async(
        loaded, campaign, options, reporter, as_of=as_of, client=client, warehouse=warehouse
    )
    return SyncResult(campaign=campaign, units=units, planned=dry_run)


def plan(
    project: ProjectLike,
    campaign: str,
    *,
    full: bool = False,
    destinations: Sequence[str] = (),
    as_of: dt.date | None = None,
    client: ListrakClient | None = None,
    warehouse: Warehouse | None = None,
    client_settings: Mapping[str, Any] | None = None,
    reporter: Reporter | None = None,
) -> SyncResult:
    """What :func:`sync` would do, per destination: counts, steps, sample rows. Sends nothing.

    Compares with the last snapshot, or (first run, ``full=True``) with what Listrak holds."""
    return asyncio.run(
        plan_async(
            project,
            campaign,
            full=full,
            destinations=destinations,
            as_of=as_of,
            client=client,
            warehouse=warehouse,
            client_settings=client_settings,
            reporter=reporter,
        )
    )


async def plan_async(
    project: ProjectLike,
    campaign: str,
    *,
    full: bool = False,
    destinations: Sequence[str] = (),
    as_of: dt.date | None = None,
    client: ListrakClient | None = None,
    warehouse: Warehouse | None = None,
    client_settings: Mapping[str, Any] | None = None,
    reporter: Reporter | None = None,
) -> SyncResult:
    """:func:`plan` inside a running event loop."""
    return await sync_async(
        project,
        campaign,
        dry_run=True,
        full=full,
        destinations=destinations,
        as_of=as_of,
        client=client,
        warehouse=warehouse,
        client_settings=client_settings,
        reporter=reporter,
    )
