"""``/events``: each event destination's mappings, queue depth and dead letters (admins put
them back in the queue), and the last pulls with their counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import yaml
from starlette.responses import Response
from starlette.routing import BaseRoute

from ..api import load_setup, runs
from ..events.deadletter import retry_dead_letters
from ..events.logs import contact_ref
from ..events.queue import Queue
from ..masking import mask_text, mask_value
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

    def inspect(page: Page) -> Response:
        """One dead letter: what was to be sent, the event it came from, and why it failed
        (emails, phones and quoted values masked unless an admin asks)."""
        name = page.request.path_params["destination"]
        if name not in page.project.config.destinations:
            return page.render("error.html", 404, heading="No such destination", lines=[name])
        show_pii = page.user.sees_pii and page.field("pii") == "1"
        setup = load_setup(project=page.project.root, destination=name, credentials=False)
        item_id = int(page.request.path_params["item"])
        found = []
        if setup.queue_path.exists():
            with Queue(setup.queue_path) as queue:
                found = queue.dead_letters(ids=[item_id])
        if not found:
            return page.render(
                "error.html", 404, heading="No such dead letter", lines=[str(item_id)]
            )
        item = found[0]
        shown = (lambda text: text) if show_pii else mask_text
        fields = [
            (str(getattr(ref, "name", ref)), value if show_pii else mask_value(value))
            for ref, value in item.fields or ()
        ]
        event = json.dumps(item.event, indent=2, ensure_ascii=False) if item.event else ""
        return page.render(
            "dead_letter.html", destination=name, item=item, fields=fields,
            contact=contact_ref(item.email, pii=show_pii) if item.email else "-",
            reason=shown(item.reason), event=shown(event), show_pii=show_pii,
            failed_at=_when(item.failed_at), received_at=_when(item.received_at),
        )  # fmt: skip

    return [
        console.get("/events", "viewer", events),
        console.get("/events/{destination}/dead-letters/{item:int}", "viewer", inspect),
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
