"""The ``listrak-sync`` command: one entry point, one sub-command group per part of the product."""

from __future__ import annotations

import typer

from .audiences.cli import campaigns_app, segments_app
from .demo import demo
from .emulator.cli import app as emulator_app
from .events.cli import events_app
from .events.cli import serve as _events_serve
from .files.cli import export as _files_export
from .project.cli import init as _project_init
from .project.cli import validate as _project_validate
from .source.cli import pull as _source_pull
from .sync.cli import sync_app
from .warehouse.sample_data.cli import sample_data

__all__ = ["app"]

app = typer.Typer(
    name="listrak-sync",
    help="Move audiences from your warehouse into Listrak, and Listrak's subscriber state back.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
app.add_typer(emulator_app, name="emulator")
app.command("demo")(demo)
app.command("export")(_files_export)
app.command("init")(_project_init)
app.command("validate")(_project_validate)
app.add_typer(segments_app, name="segments")
app.add_typer(campaigns_app, name="campaigns")
app.command("sample-data")(sample_data)
app.command("pull")(_source_pull)
app.add_typer(sync_app)  # plan, sync, runs
app.command("serve")(_events_serve)
app.add_typer(events_app, name="events")


if __name__ == "__main__":  # pragma: no cover
    app()
