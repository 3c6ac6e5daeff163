"""Finding the event destination's settings: in the project, or in a file of its own.

With a project (``listrak-sync.yml``), the destination is a ``type: listrak_events`` entry of
``destinations`` and credentials resolve through the project. Without one, ``--config FILE``
reads a file with the same sections (``listrak``, ``secrets_file``, ``credentials``,
``destinations``) holding only what the event server needs. Errors name file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config.credentials import ListrakCredential
from ..config.events import CONDITION_TAGS, EventDestination
from ..config.models import ListrakHosts
from ..listrak import Credentials
from ..project.loader import CONFIG_FILE, load_project
from ..project.problems import Problem, ProjectError
from ..project.secrets import lookup_secret, read_secrets_file, resolve_listrak
from ..project.yaml_marks import load_marked

__all__ = ["EventsFile", "EventsSetup", "load_setup"]


class EventsFile(BaseModel):
    """A stand-alone event server config (``listrak-sync serve --config events.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listrak: ListrakHosts = Field(default_factory=ListrakHosts)
    secrets_file: str = "secrets.yml"
    credentials: dict[str, ListrakCredential] = Field(default_factory=dict)
    destinations: dict[str, EventDestination] = Field(min_length=1)


@dataclass(frozen=True)
class EventsSetup:
    """Everything ``serve`` and the ``events`` commands need."""

    name: str
    destination: EventDestination
    root: Path
    hosts: ListrakHosts
    credentials: dict[str, Credentials]  # empty unless asked for

    @property
    def queue_path(self) -> Path:
        path = Path(self.destination.queue_file).expanduser()
        return path if path.is_absolute() else self.root / path


def _pick(found: dict[str, EventDestination], wanted: str | None, where: str) -> tuple[str, Any]:
    if wanted is not None:
        if wanted not in found:
            names = ", ".join(sorted(found)) or "none"
            raise ProjectError.single(
                where, f"no listrak_events destination named {wanted!r} (there are: {names})"
            )
        return wanted, found[wanted]
    if not found:
        raise ProjectError.single(where, "no destination of type listrak_events")
    if len(found) > 1:
        raise ProjectError.single(
            where,
            "several listrak_events destinations; choose one with --destination",
            hint=", ".join(sorted(found)),
        )
    return next(iter(found.items()))


def _from_file(path: Path, wanted: str | None, credentials: bool) -> EventsSetup:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ProjectError.single(path, f"cannot read: {exc.strerror}") from None
    marked = load_marked(text, str(path))
    if marked.problems:
        raise ProjectError(marked.problems)
    try:
        doc = EventsFile.model_validate(marked.data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if p not in CONDITION_TAGS)
            where = ".".join(str(p) for p in loc) or "(top level)"
            message = f"{where}: {error['msg'].removeprefix('Value error, ')}"
            problems.append(marked.problem(loc, message, key=error["type"] == "extra_forbidden"))
        raise ProjectError(problems) from None
    name, destination = _pick(doc.destinations, wanted, str(path))
    root = path.parent
    resolved: dict[str, Credentials] = {}
    if credentials:
        secrets_path = root / doc.secrets_file
        secrets = read_secrets_file(secrets_path)
        for cred in destination.credentials():
            entry = doc.credentials.get(cred)
            if entry is None:
                raise ProjectError.single(path, f"no credential named {cred!r} in `credentials`")
            try:
                client_id = lookup_secret(entry.client_id, secrets, secrets_path)
                client_secret = lookup_secret(entry.client_secret, secrets, secrets_path)
            except LookupError as exc:
                raise ProjectError.single(path, str(exc)) from None
            resolved[cred] = Credentials(
                client_id=client_id.get_secret_value(), client_secret=client_secret
            )
    return EventsSetup(name, destination, root, doc.listrak, resolved)


def _from_project(root: Path, wanted: str | None, credentials: bool) -> EventsSetup:
    project = load_project(root)
    found: dict[str, EventDestination] = {}
    for name, dest in project.config.destinations.items():
        if isinstance(dest, EventDestination):  # once the project embeds the model
            found[name] = dest
    name, destination = _pick(found, wanted, str(project.config_file))
    resolved: dict[str, Credentials] = {}
    if credentials:
        for cred in destination.credentials():
            value = resolve_listrak(project, cred)
            resolved[cred] = Credentials(
                client_id=value.client_id, client_secret=value.client_secret
            )
    return EventsSetup(name, destination, project.root, project.config.listrak, resolved)


def load_setup(
    *,
    config: Path | None = None,
    project: Path | None = None,
    destination: str | None = None,
    credentials: bool = True,
) -> EventsSetup:
    """The event destination from ``config`` if given, else from the project folder."""
    if config is not None:
        return _from_file(config, destination, credentials)
    root = project or Path.cwd()
    if not (root / CONFIG_FILE).exists():
        raise ProjectError(
            [
                Problem(
                    str(root / CONFIG_FILE),
                    0,
                    0,
                    "no project file here",
                    "give --project DIR or --config FILE (a stand-alone events config)",
                )
            ]
        )
    return _from_project(root, destination, credentials)
