"""The ``listrak-sync`` command: one entry point, one sub-command group per part of the product.

Sub-commands are registered by module path and help line, so running one imports only its own
part of the product (see lazy_group.py). ``help`` is the line ``listrak-sync --help`` shows: the
first paragraph of the command's docstring or its Typer app's help (tests/test_cli_startup.py
checks they agree).

Errors are turned into exit codes here and nowhere else: any ``ListrakSyncError`` a command lets
through is printed (message, then hint) and exits with the error's ``exit_code``; Ctrl-C exits
130. The table of exit codes is ``errors.ExitCode`` (docs/reference/exit-codes.md).
"""

from __future__ import annotations

import enum
import sqlite3
from typing import Annotated, Any

import typer
from typer import _click as click

from .errors import ExitCode, ListrakSyncError
from .lazy_group import LazyCommand, LazyGroup

__all__ = ["app"]

# Commands that pick up where an interrupted run stopped.
_RESUMABLE = ("sync", "pull", "forget")


def print_error(exc: ListrakSyncError, *, about: str | None = None) -> None:
    """One line per problem on stderr (after ``about:`` when given), each hint dimmed below."""
    from rich.console import Console  # only when there is an error to show
    from rich.markup import escape

    errors = Console(stderr=True)
    head = f"{escape(about)}: " if about else ""
    for text, hint in exc.report():
        errors.print(f"[bold red]error[/]: {head}{escape(text)}", highlight=False, soft_wrap=True)
        if hint:
            errors.print(f"    [dim]hint: {escape(hint)}[/]", highlight=False, soft_wrap=True)


class _Commands(LazyGroup):
    def invoke(self, ctx: click.Context) -> Any:
        """Our errors, ordinary trouble of the machine (full disk, read-only folder) and Ctrl-C
        become a message and an exit code, for every command, instead of a traceback."""
        try:
            return super().invoke(ctx)
        except ListrakSyncError as exc:
            print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            # A sync or pull records its run as interrupted; the next one finishes it.
            command = ctx.invoked_subcommand or ""
            resume = f"; run `{command}` again to resume" if command in _RESUMABLE else ""
            typer.echo(f"\ninterrupted{resume}", err=True)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except OSError as exc:
            from .errors import environment_problem

            problem = environment_problem(exc)
            print_error(problem)
            raise typer.Exit(problem.exit_code) from None
        except sqlite3.OperationalError as exc:  # the state files: disk full, read-only
            from .errors import sqlite_problem

            found = sqlite_problem(exc)
            if found is None:
                raise
            print_error(found)
            raise typer.Exit(found.exit_code) from None

    # Commands first, then groups: the order Typer lists them in.
    lazy_commands = (
        LazyCommand(
            "demo",
            "Run the main job against the embedded emulator and sample data, then exit.",
            "listrak_sync.demo:demo",
        ),
        LazyCommand(
            "export",
            "Validate customers, products, orders and order items and deliver them to Listrak.",
            "listrak_sync.files.cli:export",
        ),
        LazyCommand(
            "init",
            "Create a working sample project: config, secrets, and sample data in a DuckDB file.",
            "listrak_sync.project.cli:init",
        ),
        LazyCommand(
            "validate",
            "Check the project: config, references, credentials, segment SQL and filters,"
            " attributes.",
            "listrak_sync.project.cli:validate",
        ),
        LazyCommand(
            "sample-data",
            "Create customer_360, merged_customers, orders, order_items, products, sms_opt_status"
            " and\nemail_opt_status: realistic, deliberately messy retail data.",
            "listrak_sync.warehouse.sample_data.cli:sample_data",
        ),
        LazyCommand(
            "pull",
            "Pull Listrak email and SMS subscriber state (and email engagement) into the"
            " warehouse.",
            "listrak_sync.source.cli:pull",
        ),
        LazyCommand(
            "serve",
            "Serve the Segment-compatible event endpoint until SIGTERM or Ctrl-C.",
            "listrak_sync.events.cli:serve",
        ),
        LazyCommand(
            "scheduler",
            "Run the project's schedules in the foreground until SIGTERM or Ctrl-C.",
            "listrak_sync.runtime.cli:scheduler",
        ),
        LazyCommand(
            "emulator",
            "Run a local Listrak emulator, or manage a running one.",
            "listrak_sync.emulator.cli:app",
        ),
        LazyCommand(
            "segments",
            "Segments: list them, show their SQL, count who is in them.",
            "listrak_sync.audiences.cli:segments_app",
        ),
        LazyCommand(
            "campaigns",
            "Campaigns: list them, show them, preview who gets what.",
            "listrak_sync.audiences.cli:campaigns_app",
        ),
        LazyCommand(
            "plan",
            "What a sync would do, per destination: counts, steps, sample rows. Nothing is sent.",
            "listrak_sync.sync.cli:sync_app",
            merge=True,
        ),
        LazyCommand(
            "sync",
            "Bring each destination of CAMPAIGN in step with its audience (resuming a killed run).",
            "listrak_sync.sync.cli:sync_app",
            merge=True,
        ),
        LazyCommand(
            "forget",
            "Submit the warehouse's deletion requests to Listrak's Privacy API and wait until"
            " done.",
            "listrak_sync.privacy.cli:forget",
        ),
        LazyCommand(
            "runs",
            "Run history (latest first), or one run: counts, imports, row outcomes.",
            "listrak_sync.sync.cli:sync_app",
            merge=True,
        ),
        LazyCommand(
            "schedules",
            "Schedules: list them with their next runs; trigger, pause, resume.",
            "listrak_sync.runtime.cli:schedules_app",
        ),
        LazyCommand(
            "alerts",
            "Alert channels: send a test message.",
            "listrak_sync.runtime.cli:alerts_app",
        ),
        LazyCommand(
            "events",
            "The event destination: test mappings, inspect and retry dead letters.",
            "listrak_sync.events.cli:events_app",
        ),
        LazyCommand(
            "ui",
            "The web console: segments, campaigns and runs in a browser.",
            "listrak_sync.web.cli:ui_app",
        ),
    )


app = typer.Typer(
    name="listrak-sync",
    help="Move audiences from your warehouse into Listrak, and Listrak's subscriber state back.",
    cls=_Commands,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


class _LogFormat(enum.StrEnum):
    text = "text"
    json = "json"


@app.callback()
def _root(
    log_format: Annotated[
        _LogFormat,
        typer.Option(
            "--log-format",
            envvar="LISTRAK_SYNC_LOG_FORMAT",
            help="Listrak client lines on stderr (retries, token refreshes, closing summary):"
            " text, or one JSON object per line.",
        ),
    ] = _LogFormat.text,
) -> None:
    """Without a callback Typer would not build a group, the app having no eager commands."""
    from .client_logs import configure_client_logs  # here: importing the CLI stays light

    configure_client_logs(log_format.value)


if __name__ == "__main__":  # pragma: no cover
    app()
