"""``/campaigns``: the list, one campaign's preview (who each destination receives, PII
masked), and its plan and sync, run as jobs off the request path (``/jobs/ID`` shows their
progress and outcome; a removal the guard stopped waits for an admin's approval there)."""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from ..api import plan, sync
from ..audiences.campaigns import STATUSES, CampaignAudience
from ..audiences.errors import AudienceError
from ..config.destinations import EmailDestination, SmsDestination
from ..masking import mask_row, mask_text
from ..project.problems import ProjectError
from ._app import Console, Page
from ._campaign_form import CampaignDraft
from ._jobs import Jobs
from ._project_file import (
    CHANGED_ON_DISK,
    NAME,
    Edit,
    FileChanged,
    entry_edit,
    file_hash,
    write_edit,
)
from ._segments import warehouse

__all__ = ["routes"]

_SAMPLE = 5


def routes(console: Console) -> list[BaseRoute]:
    def listing(page: Page) -> Response:
        return page.render("campaigns.html", campaigns=page.project.config.campaigns)

    def detail(page: Page) -> Response:
        name = page.request.path_params["name"]
        campaign = page.project.config.campaigns.get(name)
        if campaign is None:
            return page.render("error.html", 404, heading="No such campaign", lines=[name])
        return page.render("campaign.html", name=name, campaign=campaign)

    def preview(page: Page) -> Response:
        name = page.request.path_params["name"]
        show_pii = page.user.sees_pii and page.field("pii") == "1"
        units: list[dict[str, Any]] = []
        with warehouse(page.project) as opened:
            try:
                audience = CampaignAudience(page.project.config, opened, name)
                sizes = audience.group_sizes()
                for unit in audience.units():
                    report = unit.counts()
                    groups = unit.rows.groups if unit.group is None else [unit.group]
                    destination = unit.rows.destination
                    sample: list[dict[str, Any]] = []
                    if isinstance(destination, EmailDestination | SmsDestination):
                        sample = unit.sample(_SAMPLE).to_pylist()
                        if not show_pii:
                            sample = [mask_row(r, email="email", phone="phone") for r in sample]
                    units.append(
                        {
                            "label": unit.destination
                            + (f" / group {unit.group}" if unit.group else ""),
                            "type": destination.type,
                            "audience": unit.audience_name,
                            "rows": [(g, [report.total(s, g) for s in STATUSES]) for g in groups],
                            "total": [report.total(s) for s in STATUSES],
                            "sample": sample,
                            "no_consent": isinstance(destination, SmsDestination)
                            and not destination.require_consent,
                        }
                    )
            except AudienceError as exc:
                return page.render("error_fragment.html", lines=[str(i) for i in exc.issues])
        return page.render(
            "preview.html", name=name, sizes=sizes, units=units, statuses=STATUSES,
            show_pii=show_pii,
        )  # fmt: skip

    def start_plan(page: Page) -> Response:
        name = _known(page)
        if isinstance(name, Response):
            return name
        job = Jobs.new("plan", name, page.user.name)
        root = page.project.root
        console.jobs.start(
            job,
            lambda reporter: plan(
                root, name, client_settings=console.client_settings, reporter=reporter
            ),
        )
        return RedirectResponse(f"/jobs/{job.job_id}", status_code=303)

    def confirm_sync(page: Page) -> Response:
        name = _known(page)
        if isinstance(name, Response):
            return name
        campaign = page.project.config.campaigns[name]
        targets = sorted({d for group in campaign.groups for d in group.destinations})
        return page.render("confirm_sync.html", name=name, campaign=campaign, targets=targets)

    def start_sync(page: Page) -> Response:
        name = _known(page)
        if isinstance(name, Response):
            return name
        if page.field("confirm") != "yes":
            return RedirectResponse(f"/campaigns/{name}/sync", status_code=303)
        job = Jobs.new("sync", name, page.user.name)
        root = page.project.root
        console.jobs.start(
            job,
            lambda reporter: sync(
                root, name, client_settings=console.client_settings, reporter=reporter
            ),
        )
        return RedirectResponse(f"/jobs/{job.job_id}", status_code=303)

    def job_page(page: Page) -> Response:
        job = console.jobs.get(page.request.path_params["job_id"])
        if job is None:
            return page.render(
                "error.html", 404, heading="No such job",
                lines=["Jobs are kept while the console runs; the runs page has every run."],
            )  # fmt: skip
        template = "job_status.html" if page.field("part") == "status" else "job.html"
        units = []
        if job.result is not None:
            for unit in job.result.units:
                units.append(
                    {
                        "unit": unit,
                        "sample": [
                            {"change": row.get("change"), "key": mask_text(str(row.get("key")))}
                            for row in unit.sample[:10]
                        ],
                        "warnings": [mask_text(w) for w in unit.warnings],
                        "error": mask_text(unit.error) if unit.error else None,
                    }
                )
        return page.render(template, job=job, units=units)

    def new(page: Page) -> Response:
        return _form_page(page, CampaignDraft(base=_base(page)))

    def edit(page: Page) -> Response:
        name = _known(page)
        if isinstance(name, Response):
            return name
        draft = CampaignDraft.of(name, page.project.config.campaigns[name])
        draft.base = _base(page)
        return _form_page(page, draft)

    def redraw(page: Page) -> Response:
        assert page.form is not None
        return _form_page(page, CampaignDraft.from_form(page.form))

    def review(page: Page) -> Response:
        found = _edit(page)
        if isinstance(found, Response):
            return found
        draft, edit = found
        problems = [str(p) for p in edit.problems]
        return page.render("campaign_review.html", draft=draft, edit=edit, problems=problems)

    def save(page: Page) -> Response:
        found = _edit(page)
        if isinstance(found, Response):
            return found
        draft, edit = found
        try:
            write_edit(page.project.root, edit)
        except FileChanged:
            return _form_page(page, draft, 409, [CHANGED_ON_DISK])
        except ProjectError as exc:
            problems = [str(p) for p in exc.problems]
            return page.render("campaign_review.html", 400, draft=draft, edit=edit,
                               problems=problems)  # fmt: skip
        return RedirectResponse(f"/campaigns/{draft.name}?saved=1", status_code=303)

    def _edit(page: Page) -> tuple[CampaignDraft, Edit] | Response:
        assert page.form is not None
        draft = CampaignDraft.from_form(page.form)
        campaigns = page.project.config.campaigns
        errors = draft.problems()
        if not NAME.fullmatch(draft.name):
            errors.insert(0, "A campaign name starts with a letter, then letters, digits, _ or -.")
        elif draft.name in campaigns and draft.name != draft.original:
            errors.insert(0, f"There is already a campaign named {draft.name}.")
        if errors:
            return _form_page(page, draft, 400, errors)
        try:
            existing = campaigns.get(draft.original) if draft.original else None
            edit = entry_edit(
                page.project, draft.base, "campaigns", draft.name, draft.values(existing),
                original=draft.original,
            )  # fmt: skip
        except FileChanged:
            return _form_page(page, draft, 409, [CHANGED_ON_DISK])
        return draft, edit

    def _form_page(
        page: Page, draft: CampaignDraft, status: int = 200, errors: list[str] | None = None
    ) -> Response:
        config = page.project.config
        destinations = [
            name
            for name, d in config.destinations.items()
            if d.type in ("listrak_email", "listrak_sms")
        ]
        return page.render(
            "campaign_form.html", status, draft=draft, errors=errors or [],
            segments=list(config.segments), destinations=destinations,
        )  # fmt: skip

    return [
        console.get("/campaigns", "viewer", listing),
        console.get("/campaigns/new", "marketer", new),
        console.post("/campaigns/form", "marketer", redraw),
        console.post("/campaigns/review", "marketer", review),
        console.post("/campaigns/save", "marketer", save),
        console.get("/campaigns/{name}/edit", "marketer", edit),
        console.get("/campaigns/{name}", "viewer", detail),
        console.get("/campaigns/{name}/preview", "viewer", preview),
        console.post("/campaigns/{name}/plan", "marketer", start_plan),
        console.get("/campaigns/{name}/sync", "marketer", confirm_sync),
        console.post("/campaigns/{name}/sync", "marketer", start_sync),
        console.get("/jobs/{job_id}", "viewer", job_page),
    ]  # fmt: skip


def _base(page: Page) -> str:
    return file_hash(page.project.config_file.read_text(encoding="utf-8"))


def _known(page: Page) -> str | Response:
    name: str = page.request.path_params["name"]
    if name not in page.project.config.campaigns:
        return page.render("error.html", 404, heading="No such campaign", lines=[name])
    return name
