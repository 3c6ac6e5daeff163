"""``listrak-sync serve`` and ``listrak-sync events ...``: run the endpoint, test mappings, and
look after dead letters."""

from __future__ import annotations

import ipaddress
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..api import EventsSetup, load_setup
from ..config.events import EventDestination
from ..project.problems import ProjectError
from .deadletter import retry_dead_letters
from .intake import IntakeError, hash_write_key, messages_from
from .logs import contact_ref, make_logger
from .mappings import FieldName, Rejection, apply_mappings, matches
from .queue import Queue
from .server import EventServer
from .service import EventService, client_settings

__all__ = ["events_app", "is_loopback", "serve"]

console = Console()
errors = Console(stderr=True)

events_app = typer.Typer(
    help="The event destination: test mappings, inspect and retry dead letters.",
    no_args_is_help=True,
)
dead_letter_app = typer.Typer(help="Updates that could not be delivered.", no_args_is_help=True)
events_app.add_typer(dead_letter_app, name="dead-letter")

ProjectOption = Annotated[
    Path | None,
    typer.Option(
        "--project",
        "-p",
        envvar="LISTRAK_SYNC_PROJECT",
        help="Project folder (default: the current one).",
        file_okay=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="A stand-alone events config instead of the project file."),
]
DestinationOption = Annotated[
    str | None,
    typer.Option("--destination", help="Which listrak_events destination, if there are several."),
]


def _setup(
    project: Path | None, config: Path | None, destination: str | None, *, credentials: bool
) -> EventsSetup:
    try:
        return load_setup(
            config=config, project=project, destination=destination, credentials=credentials
        )
    except ProjectError as exc:
        for problem in exc.problems:
            errors.print(
                f"[red]error[/red] {problem}", markup=True, highlight=False, soft_wrap=True
            )
        raise typer.Exit(2) from None


def serve(
    project: ProjectOption = None,
    config: ConfigOption = None,
    destination: DestinationOption = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8788,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the Segment-compatible event endpoint until SIGTERM or Ctrl-C."""
    from ..privacy.suppression import ForgottenWatch
    from ..sync.workspace import Workspace

    setup = _setup(project, config, destination, credentials=True)
    service = EventService(
        setup.destination,
        setup.queue_path,
        setup.credentials,
        settings=client_settings(setup.hosts.api_url, setup.hosts.auth_url),
        log=make_logger(level=log_level),
        forgotten=ForgottenWatch(Workspace.in_project(setup.root).root),
    )
    errors.print(
        f"listrak-sync events: {setup.name!r} on http://{host}:{port} "
        f"({len(setup.destination.mappings)} mappings, queue {setup.queue_path})",
        highlight=False,
    )
    if not is_loopback(host):
        errors.print(
            f"warning: listening on {host}, reachable from other machines. The write key travels "
            "as HTTP basic auth, readable by anyone on the path: put a TLS reverse proxy in "
            "front and let only it reach this port (see Running in production).",
            highlight=False,
        )
        service.log.warning("listening beyond loopback", host=host, port=port)
    EventServer(service, host=host, port=port).run()


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


@dead_letter_app.command("list")
def dead_letter_list(
    project: ProjectOption = None,
    config: ConfigOption = None,
    destination: DestinationOption = None,
    mapping: Annotated[str | None, typer.Option(help="Only this mapping's.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    show_pii: Annotated[bool, typer.Option(help="Show email addresses and values.")] = False,
) -> None:
    """List dead letters, oldest first, with their reasons."""
    setup = _setup(project, config, destination, credentials=False)
    with Queue(setup.queue_path) as queue:
        items = queue.dead_letters(mapping=mapping, limit=limit)
        total = queue.dead_letter_count()
    if as_json:
        for item in items:
            doc: dict[str, Any] = {
                "id": item.id,
                "failed_at": _when(item.failed_at),
                "received_at": _when(item.received_at),
                "mapping": item.mapping,
                "list_id": item.list_id,
                "contact": contact_ref(item.email, pii=show_pii) if item.email else None,
                "message_id": item.message_id,
                "attempts": item.attempts,
                "reason": item.reason,
            }
            if show_pii and item.fields is not None:
                doc["fields"] = [
                    [ref.name if isinstance(ref, FieldName) else ref, v] for ref, v in item.fields
                ]
            typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    table = Table(title=f"Dead letters ({len(items)} of {total})")
    for column in ("id", "failed (UTC)", "mapping", "list", "contact", "attempts", "reason"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(
            str(item.id),
            _when(item.failed_at),
            item.mapping,
            str(item.list_id),
            contact_ref(item.email, pii=show_pii) if item.email else "-",
            str(item.attempts),
            item.reason,
        )
    console.print(table)


@dead_letter_app.command("retry")
def dead_letter_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Dead-letter ids to retry.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Retry every dead letter.")] = False,
    mapping: Annotated[str | None, typer.Option(help="Retry this mapping's.")] = None,
    project: ProjectOption = None,
    config: ConfigOption = None,
    destination: DestinationOption = None,
) -> None:
    """Put dead letters back in the queue (a running server sends them within a second)."""
    if not ids and not all_ and mapping is None:
        errors.print("say which: dead-letter ids, --mapping NAME, or --all")
        raise typer.Exit(2)
    setup = _setup(project, config, destination, credentials=False)
    with Queue(setup.queue_path) as queue:
        report = retry_dead_letters(queue, setup.destination, ids=ids or (), mapping=mapping)
    if ids and report.selected < len(set(ids)):
        errors.print(f"{len(set(ids)) - report.selected} of the given ids are not dead letters")
    console.print(
        f"{report.selected} dead letter(s): {report.requeued} update(s) queued again, "
        f"{report.superseded} superseded by newer values (removed), "
        f"{report.still_dead} refused again by the mapping"
    )
    if ids and report.selected < len(set(ids)):
        raise typer.Exit(1)


def _preview(destination: EventDestination, name: str, event: dict[str, Any]) -> dict[str, Any]:
    mapping = destination.mappings[name]
    matched = mapping.enabled and matches(mapping.trigger, event)
    out: dict[str, Any] = {"mapping": name, "enabled": mapping.enabled, "matched": matched}
    if not matched:
        return out
    only = destination.model_copy(update={"mappings": {name: mapping}})
    (result,) = apply_mappings(only, event)
    if isinstance(result, Rejection):
        out["dead_letter_reason"] = result.reason
        return out
    values: list[dict[str, Any]] = []
    for ref, value in result.fields:
        if isinstance(ref, FieldName):
            values.append(
                {
                    "segmentationFieldName": ref.name,
                    "segmentationFieldGroupName": ref.group,
                    "value": value,
                    "note": "id resolved at delivery"
                    + ("; created as a CheckBox field if missing" if ref.create else ""),
                }
            )
        else:
            values.append({"segmentationFieldId": ref, "value": value})
    out["credential"] = result.credential
    out["request"] = {
        "method": "POST",
        "path": f"/email/v1/List/{result.list_id}/Contact/SegmentationField",
        "body": [{"emailAddress": result.email, "segmentationFieldValues": values}],
    }
    out["batched"] = result.batched
    return out


@events_app.command("test")
def try_mapping(
    mapping: Annotated[str, typer.Argument(help="The mapping to try.")],
    event: Annotated[Path, typer.Option("--event", help="A Segment message (JSON file).")],
    project: ProjectOption = None,
    config: ConfigOption = None,
    destination: DestinationOption = None,
) -> None:
    """Show what MAPPING would send to Listrak for the event; nothing is sent.

    Exit code 0 when the mapping matches and yields an update, 1 when it does not match or
    would dead-letter the event, 2 for a bad event file or config."""
    setup = _setup(project, config, destination, credentials=False)
    if mapping not in setup.destination.mappings:
        names = ", ".join(sorted(setup.destination.mappings)) or "none"
        errors.print(f"no mapping named {mapping!r} (there are: {names})")
        raise typer.Exit(2)
    try:
        doc = json.loads(event.read_text("utf-8"))
    except OSError as exc:
        errors.print(f"{event}: {exc.strerror}")
        raise typer.Exit(2) from None
    except json.JSONDecodeError as exc:
        errors.print(f"{event}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})")
        raise typer.Exit(2) from None
    if not isinstance(doc, dict):
        errors.print(f"{event}: a Segment message is a JSON object")
        raise typer.Exit(2)
    kind = None if "batch" in doc else doc.get("type", "track")
    try:
        messages = messages_from(
            doc, kind, max_event_bytes=setup.destination.limits.max_event_bytes
        )
    except IntakeError as exc:
        errors.print(f"{event}: {exc.message}")
        for problem in exc.problems:
            errors.print(f"  {problem}")
        raise typer.Exit(2) from None
    previews = [_preview(setup.destination, mapping, message) for message in messages]
    console.print_json(json.dumps(previews if len(previews) > 1 else previews[0]))
    if not all(p["matched"] and "request" in p for p in previews):
        raise typer.Exit(1)


@events_app.command("hash-key")
def hash_key() -> None:
    """Print the `sha256:` form of a write key for `write_keys` in the config.

    The key is read from stdin (typed without echo at a terminal), never from the command line,
    where it would stay in the shell's history: `listrak-sync events hash-key < key.txt`."""
    key = (
        sys.stdin.readline()
        if not sys.stdin.isatty()
        else typer.prompt("write key", hide_input=True)
    )
    key = key.strip()
    if not key:
        errors.print("an empty write key is not allowed")
        raise typer.Exit(2)
    console.print(hash_write_key(key), highlight=False)
