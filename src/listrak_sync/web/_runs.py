"""``/runs``: run history, one run's steps and row outcomes, the outcomes as CSV, and an admin's
approval of a removal the guard stopped."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from ..api import RunDetail, run_detail, runs, sync
from ..errors import ListrakSyncError
from ..masking import mask_text
from ..state import RowOutcome
from ..sync.report import step_summary
from ._app import Console, Page
from ._jobs import Jobs

__all__ = ["routes"]

_STATUSES = ("succeeded", "partial", "failed", "refused", "locked", "interrupted", "running")
_SHOWN = 200  # row outcomes on the page; the CSV has them all


def routes(console: Console) -> list[BaseRoute]:
    def history(page: Page) -> Response:
        status, search = page.field("status"), page.field("q").strip()
        found = runs(page.project, limit=int(page.field("limit") or 100))
        shown = [
            run
            for run in found
            if (not status or run.status == status) and (search.lower() in run.target.lower())
        ]
        return page.render(
            "runs.html", runs=shown, statuses=_STATUSES, status=status, q=search,
            chart=_chart(list(reversed(shown[:30]))),
        )  # fmt: skip

    def detail(page: Page) -> Response:
        found = _detail(page)
        if isinstance(found, Response):
            return found
        show_pii = page.user.sees_pii and page.field("pii") == "1"
        outcome, search = page.field("outcome"), page.field("q").strip()
        listed = _filtered(found.outcomes, outcome, search)
        return page.render(
            "run.html",
            detail=found,
            run=found.run,
            steps=[(step, step_summary(step.result or {})) for step in found.steps],
            outcomes=[_shown(o, show_pii) for o in listed[:_SHOWN]],
            matching=len(listed),
            outcome=outcome,
            q=search,
            show_pii=show_pii,
            guard=found.run.status == "refused" and found.run.kind == "sync",
            plan=found.run.details.get("plan") or {},
        )

    def outcomes_csv(page: Page) -> Response:
        found = _detail(page)
        if isinstance(found, Response):
            return found
        show_pii = page.user.sees_pii and page.field("pii") == "1"
        listed = _filtered(found.outcomes, page.field("outcome"), page.field("q").strip())
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["run_id", "key", "outcome", "field", "reason"])
        for row in listed:
            shown = _shown(row, show_pii)
            writer.writerow(
                [_cell(v) for v in (found.run.run_id, shown.key, shown.outcome, shown.field,
                                    shown.reason)]
            )  # fmt: skip
        name = f"{found.run.run_id}-outcomes{'' if show_pii else '-masked'}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    def approve(page: Page) -> Response:
        """Run the sync the guard stopped again, allowing the large removal, for this one
        destination (admins only: the counts were on the page that posted here)."""
        return _sync_again(page, "refused", approved=True)

    def retry(page: Page) -> Response:
        """Sync the destination of a partial run again: the sync retries the rows that failed
        (and sends whatever else changed since)."""
        return _sync_again(page, "partial", approved=False)

    def _sync_again(page: Page, status: str, *, approved: bool) -> Response:
        found = _detail(page)
        if isinstance(found, Response):
            return found
        run = found.run
        parts = run.target.split("/")
        if run.status != status or run.kind != "sync" or len(parts) < 2:
            return page.render(
                "error.html", 409, heading="Nothing to do",
                lines=[f"run {run.run_id} is {run.status}, not {status}"],
            )  # fmt: skip
        campaign, destination = parts[0], parts[1]
        job = Jobs.new(
            "sync", campaign, page.user.name, destinations=(destination,), approved_removal=approved
        )
        root = page.project.root
        console.jobs.start(
            job,
            lambda reporter: sync(
                root,
                campaign,
                destinations=[destination],
                allow_large_removal=approved,
                client_settings=console.client_settings,
                reporter=reporter,
            ),
        )
        return RedirectResponse(f"/jobs/{job.job_id}", status_code=303)

    return [
        console.get("/runs", "viewer", history),
        console.get("/runs/{run_id}", "viewer", detail),
        console.get("/runs/{run_id}/outcomes.csv", "viewer", outcomes_csv),
        console.post("/runs/{run_id}/approve", "admin", approve),
        console.post("/runs/{run_id}/retry", "marketer", retry),
    ]  # fmt: skip


def _detail(page: Page) -> RunDetail | Response:
    run_id = page.request.path_params["run_id"]
    try:
        return run_detail(page.project, run_id, outcomes=None)
    except ListrakSyncError as exc:
        return page.render("error.html", 404, heading="No such run", lines=[str(exc)])


_PHONE = re.compile(r"^[+-][\d*() .-]*$")


def _cell(value: str | None) -> str:
    """A CSV cell a spreadsheet shows as text: a value from the warehouse that starts like a
    formula (``=``, ``@``, ``+`` or ``-`` not followed by a phone number) gets a leading quote."""
    text = value or ""
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in ("+", "-") and not _PHONE.match(text)):
        return "'" + text
    return text


def _filtered(rows: list[RowOutcome], outcome: str, search: str) -> list[RowOutcome]:
    lowered = search.lower()
    return [
        row
        for row in rows
        if (not outcome or row.outcome == outcome)
        and (not lowered or lowered in row.key.lower() or lowered in (row.reason or "").lower())
    ]


def _shown(row: RowOutcome, show_pii: bool) -> RowOutcome:
    if show_pii:
        return row
    return RowOutcome(
        key=mask_text(row.key),
        outcome=row.outcome,
        field=row.field,
        reason=mask_text(row.reason) if row.reason else row.reason,
    )


def _chart(history: list[Any]) -> dict[str, Any]:
    """Entering, leaving, changed and failed rows and the duration per run, oldest first, as
    SVG bar geometry."""
    measures = (("enter", "entering"), ("leave", "leaving"), ("change", "changed"),
                ("failed", "failed"))  # fmt: skip
    highest = max([int(run.counts.get(k, 0)) for run in history for k, _ in measures] or [0])
    bars = []
    width = 14
    for index, run in enumerate(history):
        for offset, (key, label) in enumerate(measures):
            value = int(run.counts.get(key, 0))
            height = 0 if not highest else round(100 * value / highest)
            bars.append(
                {
                    "x": index * (len(measures) * width + 10) + offset * width,
                    "y": 110 - height,
                    "height": height,
                    "kind": key,
                    "title": f"{run.run_id} {label} {value:,}",
                }
            )
    seconds = [_duration(run) for run in history]
    longest = max([d for d in seconds if d is not None] or [0.0])
    durations = []
    for index, (run, d) in enumerate(zip(history, seconds, strict=True)):
        height = 0 if not longest or d is None else max(1, round(100 * d / longest))
        durations.append(
            {
                "x": index * (len(measures) * width + 10),
                "y": 110 - height,
                "height": height,
                "title": f"{run.run_id} " + ("unfinished" if d is None else f"{d:,.1f} s"),
            }
        )
    return {
        "bars": bars,
        "durations": durations,
        "longest": longest,
        "width": max(1, len(history)) * (len(measures) * width + 10),
        "runs": len(history),
    }


def _duration(run: Any) -> float | None:
    if not run.finished_at:
        return None
    try:
        started = datetime.fromisoformat(run.started_at)
        finished = datetime.fromisoformat(run.finished_at)
    except ValueError:
        return None
    return max(0.0, (finished - started).total_seconds())
