"""The ``listrak-sync`` command: one entry point, one sub-command group per part of the product."""

from __future__ import annotations

import typer

from .demo import demo
from .emulator.cli import app as emulator_app

__all__ = ["app"]

app = typer.Typer(
    name="listrak-sync",
    help="Move audiences from your warehouse into Listrak, and Listrak's subscriber state back.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
app.add_typer(emulator_app, name="emulator")
app.command("demo")(demo)


if __name__ == "__main__":  # pragma: no cover
    app()
