"""Pull Listrak subscriber state into the warehouse from Python: the call behind ``pull``."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

from ..config.sources import EventsConfig, HttpSink, Source
from ..errors import ListrakSyncError, UsageError
from ..listrak import ClientSettings, Credentials, ListrakClient
from ..project.connection import warehouse_target
from ..project.loader import Project, load_section
from ..project.problems import ProjectError
from ..project.secrets import resolve_listrak, resolve_secret
from ..project.yaml_marks import Marked
from ..source.pull import Puller, PullOptions
from ..source.sinks import EventSink, HttpEventSink, JsonlEventSink, Outbox
from ..source.streams import MAX_PAGE_SIZE, Progress
from ..sync.hooks import checkpoint
from ..sync.workspace import Workspace
from ..warehouse import Warehouse, connect
from ._project import ProjectLike, load_project
from ._results import PullReport, SourceFailure

__all__ = ["OUTBOX_FILE", "pull", "pull_async"]

OUTBOX_FILE = "events-outbox.sqlite"


def pull(
    project: ProjectLike,
    source: str | None = None,
    *,
    full: bool = False,
    events: bool = True,
    sources_file: str | Path | None = None,
    client: ListrakClient | None = None,
    warehouse: Warehouse | None = None,
    progress: Progress | None = None,
) -> PullReport:
    """Pull Listrak email and SMS subscriber state (and email engagement) into the warehouse.

    Pulls ``source`` (default: every source of the project, each in turn; one that fails does
    not stop the others: its error is in ``PullReport.failures``). ``full`` reads everything
    again instead of what changed; ``events=False`` emits none of the configured events;
    ``sources_file`` is a YAML file whose ``sources:`` replace the project's. ``client`` and
    ``warehouse`` replace the ones the project describes (the caller opens and closes them).
    Runs its own event loop: inside a running one, ``await pull_async(...)``.
    """
    return asyncio.run(
        pull_async(
            project,
            source,
            full=full,
            events=events,
            sources_file=sources_file,
            client=client,
            warehouse=warehouse,
            progress=progress,
        )
    )


async def pull_async(
    project: ProjectLike,
    source: str | None = None,
    *,
    full: bool = False,
    events: bool = True,
    sources_file: str | Path | None = None,
    client: ListrakClient | None = None,
    warehouse: Warehouse | None = None,
    progress: Progress | None = None,
) -> PullReport:
    """:func:`pull` inside a running event loop."""
    loaded = project if isinstance(project, Project) else load_project(project)
    sources = loaded.config.sources
    where: Marked = loaded.marked  # the file the sources were written in
    if sources_file is not None:
        section, where = load_section(sources_file, "sources")
        sources = section.sources
    if not sources:
        raise ProjectError.single(
            sources_file or loaded.config_file,
            "no sources configured",
            hint="add a `sources:` section (see docs/guides/pull.md)",
        )
    if source is not None and source not in sources:
        raise UsageError(
            f"no source named {source!r}", hint=f"sources: {', '.join(sorted(sources))}"
        )
    chosen = {source: sources[source]} if source else sources
    # Runs, cursors and snapshots where the project keeps its state (``state.store``); the
    # events outbox and the scratch folder stay in ``.listrak-sync/`` (see docs).
    workspace = Workspace.for_project(loaded)
    report = PullReport()
    with ExitStack() as stack:
        if warehouse is None:
            # connect(), not open_warehouse(): a pull may create the DuckDB file.
            warehouse = stack.enter_context(connect(warehouse_target(loaded), base_dir=loaded.root))
        store = stack.enter_context(workspace.store())
        outbox = stack.enter_context(Outbox(workspace.root / OUTBOX_FILE))

        def sink_for(name: str, settings: EventsConfig) -> EventSink:
            sink = settings.sink
            if isinstance(sink, HttpSink):
                key = resolve_secret(
                    loaded,
                    sink.write_key,
                    ("sources", name, "events", "sink", "write_key"),
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
            workspace.snapshots(store),
            outbox,
            workspace.root / "pulls",
            progress=progress,
            sink_for=sink_for,
            pause=checkpoint,
        )
        options = PullOptions(full=full, events=events)
        for name, config in chosen.items():
            try:
                if client is not None:
                    result = await puller.pull(name, config, client, options)
                else:
                    async with _client(loaded, config) as own:
                        result = await puller.pull(name, config, own, options)
            except ListrakSyncError as exc:
                report.failures.append(SourceFailure(name, exc))
                continue
            except ValueError as exc:  # a value Listrak sent that the tables cannot hold
                report.failures.append(SourceFailure(name, _Failed(f"{name}: pull failed: {exc}")))
                continue
            report.results.append(result)
    return report


class _Failed(ListrakSyncError):
    """A pull that failed on a value, not on one of our errors."""


def _client(project: Project, source: Source) -> ListrakClient:
    """A client for ``source`` from the project: its credential, its Listrak hosts."""
    resolved = resolve_listrak(project, source.credential)
    hosts = project.config.listrak
    settings = ClientSettings(
        api_url=hosts.api_url, auth_url=hosts.auth_url, page_size=MAX_PAGE_SIZE
    )
    credentials = Credentials(client_id=resolved.client_id, client_secret=resolved.client_secret)
    integration = "email" if source.type == "listrak_email" else "sms"
    return ListrakClient(settings=settings, **{integration: credentials})  # type: ignore[arg-type]
