"""``/``: each destination with its last run, the schedules, the event queues; problems first."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import BaseRoute

from ..api import load_setup, runs
from ..errors import ListrakSyncError
from ..events.queue import Queue
from ..project.loader import Project
from ..state import Run
from ._app import Console, Page

__all__ = ["routes"]

log = logging.getLogger(__name__)

# Worst first: what needs a person comes to the top of the page.
_SEVERITY = {"failed": 0, "refused": 1, "locked": 2, "partial": 3, "interrupted": 4, "running": 5}
_HISTORY = 500  # runs looked at for each destination's last one


@dataclass(frozen=True)
class DestinationRow:
    name: str
    type: str
    last: Run | None

    @property
    def rank(self) -> int:
        if self.last is None:
            return 8
        return _SEVERITY.get(self.last.status, 9)


def routes(console: Console) -> list[BaseRoute]:
    def overview(page: Page) -> Response:
        project = page.project
        history = runs(project, limit=_HISTORY)
        rows = [
            DestinationRow(name, destination.type, _last_run(history, name))
            for name, destination in project.config.destinations.items()
        ]
        rows.sort(key=lambda row: (row.rank, row.name))
        return page.render(
            "overview.html",
            destinations=rows,
            schedules=_schedules(project),
            queues=_queues(project),
        )

    return [console.get("/", "viewer", overview)]


def _last_run(history: list[Run], destination: str) -> Run | None:
    """The latest run that sent to (or pulled from) ``destination``: sync targets read
    ``campaign/destination[/group]``, pulls and exports name the destination or source."""
    for run in history:
        parts = run.target.split("/")
        if (len(parts) > 1 and parts[1] == destination) or run.target == destination:
            return run
    return None


def _schedules(project: Project) -> list[dict[str, Any]]:
    """Each schedule's next run, pause and failures, as ``schedules list`` shows them."""
    if not project.config.schedules:
        return []
    from ..runtime._service import open_scheduler  # cronsim and friends only when needed

    rows: list[dict[str, Any]] = []
    with open_scheduler(project) as scheduler:
        now = scheduler.clock()
        for name, schedule in project.config.schedules.items():
            state = scheduler.state.schedule(name, now)
            fires = scheduler.next_fires(name, 1, after=max(now, state.last_fire or now))
            last = scheduler.state.runs(name, limit=1)
            zone = ZoneInfo(schedule.timezone)
            rows.append(
                {
                    "name": name,
                    "trigger": scheduler.describe(name),
                    "runs": [f"{kind} {target}" for kind, target in schedule.targets],
                    "next": fires[0].astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
                    if fires
                    else None,
                    "paused": state.paused,
                    "paused_reason": state.paused_reason,
                    "failures": state.failures,
                    "last": last[0] if last else None,
                }
            )
    rows.sort(key=lambda row: (not row["paused"], -row["failures"], row["name"]))
    return rows


def _queues(project: Project) -> list[dict[str, Any]]:
    """Depth and dead letters of each event destination's queue (one not created yet: empty)."""
    found: list[dict[str, Any]] = []
    for name, destination in project.config.destinations.items():
        if destination.type != "listrak_events":
            continue
        try:
            path = load_setup(project=project.root, destination=name, credentials=False).queue_path
        except ListrakSyncError as exc:
            found.append({"name": name, "error": str(exc)})
            continue
        if not path.exists():
            found.append({"name": name, "depth": 0, "dead": 0, "note": "no queue yet"})
            continue
        with Queue(path) as queue:
            found.append({"name": name, "depth": queue.depth(), "dead": queue.dead_letter_count()})
    found.sort(key=lambda row: (-int(row.get("dead", 0)), row["name"]))
    return found
