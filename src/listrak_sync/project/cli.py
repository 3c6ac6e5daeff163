"""``listrak-sync init`` and ``listrak-sync validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .problems import Problem, ProjectError

__all__ = ["ProjectOption", "init", "print_problems", "validate"]

console = Console()
errors = Console(stderr=True)

ProjectOption = Annotated[
    Path,
    typer.Option(
        "--project",
        "-p",
        envvar="LISTRAK_SYNC_PROJECT",
        help="The project folder (holding listrak-sync.yml).",
        file_okay=False,
    ),
]


def print_problems(problems: list[Problem]) -> None:
    """One line per problem (``error: file:line:col: message``), hints dimmed below; on stderr,
    exactly as ``sync`` and ``plan`` print the problems that stop them (cli.py)."""
    from ..cli import print_error

    print_error(ProjectError(problems))


def validate(
    project: ProjectOption = Path("."),
    offline: Annotated[
        bool, typer.Option("--offline", help="Skip the checks that need the warehouse.")
    ] = False,
) -> None:
    """Check the project: config, references, credentials, segment SQL and filters, attributes.

    Exit code 0 when clean, 1 when there are problems (all of them are listed)."""
    # Imported here: other commands import this module for ProjectOption and print_problems.
    from .validate import validate_project

    _, problems = validate_project(project, check_warehouse=not offline)
    if problems:
        print_problems(problems)
        noun = "problem" if len(problems) == 1 else "problems"
        errors.print(f"[red]{len(problems)} {noun}[/]")
        raise typer.Exit(1)
    console.print(f"[green]{project / 'listrak-sync.yml'}: no problems[/]")


def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project.")] = Path("."),
    customers: Annotated[
        int, typer.Option(help="Sample customers to generate (0: no sample data).", min=0)
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the sample data.")] = 42,
    force: Annotated[bool, typer.Option(help="Overwrite an existing listrak-sync.yml.")] = False,
) -> None:
    """Create a working sample project: config, secrets, and sample data in a DuckDB file.

    Its destinations target the emulator (`listrak-sync emulator --sample`)."""
    from .scaffold import scaffold  # imported here for the reason given in validate()

    try:
        created = scaffold(directory, customers=customers, seed=seed, force=force)
    except ProjectError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None
    for path in created:
        console.print(f"  created {path}")
    console.print(
        f"[green]Project ready in {directory}.[/] Next: "
        f"`listrak-sync validate -p {directory}`, "
        f"`listrak-sync segments list -p {directory}`, "
        f"`listrak-sync campaigns preview spring_sale -p {directory}`"
    )
