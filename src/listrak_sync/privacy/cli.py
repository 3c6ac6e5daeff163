"""``listrak-sync forget``: honour the warehouse's deletion requests in Listrak."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..api import ForgetError
from ..api import forget as run_forget
from ..listrak import ListrakError
from ..project.cli import ProjectOption, print_problems
from ..project.loader import load_project
from ..project.problems import ProjectError
from ..warehouse import WarehouseError

__all__ = ["forget"]

console = Console()
errors = Console(stderr=True)


def forget(
    project: ProjectOption = Path("."),
    resend_unconfirmed: Annotated[
        bool,
        typer.Option(
            "--resend-unconfirmed",
            help="Send again the requests an interrupted run may or may not have sent.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Submit the warehouse's deletion requests to Listrak's Privacy API and wait until done.

    Each request is sent once (journaled before it leaves), and every later plan and sync
    leaves the forgotten people out, even while they remain in the audience tables."""
    from ..sync.options import client_settings_from_env  # the same override as sync

    try:
        loaded = load_project(project)
        report = run_forget(
            loaded, resend_unconfirmed=resend_unconfirmed, client_options=client_settings_from_env()
        )
    except ProjectError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None
    except (ForgetError, WarehouseError, ListrakError) as exc:
        errors.print(f"[bold red]error[/]: {exc}", highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
    else:
        for problem in report.problems:
            errors.print(f"[yellow]skipped[/]: {problem}", highlight=False)
        for failure in report.failures:
            errors.print(f"[red]not done[/]: {failure}", highlight=False)
        counts = ", ".join(f"{n} {name}" for name, n in sorted(report.counts.items()))
        console.print(f"forget: {counts or 'no deletion requests'}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)
