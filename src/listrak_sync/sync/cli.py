"""``listrak-sync plan CAMPAIGN``, ``listrak-sync sync CAMPAIGN`` and ``listrak-sync runs [ID]``.

Renderers of ``listrak_sync.plan`` and ``listrak_sync.sync`` (api/_campaigns.py). The worst
audience unit decides the exit code of ``sync`` (the table is ``errors.ExitCode``): 0 succeeded
or nothing to do, 1 error (project, warehouse, Listrak, failed run), 2 bad command line, 3
partial (row failures recorded, retried next run), 4 refused by the removal guard, 5 another run
holds the lock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .. import api
from ..api import SyncResult
from ..masking import mask_text
from ..project.cli import ProjectOption
from ..project.loader import load_project
from ..records import print_records
from ..state import Run
from .options import client_settings_from_env
from .report import Reporter, UnitOutcome, step_summary
from .workspace import Workspace

__all__ = ["sync_app"]

sync_app = typer.Typer(help="Plan and run syncs, and look at past runs.")
console = Console()
errors = Console(stderr=True)

# Audience statuses whose name alone would not say why nothing was sent.
_SHOWN = {"forgotten": "suppressed (forgotten)"}

CampaignArgument = Annotated[str, typer.Argument(help="The campaign to sync (listrak-sync.yml).")]
FullOption = Annotated[
    bool,
    typer.Option("--full", help="Compare with what Listrak holds, not with the last snapshot."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document, no bars.")]
DestinationOption = Annotated[
    list[str] | None,
    typer.Option("--destination", "-d", help="Only this destination of the campaign (repeat)."),
]
ShowPiiOption = Annotated[
    bool,
    typer.Option("--show-pii", help="Show emails and phones unmasked (--json never masks)."),
]
AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Evaluate date conditions as of this day."),
]


class _Bars(Reporter):
    """Progress bars on stderr: audience rows read, then rows applied per step."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def _task(self, target: str, text: str) -> TaskID:
        if target not in self.tasks:
            self.tasks[target] = self.progress.add_task(f"{target}: {text}", total=None)
        return self.tasks[target]

    def phase(self, target: str, text: str) -> None:
        self.progress.update(self._task(target, text), description=f"{target}: {text}")

    def audience_rows(self, target: str, rows: int) -> None:
        self.progress.advance(self._task(target, "reading the audience"), rows)

    def steps(self, target: str, steps: list[tuple[str, int]]) -> None:
        task = self._task(target, "applying")
        self.progress.reset(task, total=sum(rows for _, rows in steps) or 1, completed=0)
        if not steps:
            self.progress.update(task, completed=1)

    def step_done(self, target: str, step_id: str, rows: int) -> None:
        self.progress.advance(self._task(target, "applying"), rows)


@contextmanager
def _reporter(quiet: bool) -> Iterator[Reporter]:
    if quiet:
        yield Reporter()
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )
    with progress:
        yield _Bars(progress)


@sync_app.command("plan")
def plan(
    campaign: CampaignArgument,
    project: ProjectOption = Path("."),
    full: FullOption = False,
    destination: DestinationOption = None,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
    show_pii: ShowPiiOption = False,
) -> None:
    """What a sync would do, per destination: counts, steps, sample rows. Nothing is sent.

    Reads the last snapshot, or (first run, --full) what Listrak holds."""
    with _reporter(as_json) as reporter:
        result = api.plan(
            project,
            campaign,
            full=full,
            destinations=destination or (),
            as_of=as_of.date() if as_of else None,
            client_settings=client_settings_from_env(),
            reporter=reporter,
        )
    _finish(result, as_json, show_pii=show_pii)


@sync_app.command("sync")
def sync(
    campaign: CampaignArgument,
    project: ProjectOption = Path("."),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; send nothing.")] = False,
    full: FullOption = False,
    allow_large_removal: Annotated[
        bool,
        typer.Option(
            "--allow-large-removal",
            help="Go ahead even if more than removal_guard of the members would be removed.",
        ),
    ] = False,
    destination: DestinationOption = None,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
    show_pii: ShowPiiOption = False,
) -> None:
    """Bring each destination of CAMPAIGN in step with its audience (resuming a killed run).

    Exit codes: 0 ok, 1 error, 2 usage, 3 partial (row failures), 4 removal guard, 5 locked."""
    with _reporter(as_json) as reporter:
        result = api.sync(
            project,
            campaign,
            dry_run=dry_run,
            full=full,
            allow_large_removal=allow_large_removal,
            destinations=destination or (),
            as_of=as_of.date() if as_of else None,
            client_settings=client_settings_from_env(),
            reporter=reporter,
        )
    _finish(result, as_json, show_pii=show_pii)


def _finish(result: SyncResult, as_json: bool, *, show_pii: bool = False) -> None:
    if as_json:
        console.print_json(json.dumps(result.as_dict(), default=str))
    else:
        for outcome in result.units:
            _print_unit(outcome, planning=result.planned, show_pii=show_pii)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


_STATUS_STYLE = {
    "planned": "cyan",
    "succeeded": "green",
    "partial": "yellow",
    "refused": "red",
    "locked": "red",
    "failed": "red",
}


# How a step reaches Listrak, where it is not one import: SMS contacts are added and removed one
# call per contact (only attribute updates are imports).
_STEP_VIA = {
    ("listrak_sms", "add"): "contact calls",
    ("listrak_sms", "unsubscribe"): "contact calls",
}


def _pii(text: str, show_pii: bool) -> str:
    return text if show_pii else mask_text(text)


def _target_line(info: dict[str, Any]) -> str:
    """Where the unit's rows go, in the destination's own terms."""
    line = f"list {info.get('list_name')!r} ({info['list_id']})"
    if info.get("sender_code_id") is not None:  # SMS: a phone list of a sender code
        code = info.get("sender_code")
        return f"{line} of sender code {info['sender_code_id']}" + (f" ({code})" if code else "")
    return f"{line}, audience field {info.get('segment_field')!r}, mode {info.get('mode')}"


def _print_unit(outcome: UnitOutcome, *, planning: bool, show_pii: bool = False) -> None:
    style = _STATUS_STYLE.get(outcome.status, "white")
    console.rule(f"[bold]{outcome.target}[/] ({outcome.kind}) [{style}]{outcome.status}[/]")
    for run in outcome.resumed:
        console.print(
            f"finished interrupted run {run.run_id}: {run.status}, {_counts_text(run.counts)}"
        )
    info = outcome.target_info
    if info.get("list_id"):
        console.print(_target_line(info), highlight=False)
    for created in info.get("created") or []:
        console.print(f"[green]created[/] {created}")
    for created in info.get("would_create") or []:
        console.print(f"[cyan]would create[/] {created}")
    plan = outcome.plan
    if plan is not None:
        table = Table(title="plan" + (f" (compared with {outcome.compared_with})"))
        for column in ("entering", "changed", "unchanged", "leaving", "members before"):
            table.add_column(column, justify="right")
        table.add_row(
            *(f"{plan.counts.get(c, 0):,}" for c in ("enter", "change", "same", "leave")),
            f"{plan.members:,}",
        )
        console.print(table)
        if plan.steps:
            steps = Table(title="steps")
            for column in ("step", "kind", "rows", "sent as"):
                steps.add_column(column, justify="right" if column == "rows" else "left")
                if column == "step":
                    steps.columns[-1].no_wrap = True
            for step in plan.steps:
                via = _STEP_VIA.get((outcome.kind, step.kind), "import")
                steps.add_row(step.step_id, step.kind, f"{step.rows:,}", via)
            console.print(steps)
    audience = outcome.audience.get("counts") or {}
    rejected = {k: v for k, v in audience.items() if k != "ok" and v}
    if rejected:
        console.print(
            "[yellow]not delivered[/] (row outcomes in `listrak-sync runs ID`): "
            + ", ".join(f"{_SHOWN.get(k, k)} {v:,}" for k, v in rejected.items())
        )
    if outcome.sample:
        sample = Table(title="sample rows" + ("" if show_pii else " (PII masked; --show-pii)"))
        names = ["change", "key"]
        for name in names:
            sample.add_column(name, no_wrap=True)
        for row in outcome.sample[:10]:
            sample.add_row(str(row.get("change")), _pii(str(row.get("key")), show_pii))
        console.print(sample)
    if outcome.run is not None and not planning:
        _print_run_counts(outcome.run)
    for warning in outcome.warnings:
        console.print(f"[bold yellow]warning[/]: {warning}", highlight=False)
    if outcome.error:
        errors.print(f"[bold red]{outcome.status}[/]: {outcome.error}", highlight=False)
    if not planning and (hint := _next_sync(outcome)):
        errors.print(hint, highlight=False)


def _next_sync(outcome: UnitOutcome) -> str | None:
    """What the next ``sync`` does about a run that did not finish cleanly."""
    run = outcome.run
    if run is None:
        return None
    command = f"`listrak-sync sync {outcome.target.split('/')[0]}`"
    if outcome.status == "failed" and run.details.get("resumable"):
        return f"the next {command} resumes run {run.run_id} where it stopped"
    if outcome.status == "partial":
        failed = int(run.counts.get("failed", 0))
        return f"the next {command} retries the {failed:,} failed rows"
    return None


def _counts_text(counts: dict[str, int]) -> str:
    shown = [f"{k} {v:,}" for k, v in counts.items() if v]
    return ", ".join(shown) or "nothing to do"


def _print_run_counts(run: Run) -> None:
    table = Table(title=f"run {run.run_id}")
    names = ["added", "applied", "declined", "failed", "absent", "rejected"]
    for name in names:
        table.add_column(name, justify="right")
    table.add_row(*(f"{run.counts.get(n, 0):,}" for n in names))
    console.print(table)
    results = run.details.get("results") or {}
    if results:
        console.print("Listrak results: " + ", ".join(f"{k} {v:,}" for k, v in results.items()))


# --- runs ------------------------------------------------------------------------------------


@sync_app.command("runs")
def runs(
    run_id: Annotated[str | None, typer.Argument(help="Show this run in detail.")] = None,
    project: ProjectOption = Path("."),
    limit: Annotated[int, typer.Option(help="How many runs to list.", min=1)] = 20,
    outcomes: Annotated[
        int,
        typer.Option(help="Row outcomes to show for a run (declined, failed, rejected).", min=0),
    ] = 20,
    export: Annotated[
        str | None,
        typer.Option(
            "--export-outcomes",
            help="Append the run's row outcomes to this warehouse table.",
        ),
    ] = None,
    unlock: Annotated[
        str | None,
        typer.Option("--unlock", help="Remove a stale lock (as named by the error)."),
    ] = None,
    abandon: Annotated[
        bool,
        typer.Option(
            "--abandon",
            help="Give up finishing run ID (the next sync plans afresh from the last snapshot).",
        ),
    ] = False,
    as_json: JsonOption = False,
    show_pii: ShowPiiOption = False,
) -> None:
    """Run history (latest first), or one run: counts, imports, row outcomes."""
    loaded = load_project(project)
    if unlock is not None:
        removed = api.unlock(loaded, unlock)
        console.print(f"{unlock}: {'unlocked' if removed else 'was not locked'}")
        return
    if run_id is None:
        found = api.runs(loaded, limit=limit)
        if not found and not Workspace.for_project(loaded).has_state():
            errors.print("no runs yet (the state store does not exist)")
            return
        _list_runs(found, as_json)
        return
    if abandon:
        api.abandon_run(loaded, run_id)
        console.print(f"run {run_id} abandoned")
        return
    if export is not None:
        count = api.export_outcomes(loaded, run_id, export)
        console.print(f"appended {count:,} row outcomes to {export}")
        return
    _show_run(api.run_detail(loaded, run_id, outcomes=outcomes), as_json, show_pii=show_pii)


def _run_dict(run: Run) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "kind": run.kind,
        "target": run.target,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "counts": run.counts,
        "error": run.error,
    }


def _list_runs(found: list[Run], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps([_run_dict(r) for r in found]))
        return
    rows = []
    for run in found:
        style = _STATUS_STYLE.get(run.status, "white")
        rows.append(
            [
                run.run_id,
                run.target,
                f"[{style}]{run.status}[/]",
                run.started_at[:19].replace("T", " "),
                f"{run.counts.get('enter', 0):,}",
                f"{run.counts.get('leave', 0):,}",
                f"{run.counts.get('change', 0):,}",
                f"{run.counts.get('failed', 0):,}",
            ]
        )
    numbers = ("entering", "leaving", "changed", "failed")
    columns = ("run", "target", "status", "started", *numbers)
    print_records(console, "runs", columns, rows, ids={"run"}, right=numbers)


def _show_run(detail: api.RunDetail, as_json: bool, *, show_pii: bool = False) -> None:
    run, steps = detail.run, detail.steps
    counts, listed = detail.outcome_counts, detail.outcomes
    if as_json:
        document = {
            **_run_dict(run),
            "details": run.details,
            "steps": [
                {
                    "step_id": s.step_id,
                    "kind": s.kind,
                    "status": s.status,
                    "external_id": s.external_id,
                    "payload": s.payload,
                    "result": s.result,
                }
                for s in steps
            ],
            "outcome_counts": counts,
            "outcomes": [o.__dict__ for o in listed],
        }
        console.print_json(json.dumps(document, default=str))
        return
    style = _STATUS_STYLE.get(run.status, "white")
    console.rule(f"run {run.run_id} [{style}]{run.status}[/]")
    console.print(f"{run.kind} {run.target}, started {run.started_at}, finished {run.finished_at}")
    if run.error:
        console.print(f"[red]error[/]: {run.error}", highlight=False)
    console.print("counts: " + _counts_text(run.counts))
    timings = run.details.get("timings") or {}
    if timings:
        console.print("seconds: " + ", ".join(f"{k} {float(v):.1f}" for k, v in timings.items()))
    cpu = run.details.get("cpu_seconds") or {}
    if cpu:
        console.print("CPU seconds: " + ", ".join(f"{k} {float(v):.1f}" for k, v in cpu.items()))
    if steps:
        rows = [
            [
                step.step_id,
                step.kind,
                step.status,
                f"{int(step.payload.get('rows', 0)):,}",
                step.external_id or "",
                step_summary(step.result or {}),
            ]
            for step in steps
        ]
        columns = ("step", "kind", "status", "rows", "import", "summary")
        print_records(console, "steps", columns, rows, ids={"step", "import"}, right={"rows"})
    if counts:
        console.print("row outcomes: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        masked = "" if show_pii else " (PII masked; --show-pii)"
        table = Table(title=f"first {len(listed)} row outcomes{masked}")
        for column in ("key", "outcome", "field", "reason"):
            table.add_column(column, no_wrap=column == "key")
        for outcome in listed:
            table.add_row(
                _pii(outcome.key, show_pii),
                outcome.outcome,
                outcome.field or "",
                _pii(outcome.reason or "", show_pii),
            )
        console.print(table)
