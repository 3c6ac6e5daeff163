"""A campaign sync as a task of a scheduler (Airflow, Dagster, Prefect...).

The task functions take plain arguments and return plain data (what Airflow's XCom and
Dagster's outputs store); a sync that did not fully succeed raises, so the scheduler marks the
task failed and can retry it (a retried sync first finishes the interrupted run).

Airflow::

    from airflow.decorators import task

    sync_spring = task(retries=2)(sync_campaign_task)
    sync_spring(project_dir="/srv/listrak", campaign="spring_sale")

Dagster::

    from dagster import op

    @op
    async def sync_spring(context) -> dict:
        return await sync_campaign_task_async("/srv/listrak", "spring_sale")
"""

from __future__ import annotations

from typing import Any

import listrak_sync


def sync_campaign_task(project_dir: str, campaign: str, **context: Any) -> dict[str, Any]:
    """Sync ``campaign``; raise unless every destination succeeded. Returns the result as a
    dict (units, counts, exit code). Extra keyword arguments (the scheduler's context) are
    ignored."""
    result = listrak_sync.sync(project_dir, campaign)
    result.raise_for_status()  # RunsPartial, RemovalRefused, RunsLocked or RunsFailed
    return result.as_dict()


async def sync_campaign_task_async(project_dir: str, campaign: str) -> dict[str, Any]:
    """The same, for schedulers whose tasks run in an event loop."""
    result = await listrak_sync.sync_async(project_dir, campaign)
    result.raise_for_status()
    return result.as_dict()
