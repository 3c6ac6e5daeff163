"""``listrak-sync pull [NAME] [--full]``: Listrak subscriber state into the warehouse.

Exit codes: 0 every source pulled (events delivered), 1 an error (project, warehouse, Listrak),
3 pulled but some events are still queued or were refused (they are retried on the next pull),
5 another pull of the source is running.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from ..listrak import ClientSettings, Credentials, ListrakClient, ListrakError
from ..project import Project, ProjectError, load_project, load_section, resolve_listrak
from ..project.cli import ProjectOption, print_problems
from ..project.secrets import resolve_secret
from ..project.yaml_marks import Marked
from ..records import print_records
from ..state import LockHeld
from ..sync.hooks import checkpoint
from ..sync.workspace import Workspace
from ..warehouse import WarehouseError, connect
from .config import EventsConfig, HttpSink, Source
from .pull import Puller, PullOptions, PullResult
from .sinks import EventSink, HttpEventSink, JsonlEventSink, Outbox
from .streams import MAX_PAGE_SIZE, Progress

__all__ = ["OUTBOX_FILE", "pull"]

OUTBOX_FILE = "events-outbox.sqlite"
console = Console(stderr=True)  # progress and errors
results_out = Console()  # what was pulled: stdout, for a pipe or a file


class _Bars(Progress):
    """One line per stream: rows so far, rate, elapsed."""

    def __init__(self, bars: RichProgress) -> None:
        self.bars = bars
        self.tasks: dict[str, TaskID] = {}

    def rows(self, stream: str, count: int) -> None:
        task = self.tasks.get(stream)
        if task is None:
            task = self.tasks[stream] = self.bars.add_task(stream, total=None)
        self.bars.advance(task, count)


def _summary(results: list[PullResult], as_json: bool) -> None:
    if as_json:
        results_out.print_json(json.dumps([dataclasses.asdict(r) for r in results], default=str))
        return
    rows = [
        [
            result.source,
            result.run_id,
            ("full" if result.full else "incremental") + (" (resumed)" if result.resumed else ""),
            result.status,
            ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items())),
            "\n".join(result.tables),
        ]
        for result in results
    ]
    columns = ("source", "run", "mode", "status", "rows by state", "tables")
    print_records(results_out, "Pulled", columns, rows, ids={"run"})
    for result in results:
        delivery = result.delivery
        if delivery is not None and (delivery.pending or delivery.rejected):
            results_out.print(
                f"[yellow]{result.source}: {delivery.pending} events queued for the next pull,"
                f" {delivery.rejected} refused[/]"
                + (f" ({delivery.error})" if delivery.error else "")
            )


def pull(
    name: Annotated[str | None, typer.Argument(help="The source to pull (default: all).")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Read everything again instead of what changed.")
    ] = False,
    project: ProjectOption = Path("."),
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="A YAML file whose `sources:` replace the project's.", dir_okay=False
        ),
    ] = None,
    events: Annotated[
        bool, typer.Option("--events/--no-events", help="Emit the sources' configured events.")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results as one JSON document.")
    ] = False,
) -> None:
    """Pull Listrak email and SMS subscriber state (and email engagement) into the warehouse."""
    try:
        loaded = load_project(project)
        sources = loaded.config.sources
        where: Marked = loaded.marked  # the file the sources were written in
        if config is not None:
            section, where = load_section(config, "sources")
            sources = section.sources
    except ProjectError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None
    if not sources:
        console.print("[red]no sources configured[/] (add a `sources:` section; see the README)")
        raise typer.Exit(1)
    if name is not None and name not in sources:
        console.print(f"[red]no source named {name!r}[/] (sources: {', '.join(sorted(sources))})")
        raise typer.Exit(1)
    chosen = {name: sources[name]} if name else sources
    workspace = Workspace.in_project(loaded.root)
    try:
        warehouse = connect(loaded.config.warehouse.connection, base_dir=loaded.root)
    except WarehouseError as exc:
        console.print(f"[red]warehouse:[/] {exc}")
        raise typer.Exit(1) from None
    options = PullOptions(full=full, events=events)
    code = 0
    results: list[PullResult] = []
    with (
        warehouse,
        workspace.store() as store,
        Outbox(workspace.root / OUTBOX_FILE) as outbox,
        RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,.0f} rows"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bars,
    ):

        def sink_for(source: str, settings: EventsConfig) -> EventSink:
            sink = settings.sink
            if isinstance(sink, HttpSink):
                key = resolve_secret(
                    loaded,
                    sink.write_key,
                    ("sources", source, "events", "sink", "write_key"),
                    marked=where,
                )
                return HttpEventSink(
                    sink.url,
                    key,
                    batch_size=sink.batch_size,
                    max_attempts=sink.max_attempts,
                    timeout=sink.timeout,
                    backoff_initial=sink.backoff_initial,
                    backoff_max=sink.backoff_max,
                )
            return JsonlEventSink(loaded.path(sink.path))

        puller = Puller(
            warehouse,
            store,
            workspace.snapshots(),
            outbox,
            workspace.root / "pulls",
            progress=_Bars(bars),
            sink_for=sink_for,
            pause=checkpoint,
        )
        for source_name, source in chosen.items():
            try:
                result = asyncio.run(_pull_one(puller, loaded, source_name, source, options))
            except ProjectError as exc:
                print_problems(exc.problems)
                code = max(code, 1)
                continue
            except LockHeld as exc:
                console.print(f"[red]{source_name}:[/] {exc}")
                code = max(code, 5)
                continue
            except (ListrakError, WarehouseError, ValueError) as exc:
                console.print(f"[red]{source_name}: pull failed:[/] {exc}", highlight=False)
                code = max(code, 1)
                continue
            results.append(result)
            if result.status == "partial":
                code = max(code, 3)
    if results:
        _summary(results, as_json)
    if code:
        raise typer.Exit(code)


async def _pull_one(
    puller: Puller, project: Project, name: str, source: Source, options: PullOptions
) -> PullResult:
    resolved = resolve_listrak(project, source.credential)
    hosts = project.config.listrak
    settings = ClientSettings(
        api_url=hosts.api_url, auth_url=hosts.auth_url, page_size=MAX_PAGE_SIZE
    )
    credentials = Credentials(client_id=resolved.client_id, client_secret=resolved.client_secret)
    integration = "email" if source.type == "listrak_email" else "sms"
    async with ListrakClient(settings=settings, **{integration: credentials}) as client:  # type: ignore[arg-type]
        return await puller.pull(name, source, client, options)
