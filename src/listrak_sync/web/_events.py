"""``/events``: each event destination's mappings, queue depth and dead letters (admins put
them back in the queue), and the last pulls with their counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml
from starlette.responses import Response
from starlette.routing import BaseRoute

from ..api import runs
from ..events.deadletter import retry_dead_letters
from ..events.logs import contact_ref
from ..events.queue import Queue
from ..events.setup import load_setup
from ..masking import mask_text
from ..project.loader import Project
from ._app import Console, Page

__all__ = ["routes"]

_SHOWN = 100  # dead letters listed per destination
_PULLS = 10


def routes(console: Console) -> list[BaseRoute]:
    def page_(page: Page, message: str | None = None) -> Response:
        return page.render(
            "events.html",
            destinations=_destinations(page.project),
            pulls=[run for run in runs(page.project, limit=200) if run.kind == "pull"][:_PULLS],
            message=message,
        )

    def events(page: Page) -> Response:
        return page_(page)

    def replay(page: Page) -> Response:
        """Put the chosen dead letters (or all of one destination's) back in the queue; a
        running ``serve`` sends them within a second."""
        assert page.form is not None
        name = page.field("destination")
        if name not in page.project.config.destinations:
            return page.render("error.html", 404, heading="No such destination", lines=[name])
        ids = [int(v) for v in page.form.getlist("id") if isinstance(v, str) and v.isdigit()]
        if not ids and page.field("all") != "yes":
            return page_(page, "Choose dead letters to replay (or replay all).")
        setup = load_setup(project=page.project.root, destination=name, credentials=False)
        with Queue(setup.queue_path) as queue:
            report = retry_dead_letters(queue, setup.destination, ids=ids)
        return page_(
            page,
            f"{report.selected} dead letter(s): {report.requeued} update(s) queued again, "
            f"{report.superseded} superseded by newer values (removed), "
            f"{report.still_dead} refused again by the mapping.",
        )

    return [
        console.get("/events", "viewer", events),
        console.post("/events/replay", "admin", replay),
    ]


def _destinations(project: Project) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name, destination in project.config.destinations.items():
        if destination.type != "listrak_events":
            continue
        setup = load_setup(project=project.root, destination=name, credentials=False)
        mappings = [
            {
                "name": mapping_name,
                "enabled": mapping.enabled,
                "trigger": _brief(mapping.trigger.model_dump(mode="json", exclude_none=True)),
                "action": _brief(mapping.action.model_dump(mode="json", exclude_none=True)),
            }
            for mapping_name, mapping in setup.destination.mappings.items()
        ]
        row: dict[str, Any] = {"name": name, "mappings": mappings, "depth": 0, "dead": []}
        row["total_dead"] = 0
        if setup.queue_path.exists():
            with Queue(setup.queue_path) as queue:
                row["depth"] = queue.depth()
                row["total_dead"] = queue.dead_letter_count()
                row["dead"] = [
                    {
                        "id": item.id,
                        "failed_at": _when(item.failed_at),
                        "mapping": item.mapping,
                        "list_id": item.list_id,
                        "contact": contact_ref(item.email, pii=False) if item.email else "-",
                        "attempts": item.attempts,
                        "reason": mask_text(item.reason),
                    }
                    for item in queue.dead_letters(limit=_SHOWN)
                ]
        found.append(row)
    return found


def _brief(value: dict[str, Any]) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1000).strip()


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
