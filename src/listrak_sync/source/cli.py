"""``listrak-sync pull [NAME] [--full]``: Listrak subscriber state into the warehouse.

A renderer of ``listrak_sync.pull`` (api/_pull.py): bars while it runs, a table at the end.

Exit codes: 0 every source pulled (events delivered), 1 an error (project, warehouse, Listrak),
3 pulled but some events are still queued or were refused (they are retried on the next pull),
5 another pull of the source is running.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from ..api import pull as run_pull
from ..cli import print_error
from ..project.cli import ProjectOption
from ..records import print_records
from .pull import PullResult
from .streams import Progress

__all__ = ["pull"]

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
    with RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bars:
        report = run_pull(
            project, name, full=full, events=events, sources_file=config, progress=_Bars(bars)
        )
    for failure in report.failures:
        print_error(failure.error, about=failure.source)
    if report.results:
        _summary(report.results, as_json)
    if report.exit_code:
        raise typer.Exit(report.exit_code)
