"""``listrak-sync export``: data sets to a local folder, to Listrak's SFTP, or to the Data API.

With a project (``--project``, default the current folder when it holds ``listrak-sync.yml``)
the ``listrak_files`` or ``listrak_data`` destination, the warehouse, the credentials and the
Listrak hosts come from it, and the options below override them. Without one, the options alone
say what to do.
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

import typer
from pydantic import SecretStr, ValidationError
from rich.console import Console
from rich.table import Table

from ..listrak import ClientSettings, Credentials, ListrakClient, ListrakError
from ..project.cli import print_problems
from ..project.connection import open_warehouse
from ..project.loader import CONFIG_FILE, Project, load_project
from ..project.problems import ProjectError
from ..warehouse import Warehouse, WarehouseError, connect
from .config import ListrakDataDestination, ListrakFilesDestination, SftpTarget
from .export import DatasetReport, Exporter, ExportError, ExportReport
from .sftp import SftpError
from .targets import choose_destination, data_client, project_sftp, spool_path, with_rules

__all__ = ["export"]

console = Console(stderr=True)  # errors and notes
results = Console()  # what was delivered: stdout

DEFAULT_SECRET_ENV = "LISTRAK_DATA_CLIENT_SECRET"
Target = Literal["dir", "sftp", "api"]

# Like `validate`'s and `sync`'s --project, but None when not given: then a folder without a
# project file means "options only" rather than an error.
ProjectOption = Annotated[
    Path | None,
    typer.Option(
        "--project",
        "-p",
        envvar="LISTRAK_SYNC_PROJECT",
        help="The project folder (holding listrak-sync.yml); default: the current folder, "
        "if it holds one.",
        file_okay=False,
    ),
]


def _secret(env: str | None) -> SecretStr | None:
    """A secret read from an environment variable: never from the command line."""
    if not env:
        return None
    value = os.environ.get(env)
    if value is None:
        raise typer.BadParameter(f"environment variable {env} is not set")
    return SecretStr(value)


def _delivered(report: ExportReport, entry: DatasetReport) -> int:
    """Rows that reached their target: written into the folder, uploaded, or sent to the API.
    A file built in the spool whose upload failed delivered nothing."""
    if report.target == "sftp" and entry.error is not None:
        return 0
    return entry.rows_written


def _show(report: ExportReport, as_json: bool = False) -> None:
    if as_json:
        document = {
            "target": report.target,
            "failed": report.failed,
            "datasets": [
                {
                    "dataset": entry.dataset,
                    "rows_read": entry.rows_read,
                    "rows_delivered": _delivered(report, entry),
                    "rows_rejected": entry.rows_rejected,
                    "warnings": entry.warnings,
                    "location": entry.location,
                    "imports": len(entry.resource_ids),
                    "error": entry.error,
                }
                for entry in report.datasets
            ],
            "notes": report.notes,
        }
        results.print_json(json.dumps(document))
        return
    table = Table(title=f"Export to {report.target}")
    for name in ("data set", "read", "delivered", "rejected", "warnings", "where"):
        table.add_column(name, justify="right" if name in ("read", "delivered") else "left")
    for entry in report.datasets:
        where = (entry.error and f"[red]{entry.error}[/red]") or entry.location or ""
        if entry.resource_ids:
            where = f"{len(entry.resource_ids)} imports"
        table.add_row(
            entry.dataset,
            str(entry.rows_read),
            str(_delivered(report, entry)),
            str(entry.rows_rejected),
            str(entry.warnings),
            where,
        )
    results.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    for entry in report.datasets:
        for severity, column, reason, count in entry.issues.summary()[:10]:
            line = f"  {entry.dataset}.{column}: {reason} ({severity}, {count} rows)"
            console.print(line, markup=False)
        for issue in entry.issues.sample[:5]:
            console.print(f"    e.g. {issue}", markup=False)


@dataclass
class _Plan:
    """What one export run uses, resolved before any data is read: a bad credential or a
    missing destination fails the run before a file is written."""

    destination: ListrakFilesDestination | ListrakDataDestination
    warehouse: str | None  # None: the project's
    sftp: SftpTarget | None = None
    client: tuple[ClientSettings, Credentials] | None = None


@dataclass
class _Options:
    """The command line's choices; None means "not given" (the project's value, or default)."""

    to: Target
    destination: str | None
    warehouse: str | None
    rules: dict[str, Any]  # ValidationRules / destination fields
    sftp: dict[str, Any]  # host, port, known_hosts, remote_dir
    sftp_login: dict[str, Any] | None
    api_url: str | None
    api_login: tuple[str, SecretStr] | None


def export(
    datasets: list[str] = typer.Argument(
        None, help="customers, products, orders, order_items (default: all configured)"
    ),
    to: Target = typer.Option("dir", "--to", help="where to deliver"),
    project: ProjectOption = None,
    destination: str | None = typer.Option(
        None,
        "--destination",
        "-d",
        help="the project's listrak_files (dir, sftp) or listrak_data (api) destination; "
        "needed when it has several",
    ),
    out: Path = typer.Option(Path("listrak-files"), "--out", help="folder for --to dir"),
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="path or URL (default: the project's, else warehouse.duckdb)"
    ),
    host: str | None = typer.Option(None, help="SFTP host (default: ftp.listrak.com)"),
    port: int | None = typer.Option(None, help="SFTP port (default: 22)"),
    user: str | None = typer.Option(None, help="SFTP user (replaces the project's credential)"),
    key: Path | None = typer.Option(None, help="SFTP private key file"),
    password_env: str | None = typer.Option(
        None, help="environment variable holding the SFTP password (or key passphrase)"
    ),
    known_hosts: Path | None = typer.Option(
        None, help="known_hosts file (default: ~/.ssh/known_hosts)"
    ),
    remote_dir: str | None = typer.Option(None, help="SFTP folder to upload into (default: .)"),
    api_url: str | None = typer.Option(
        None, help="Listrak base URL for auth and API (e.g. the emulator's)"
    ),
    client_id: str | None = typer.Option(
        None, help="Data integration client id (replaces the project's credential)"
    ),
    client_secret_env: str | None = typer.Option(
        None, help=f"environment variable holding the client secret (default: {DEFAULT_SECRET_ENV})"
    ),
    date_format: str | None = typer.Option(
        None, help="strftime pattern of the {date} token (default: %Y%m%d)"
    ),
    source_timezone: str | None = typer.Option(
        None, help="time zone of timestamps stored without one (else they are rejected)"
    ),
    errors_file: Path | None = typer.Option(None, help="write every row issue to this CSV"),
    as_json: bool = typer.Option(False, "--json", help="print the report as one JSON document"),
) -> None:
    """Validate customers, products, orders and order items and deliver them to Listrak.

    With a project (--project, or listrak-sync.yml here), its destination, warehouse,
    credentials and Listrak hosts are used; the options override them."""
    if (key or password_env) and not user:
        raise typer.BadParameter("--key and --password-env go with --user")
    rules: dict[str, Any] = {"source_timezone": source_timezone}
    if to != "api":
        rules["date_format"] = date_format
    options = _Options(
        to=to,
        destination=destination,
        warehouse=warehouse,
        rules=rules,
        sftp={"host": host, "port": port, "known_hosts": known_hosts, "remote_dir": remote_dir},
        sftp_login=_sftp_login(user, key, password_env) if user else None,
        api_url=api_url,
        api_login=_api_login(client_id, client_secret_env) if client_id else None,
    )
    loaded = _load(project)
    try:
        plan = _standalone(options) if loaded is None else _from_project(loaded, options)
    except ProjectError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None
    except ValidationError as exc:
        console.print(f"[red]invalid option:[/red] {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None
    report = _run(plan, loaded, to, datasets or [], out, errors_file)
    _show(report, as_json)
    if report.failed:
        raise typer.Exit(1)


def _open(plan: _Plan, project: Project | None) -> Warehouse:
    if plan.warehouse is not None or project is None:
        return connect(plan.warehouse or "warehouse.duckdb")
    return open_warehouse(project, read_only=True)  # an export only reads


def _run(
    plan: _Plan,
    project: Project | None,
    to: Target,
    names: list[str],
    out: Path,
    errors_file: Path | None,
) -> ExportReport:
    with ExitStack() as stack:
        sink: BinaryIO | None = None
        if errors_file is not None:
            sink = stack.enter_context(errors_file.open("wb"))
        try:
            wh = stack.enter_context(_open(plan, project))
        except ProjectError as exc:
            print_problems(exc.problems)
            raise typer.Exit(1) from None
        except WarehouseError as exc:
            console.print(f"[red]warehouse:[/red] {exc}")
            raise typer.Exit(1) from None
        exporter = Exporter(wh, plan.destination, errors_file=sink)
        try:
            if to == "dir":
                return exporter.write_dir(names, out)
            if to == "sftp":
                assert plan.sftp is not None
                return asyncio.run(exporter.upload(names, plan.sftp))
            assert plan.client is not None
            return asyncio.run(_send(exporter, names, *plan.client))
        except (ExportError, SftpError, ListrakError) as exc:
            console.print(f"[red]export failed:[/red] {exc}")
            raise typer.Exit(1) from None


def _load(folder: Path | None) -> Project | None:
    """The project in ``folder``; without ``--project``, the current folder's if it has one."""
    if folder is None and not Path(CONFIG_FILE).is_file():
        return None
    try:
        return load_project(folder or Path("."))
    except ProjectError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None


def _from_project(project: Project, options: _Options) -> _Plan:
    to = options.to
    kind: Literal["listrak_files", "listrak_data"] = (
        "listrak_data" if to == "api" else "listrak_files"
    )
    name, found = choose_destination(project, kind, options.destination)
    rules = dict(options.rules)
    if isinstance(found, ListrakFilesDestination) and found.spool_dir is not None:
        rules["spool_dir"] = spool_path(project, found)
    plan = _Plan(with_rules(found, rules), options.warehouse)
    if to == "sftp":
        assert isinstance(found, ListrakFilesDestination)
        plan.sftp = project_sftp(project, name, found, options.sftp, options.sftp_login)
    elif to == "api":
        assert isinstance(found, ListrakDataDestination)
        plan.client = data_client(
            project, name, found, api_url=options.api_url, login=options.api_login
        )
    return plan


def _standalone(options: _Options) -> _Plan:
    """Options only (no project): defaults for everything not given."""
    given = {key: value for key, value in options.rules.items() if value is not None}
    if options.to == "api":
        data = ListrakDataDestination(**given)
        return _Plan(data, options.warehouse, client=_client(data, options))
    plan = _Plan(ListrakFilesDestination(**given), options.warehouse)
    if options.to == "sftp":
        if options.sftp_login is None:
            raise typer.BadParameter("--to sftp needs --user (or a project)")
        where = {key: value for key, value in options.sftp.items() if value is not None}
        try:
            plan.sftp = SftpTarget(**where, **options.sftp_login)
        except ValidationError as exc:
            raise typer.BadParameter(str(exc.errors()[0]["msg"])) from None
    return plan


def _client(
    destination: ListrakDataDestination, options: _Options
) -> tuple[ClientSettings, Credentials]:
    if options.api_login is None:
        raise typer.BadParameter("--to api needs --client-id (or a project)")
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


def _sftp_login(user: str, key: Path | None, password_env: str | None) -> dict[str, Any]:
    """The SFTP login given on the command line; its secret only through an environment
    variable (the password, or the key's passphrase when a key is given)."""
    secret = _secret(password_env)
    return {
        "username": user,
        "private_key": key,
        "password": secret if key is None else None,
        "passphrase": secret if key is not None else None,
    }


def _api_login(client_id: str, secret_env: str | None) -> tuple[str, SecretStr]:
    secret = _secret(secret_env or DEFAULT_SECRET_ENV)
    assert secret is not None
    return client_id, secret


async def _send(
    exporter: Exporter, names: list[str], settings: ClientSettings, credentials: Credentials
) -> ExportReport:
    async with ListrakClient(data=credentials, settings=settings) as client:
        return await exporter.send(names, client.data)
