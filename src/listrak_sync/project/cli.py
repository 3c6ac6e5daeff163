"""``listrak-sync init`` and ``listrak-sync validate``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..warehouse.sample_data import DEFAULT_SEED
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
    """One line per problem (``file:line:col: message``), hints dimmed below; on stderr."""
    for problem in problems:
        errors.print(
            f"[bold red]{problem.location()}[/]: {problem.message}", highlight=False, soft_wrap=True
        )
        if problem.hint:
            errors.print(f"    [dim]hint: {problem.hint}[/]", highlight=False, soft_wrap=True)


def validate(
    project: ProjectOption = Path("."),
    offline: Annotated[
        bool, typer.Option("--offline", help="Skip the checks that need the warehouse.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the problems as one JSON document.")
    ] = False,
) -> None:
    """Check the project: config, references, credentials, segment SQL and filters, attributes.

    Exit code 0 when clean, 1 when there are problems (all of them are listed)."""
    # Imported here: other commands import this module for ProjectOption and print_problems.
    from .validate import validate_project

    _, problems = validate_project(project, check_warehouse=not offline)
    if as_json:
        document = {
            "file": str(project / "listrak-sync.yml"),
            "problems": [dataclasses.asdict(problem) for problem in problems],
        }
        console.print_json(json.dumps(document))
        if problems:
            raise typer.Exit(1)
        return
    if problems:
        print_problems(problems)
        noun = "problem" if len(problems) == 1 else "problems"
        errors.print(f"[red]{len(problems)} {noun}[/]")
        raise typer.Exit(1)
    console.print(f"[green]{project / 'listrak-sync.yml'}: no problems[/]")


def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project.")] = Path("."),
    customers: Annotated[
        int,
        typer.Option(help="Sample customers to generate (0: no sample data, no warehouse).", min=0),
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the sample data.")] = DEFAULT_SEED,
    force: Annotated[
        bool,
        typer.Option(
            help="Overwrite an existing listrak-sync.yml (secrets.yml is never overwritten)."
        ),
    ] = False,
) -> None:
    """Create a working sample project: config, secrets, and sample data in a DuckDB file.

    Its destinations target the emulator (`listrak-sync emulator --sample`). Files already there
    are kept: .gitignore only gains the lines it lacks, secrets.yml and a warehouse are never
    replaced; when something is in the way, nothing is written."""
    from .scaffold import scaffold  # imported here for the reason given in validate()

    try:
        result = scaffold(directory, customers=customers, seed=seed, force=force)
    except ProjectError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None
    for verb, paths in (
        ("created", result.created),
        ("overwrote", result.overwritten),
        ("added missing lines to", result.updated),
        ("kept", result.kept),
    ):
        for path in paths:
            console.print(f"  {verb} {path}", highlight=False)
    here = directory.resolve() == Path.cwd().resolve()
    where = "the current folder" if here else str(directory)
    option = "" if here else f" -p {directory}"
    console.print(
        f"[green]Project ready in {where}.[/] Next: "
        f"`listrak-sync validate{option}`, "
        f"`listrak-sync segments list{option}`, "
        f"`listrak-sync campaigns preview spring_sale{option}`",
        highlight=False,
    )
