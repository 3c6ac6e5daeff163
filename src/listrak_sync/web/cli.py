"""``listrak-sync ui``: serve the web console; ``listrak-sync ui hash-password``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..events.cli import is_loopback
from ..project.cli import ProjectOption

__all__ = ["start_warnings", "ui_app"]

ui_app = typer.Typer(
    help="The web console: segments, campaigns and runs in a browser.",
    invoke_without_command=True,
)
errors = Console(stderr=True)


@ui_app.callback()
def ui(
    ctx: typer.Context,
    project: ProjectOption = Path("."),
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8790,
    tls: Annotated[
        bool,
        typer.Option(
            "--behind-tls",
            help="A TLS reverse proxy serves the console: session cookies are marked Secure.",
        ),
    ] = False,
) -> None:
    """The web console: segments, campaigns and runs in a browser."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from ..sync.options import client_settings_from_env
    from ._app import create_app

    app = create_app(project, client_settings=client_settings_from_env(), tls=tls)
    users = len(app.state.console.project().config.console.users)
    errors.print(f"listrak-sync console on http://{host}:{port} ({users} users)", highlight=False)
    for warning in start_warnings(host, tls=tls, users=users):
        errors.print(f"warning: {warning}", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


def start_warnings(host: str, *, tls: bool, users: int) -> list[str]:
    """What to tell the person starting the console about how it is reachable."""
    found = []
    if not users:
        found.append(
            "no users under `console: users:` in listrak-sync.yml, so nobody can log in; make a"
            " password hash with `listrak-sync ui hash-password`"
        )
    if not is_loopback(host) and not tls:
        found.append(
            f"listening on {host}, reachable from other machines without TLS: passwords and"
            " session cookies travel in clear. Put a TLS reverse proxy in front, bind the"
            " console to 127.0.0.1 and pass --behind-tls (see the console guide)."
        )
    return found


@ui_app.command("hash-password")
def hash_password_command() -> None:
    """Print the argon2 hash of a password (asked for, or one line from stdin).

    Put it in listrak-sync.yml as a user's password_hash under console: users:."""
    from ._auth import hash_password

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        typer.echo(hash_password(password))
    except ValueError as exc:
        errors.print(f"[bold red]error[/]: {exc}", highlight=False)
        raise typer.Exit(2) from None
