"""Export data sets from Python: the call behind ``listrak-sync export``.

With a project, its ``listrak_files`` or ``listrak_data`` destination, warehouse, credentials and
Listrak hosts are used, and ``ExportOptions`` override them; without one, the options alone say
what to do. Everything (destination, SFTP target, API client) is resolved before a row is read:
a bad credential fails the export before a file is written.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import SecretStr, ValidationError

from ..config.files import ListrakDataDestination, ListrakFilesDestination, SftpTarget
from ..errors import UsageError
from ..files.export import Exporter, ExportReport
from ..listrak import ClientSettings, Credentials, ListrakClient
from ..project.connection import open_warehouse
from ..project.loader import Project
from ..warehouse import Warehouse, connect
from ._export_targets import choose_destination, data_client, project_sftp, spool_path, with_rules
from ._project import ProjectLike, load_project

__all__ = ["ExportOptions", "ExportTarget", "export", "export_async"]

ExportTarget = Literal["dir", "sftp", "api"]


@dataclass(frozen=True)
class ExportOptions:
    """Choices that override the project's (or, without a project, replace it); ``None``
    means "not given": the project's value, else the default."""

    date_format: str | None = None  # strftime pattern of the {date} token (files only)
    source_timezone: str | None = None  # zone of timestamps stored without one
    # SFTP: host, port, known_hosts, remote_dir; and a login replacing the project's
    # credential: username with password, or private_key with passphrase.
    sftp: dict[str, Any] = field(default_factory=dict)
    sftp_login: dict[str, Any] | None = None
    api_url: str | None = None  # Listrak base URL for auth and API (e.g. the emulator's)
    api_login: tuple[str, SecretStr] | None = None  # Data integration client id and secret


@dataclass
class _Plan:
    destination: ListrakFilesDestination | ListrakDataDestination
    warehouse: str | None  # None: the project's
    sftp: SftpTarget | None = None
    client: tuple[ClientSettings, Credentials] | None = None


def export(
    project: ProjectLike | None,
    datasets: list[str] | tuple[str, ...] = (),
    *,
    to: ExportTarget = "dir",
    out: str | Path = "listrak-files",
    destination: str | None = None,
    options: ExportOptions | None = None,
    warehouse: Warehouse | str | None = None,
    client: ListrakClient | None = None,
    errors_file: str | Path | None = None,
) -> ExportReport:
    """Validate customers, products, orders and order items and deliver them to Listrak.

    ``to`` is ``dir`` (files in ``out``), ``sftp`` (Listrak's SFTP) or ``api`` (the Data
    Import API); ``datasets`` defaults to every configured one; ``destination`` names the
    project's destination when it has several. ``warehouse`` is an open warehouse or a path or
    URL replacing the project's; ``client`` (with Data integration credentials) replaces the
    one built for ``to="api"``; ``errors_file`` receives every row issue as CSV.
    ``report.failed`` says whether a required data set failed.
    Runs its own event loop: inside a running one, ``await export_async(...)``.
    """
    return asyncio.run(
        export_async(
            project,
            datasets,
            to=to,
            out=out,
            destination=destination,
            options=options,
            warehouse=warehouse,
            client=client,
            errors_file=errors_file,
        )
    )


async def export_async(
    project: ProjectLike | None,
    datasets: list[str] | tuple[str, ...] = (),
    *,
    to: ExportTarget = "dir",
    out: str | Path = "listrak-files",
    destination: str | None = None,
    options: ExportOptions | None = None,
    warehouse: Warehouse | str | None = None,
    client: ListrakClient | None = None,
    errors_file: str | Path | None = None,
) -> ExportReport:
    """:func:`export` inside a running event loop."""
    chosen = options or ExportOptions()
    loaded = (
        None
        if project is None
        else project
        if isinstance(project, Project)
        else load_project(project)
    )
    given = warehouse if isinstance(warehouse, str) else None
    try:
        plan = (
            _standalone(to, chosen, given, needs_login=client is None)
            if loaded is None
            else _from_project(loaded, to, destination, chosen, given, needs_login=client is None)
        )
    except ValidationError as exc:
        raise UsageError(f"invalid option: {exc.errors()[0]['msg']}") from None
    names = list(datasets)
    with ExitStack() as stack:
        sink: BinaryIO | None = None
        if errors_file is not None:
            # The exporter writes issues as it validates, synchronously, like its data files.
            sink = stack.enter_context(Path(errors_file).open("wb"))  # noqa: ASYNC230
        if warehouse is not None and not isinstance(warehouse, str):
            source = stack.enter_context(nullcontext(warehouse))
        else:
            source = stack.enter_context(_open(plan, loaded))
        exporter = Exporter(source, plan.destination, errors_file=sink)
        if to == "dir":
            return exporter.write_dir(names, Path(out))
        if to == "sftp":
            assert plan.sftp is not None
            return await exporter.upload(names, plan.sftp)
        if client is not None:
            return await exporter.send(names, client.data)
        assert plan.client is not None
        settings, credentials = plan.client
        async with ListrakClient(data=credentials, settings=settings) as own:
            return await exporter.send(names, own.data)


def _open(plan: _Plan, project: Project | None) -> Warehouse:
    if plan.warehouse is not None or project is None:
        return connect(plan.warehouse or "warehouse.duckdb")
    return open_warehouse(project, read_only=True)  # an export only reads


def _rules(to: ExportTarget, options: ExportOptions) -> dict[str, Any]:
    rules: dict[str, Any] = {"source_timezone": options.source_timezone}
    if to != "api":
        rules["date_format"] = options.date_format
    return rules


def _from_project(
    project: Project,
    to: ExportTarget,
    name: str | None,
    options: ExportOptions,
    warehouse: str | None,
    *,
    needs_login: bool,
) -> _Plan:
    kind: Literal["listrak_files", "listrak_data"] = (
        "listrak_data" if to == "api" else "listrak_files"
    )
    name, found = choose_destination(project, kind, name)
    rules = _rules(to, options)
    if isinstance(found, ListrakFilesDestination) and found.spool_dir is not None:
        rules["spool_dir"] = spool_path(project, found)
    plan = _Plan(with_rules(found, rules), warehouse)
    if to == "sftp":
        assert isinstance(found, ListrakFilesDestination)
        plan.sftp = project_sftp(project, name, found, options.sftp, options.sftp_login)
    elif to == "api" and needs_login:
        assert isinstance(found, ListrakDataDestination)
        plan.client = data_client(
            project, name, found, api_url=options.api_url, login=options.api_login
        )
    return plan


def _standalone(
    to: ExportTarget, options: ExportOptions, warehouse: str | None, *, needs_login: bool
) -> _Plan:
    """Options only (no project): defaults for everything not given."""
    given = {key: value for key, value in _rules(to, options).items() if value is not None}
    if to == "api":
        data = ListrakDataDestination(**given)
        plan = _Plan(data, warehouse)
        if needs_login:
            plan.client = _client(data, options)
        return plan
    plan = _Plan(ListrakFilesDestination(**given), warehouse)
    if to == "sftp":
        if options.sftp_login is None:
            raise UsageError("--to sftp needs --user (or a project)")
        where = {key: value for key, value in options.sftp.items() if value is not None}
        plan.sftp = SftpTarget(**where, **options.sftp_login)
    return plan


def _client(
    destination: ListrakDataDestination, options: ExportOptions
) -> tuple[ClientSettings, Credentials]:
    if options.api_login is None:
        raise UsageError("--to api needs --client-id (or a project)")
    batches = {
        "data_max_records": destination.batch_records,
        "data_max_body_bytes": destination.batch_bytes,
    }
    url = options.api_url
    settings = (
        ClientSettings.for_base_url(url, **batches)
        if url
        else ClientSettings.model_validate(batches)
    )
    client_id, secret = options.api_login
    return settings, Credentials(client_id=client_id, client_secret=secret)
