"""What ``export`` sends where, read from a project: the destination, the SFTP target, and the
Data Import API client.

Credentials are resolved through ``project.secrets`` (by name, from the environment or the
secrets file); this module only decides which destination and which overrides apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, ValidationError

from ..config.files import ListrakDataDestination, ListrakFilesDestination, SftpTarget
from ..listrak import ClientSettings, Credentials
from ..project.loader import Project, did_you_mean
from ..project.problems import ProjectError
from ..project.secrets import resolve_listrak, sftp_target

__all__ = [
    "FILES_HINT",
    "choose_destination",
    "data_client",
    "project_sftp",
    "spool_path",
    "with_rules",
]

Kind = Literal["listrak_files", "listrak_data"]
Destination = ListrakFilesDestination | ListrakDataDestination

FILES_HINT = (
    "add one under `destinations:`, e.g. `files: {type: listrak_files, source_timezone: UTC}` "
    "(and an `sftp:` block naming a `type: sftp` credential to upload)"
)
_DATA_HINT = (
    "add one under `destinations:`, e.g. "
    "`data_api: {type: listrak_data, credential: NAME, source_timezone: UTC}`"
)


def choose_destination(project: Project, kind: Kind, name: str | None) -> tuple[str, Destination]:
    """The destination ``name`` (which must be of ``kind``), or the project's only one of
    ``kind``; a ProjectError says which names there are when the choice is missing or unclear."""
    destinations = project.config.destinations
    wanted = ListrakFilesDestination if kind == "listrak_files" else ListrakDataDestination
    if name is not None:
        found = destinations.get(name)
        if found is None:
            raise ProjectError.single(
                project.config_file,
                f"no destination named {name!r}",
                hint=did_you_mean(name, destinations),
            )
        if not isinstance(found, wanted):
            raise ProjectError(
                [
                    project.problem(
                        ("destinations", name, "type"),
                        f"destination {name!r} is {found.type}; this export needs {kind}",
                    )
                ]
            )
        return name, found
    matches = {n: d for n, d in destinations.items() if isinstance(d, wanted)}
    if len(matches) == 1:
        ((only, destination),) = matches.items()
        return only, destination
    if not matches:
        hint = FILES_HINT if kind == "listrak_files" else _DATA_HINT
        raise ProjectError.single(project.config_file, f"no {kind} destination", hint=hint)
    raise ProjectError.single(
        project.config_file,
        f"several {kind} destinations: {', '.join(sorted(matches))}",
        hint="choose one with --destination NAME",
    )


def with_rules(destination: Destination, overrides: dict[str, Any]) -> Destination:
    """``destination`` with command-line ``overrides`` (None: not given), validated again.

    The ``sftp:`` block is left out: the uploader takes its target separately (and a project's
    block refuses the login fields that dumping it would write back)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    if not given:
        return destination
    if isinstance(destination, ListrakFilesDestination):
        base = destination.model_dump(exclude={"sftp"})
        return ListrakFilesDestination.model_validate({**base, **given})
    return ListrakDataDestination.model_validate({**destination.model_dump(), **given})


def project_sftp(
    project: Project,
    name: str,
    destination: ListrakFilesDestination,
    overrides: dict[str, Any],
    login: dict[str, Any] | None,
) -> SftpTarget:
    """The SFTP target of destination ``name``: its ``sftp:`` block with the login of the
    credential it names, or ``login`` from the command line instead; ``overrides`` (host, port,
    known_hosts, remote_dir; None: not given) replace the block's values."""
    given = {key: value for key, value in overrides.items() if value is not None}
    if destination.sftp is None and login is None:
        raise ProjectError(
            [
                project.problem(
                    ("destinations", name),
                    f"destination {name!r} has no `sftp:` block to upload with",
                    "add `sftp: {host: ..., credential: NAME, known_hosts: ..., remote_dir: ...}`"
                    " naming a `type: sftp` credential, or use --to dir",
                )
            ]
        )
    if login is None:
        target = sftp_target(project, name)
        fields = target.model_dump()
    else:
        # The command line's login replaces the credential; where to connect still comes
        # from the project unless overridden too.
        fields = {}
        if destination.sftp is not None:
            fields = destination.sftp.model_dump(
                include={"host", "port", "remote_dir", "attempts", "connect_timeout"}
            )
            fields["known_hosts"] = project.path(str(destination.sftp.known_hosts))
        fields.update(login)
    try:
        return SftpTarget.model_validate({**fields, **given})
    except ValidationError as exc:
        # Our message only: pydantic's would quote the input, which holds the login.
        errors = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'sftp'}: {e['msg']}" for e in exc.errors()
        )
        raise ProjectError(
            [
                project.problem(
                    ("destinations", name, "sftp"), f"cannot use this SFTP target: {errors}"
                )
            ]
        ) from None


def data_client(
    project: Project,
    name: str,
    destination: ListrakDataDestination,
    *,
    api_url: str | None,
    login: tuple[str, SecretStr] | None,
) -> tuple[ClientSettings, Credentials]:
    """Settings and credentials for the Data Import API: the project's ``listrak`` hosts (or
    ``api_url`` for both auth and API), the destination's batch sizes, and the credential it
    names (or ``login`` from the command line)."""
    hosts = project.config.listrak
    urls = {"api_url": api_url, "auth_url": api_url} if api_url else hosts.model_dump()
    settings = ClientSettings.model_validate(
        {
            **urls,
            "data_max_records": destination.batch_records,
            "data_max_body_bytes": destination.batch_bytes,
        }
    )
    if login is not None:
        return settings, Credentials(client_id=login[0], client_secret=login[1])
    if destination.credential is None:
        raise ProjectError(
            [
                project.problem(
                    ("destinations", name),
                    f"destination {name!r} names no credential",
                    "add `credential: NAME` of a `type: listrak` credential (the Data "
                    "integration), or pass --client-id",
                )
            ]
        )
    resolved = resolve_listrak(project, destination.credential)
    return settings, Credentials(client_id=resolved.client_id, client_secret=resolved.client_secret)


def spool_path(project: Project, destination: ListrakFilesDestination) -> Path | None:
    """The destination's ``spool_dir`` against the project folder."""
    if destination.spool_dir is None:
        return None
    return project.path(str(destination.spool_dir))
