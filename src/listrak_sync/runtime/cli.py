"""``listrak-sync scheduler``, ``listrak-sync schedules ...`` and ``listrak-sync alerts test``.

Exit codes: 0 ok, 1 error (project, unknown name, a triggered run that failed, an alert that
could not be sent), 3 a triggered run was partial, 4 refused by the removal guard, 5 another
scheduler runs this project.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import structlog
import typer
from rich.console import Console
from rich.table import Table

from ..project.cli import ProjectOption, print_problems
from ..project.loader import Project, load_project
from ..project.problems import ProjectError
from ._alerts import Notice
from ._channels import AlertDeliveryError
from ._service import SchedulerBusy, channels_for, open_scheduler, run_forever

__all__ = ["alerts_app", "scheduler", "schedules_app"]


console = Console()
errors = Console(stderr=True)

schedules_app = typer.Typer(
    help="Schedules: list them with their next runs; trigger, pause, resume."
)
alerts_app = typer.Typer(help="Alert channels: send a test message.")

NameArgument = Annotated[str, typer.Argument(help="The schedule (listrak-sync.yml `schedules:`).")]

_EXIT = {"succeeded": 0, "partial": 3, "refused": 4, "locked": 5, "skipped": 0}


def _load(project: Path) -> Project:
    try:
        return load_project(project)
    except ProjectError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None


def _known(loaded: Project, name: str) -> None:
    if name not in loaded.config.schedules:
        known = ", ".join(sorted(loaded.config.schedules)) or "none"
        errors.print(f"[bold red]error[/]: no schedule named {name!r} (schedules: {known})")
        raise typer.Exit(1)


def _logging(log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processor=structlog.processors.JSONRenderer(sort_keys=True),
                foreign_pre_chain=[
                    structlog.stdlib.ExtraAdder(),  # schedule, run_id, destination, phase
                    structlog.stdlib.add_log_level,
                    structlog.stdlib.add_logger_name,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                ],
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("listrak_sync")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def scheduler(
    ctx: typer.Context,
    project: ProjectOption = Path("."),
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve /metrics and /healthz here (default: scheduler.metrics_port)."),
    ] = None,
) -> None:
    """Run the project's schedules in the foreground until SIGTERM or Ctrl-C.

    Runs stop at a safe point on SIGTERM and resume at the next start. Log lines follow the
    root option: `listrak-sync --log-format json scheduler` writes one JSON object a line."""
    _logging(str(ctx.find_root().params.get("log_format") or "text"))
    loaded = _load(project)
    if not loaded.config.schedules:
        errors.print("[bold red]error[/]: no schedules (add a `schedules:` section)")
        raise typer.Exit(1)

    def ready(found: Any, server: Any) -> None:
        logging.getLogger("listrak_sync.scheduler").info(
            "scheduler started: %d schedules; metrics on %s/metrics",
            len(loaded.config.schedules),
            server.base_url,
        )

    try:
        run_forever(loaded, metrics_port=metrics_port, on_ready=ready)
    except SchedulerBusy as exc:
        errors.print(f"[bold red]error[/]: another scheduler runs this project: {exc}")
        raise typer.Exit(5) from None


@schedules_app.command("list")
def list_schedules(
    project: ProjectOption = Path("."),
    count: Annotated[int, typer.Option("--next", help="How many next runs to show.", min=1)] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Each schedule: what it runs, its next runs in its own zone and in UTC, pause, failures."""
    loaded = _load(project)
    rows: list[dict[str, Any]] = []
    with open_scheduler(loaded) as found:
        now = found.clock()
        for name, schedule in loaded.config.schedules.items():
            state = found.state.schedule(name, now)
            fires = found.next_fires(name, count, after=max(now, state.last_fire or now))
            zone = ZoneInfo(schedule.timezone)
            last = found.state.runs(name, limit=1)
            rows.append(
                {
                    "name": name,
                    "trigger": found.describe(name),
                    "timezone": schedule.timezone,
                    "runs": [f"{kind} {target}" for kind, target in schedule.targets],
                    "next": [
                        {"local": f.astimezone(zone).isoformat(), "utc": f.isoformat()}
                        for f in fires
                    ],
                    "paused": state.paused,
                    "paused_reason": state.paused_reason,
                    "failures": state.failures,
                    "last_run": {"run_id": last[0].run_id, "status": last[0].status}
                    if last
                    else None,
                }
            )
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table(title="schedules")
    for column in ("schedule", "trigger", "runs", "next runs (local / UTC)", "state", "last run"):
        table.add_column(column)
    for row in rows:
        nexts = "\n".join(
            f"{n['local'][:16].replace('T', ' ')} {row['timezone']} / "
            f"{n['utc'][:16].replace('T', ' ')} UTC"
            for n in row["next"]
        )
        shown = "[red]paused[/]" if row["paused"] else "[green]active[/]"
        if row["paused_reason"]:
            shown += f"\n{row['paused_reason']}"
        last = row["last_run"]
        table.add_row(
            row["name"],
            row["trigger"],
            "\n".join(row["runs"]),
            nexts or "-",
            shown,
            f"{last['run_id']}\n{last['status']}" if last else "-",
        )
    console.print(table)


@schedules_app.command("trigger")
def trigger(name: NameArgument, project: ProjectOption = Path(".")) -> None:
    """Run schedule NAME now, in the foreground, and wait for it (alerts as scheduled runs)."""
    loaded = _load(project)
    _known(loaded, name)
    with open_scheduler(loaded) as found:
        run = found.run_now(name, poll=lambda: time.sleep(0.2))
    result = run.detail.get("result") or {}
    console.print(f"run {run.run_id}: {run.status}")
    if run.status == "skipped":
        console.print(run.detail.get("skipped", ""))
    for target in result.get("targets", []):
        line = f"  {target['kind']} {target['destination']}: {target['status']}"
        if target.get("run_id"):
            line += f" (listrak-sync runs {target['run_id']})"
        console.print(line, highlight=False)
        if target.get("error"):
            console.print(f"    {target['error']}", highlight=False)
    if result.get("error"):
        errors.print(f"[bold red]error[/]: {result['error']}", highlight=False)
    code = _EXIT.get(run.status, 1)
    if code:
        raise typer.Exit(code)


@schedules_app.command("pause")
def pause(name: NameArgument, project: ProjectOption = Path(".")) -> None:
    """Pause schedule NAME: its fires are recorded as missed until it is resumed."""
    loaded = _load(project)
    _known(loaded, name)
    with open_scheduler(loaded) as found:
        found.pause(name)
    console.print(f"{name}: paused")


@schedules_app.command("resume")
def resume(name: NameArgument, project: ProjectOption = Path(".")) -> None:
    """Resume schedule NAME (also after it paused itself): its failure count starts again."""
    loaded = _load(project)
    _known(loaded, name)
    with open_scheduler(loaded) as found:
        found.resume(name)
    console.print(f"{name}: resumed")


@alerts_app.command("test")
def send_test(
    channel: Annotated[str, typer.Argument(help="The channel (`alerts.channels`).")],
    project: ProjectOption = Path("."),
) -> None:
    """Send a test message to CHANNEL."""
    loaded = _load(project)
    channels = channels_for(loaded)
    if channel not in channels.config.channels:
        known = ", ".join(channels.names()) or "none"
        errors.print(f"[bold red]error[/]: no alert channel named {channel!r} (channels: {known})")
        raise typer.Exit(1)
    from datetime import datetime

    notice = Notice(
        key=f"test/{channel}",
        schedule="test",
        condition="test",
        active=True,
        title=f"test message for channel {channel!r}",
        text=f"listrak-sync can reach this channel (project {loaded.config.name!r}, "
        f"sent {datetime.now(UTC).isoformat(timespec='seconds')}).",
    )
    try:
        channels.send(channel, notice)
    except (AlertDeliveryError, ProjectError) as exc:
        errors.print(f"[bold red]error[/]: {exc}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"sent a test message to {channel!r}")
