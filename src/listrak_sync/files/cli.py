"""``listrak-sync export``: data sets to a local folder, to Listrak's SFTP, or to the Data API."""

from __future__ import annotations

import asyncio
import os
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, Literal

import typer
from pydantic import SecretStr, ValidationError
from rich.console import Console
from rich.table import Table

from ..listrak import ClientSettings, Credentials, ListrakClient, ListrakError
from ..warehouse import WarehouseError, connect
from .config import ListrakDataDestination, ListrakFilesDestination, SftpTarget
from .export import Exporter, ExportError, ExportReport
from .sftp import SftpError

__all__ = ["export"]

console = Console(stderr=True)


def _secret(env: str | None) -> SecretStr | None:
    """A secret read from an environment variable: never from the command line."""
    if not env:
        return None
    value = os.environ.get(env)
    if value is None:
        raise typer.BadParameter(f"environment variable {env} is not set")
    return SecretStr(value)


def _show(report: ExportReport) -> None:
    table = Table(title=f"Export to {report.target}")
    for name in ("data set", "read", "written", "rejected", "warnings", "where"):
        table.add_column(name, justify="right" if name in ("read", "written") else "left")
    for entry in report.datasets:
        where = (entry.error and f"[red]{entry.error}[/red]") or entry.location or ""
        if entry.resource_ids:
            where = f"{len(entry.resource_ids)} imports"
        table.add_row(
            entry.dataset,
            str(entry.rows_read),
            str(entry.rows_written),
            str(entry.rows_rejected),
            str(entry.warnings),
            where,
        )
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    for entry in report.datasets:
        for severity, column, reason, count in entry.issues.summary()[:10]:
            line = f"  {entry.dataset}.{column}: {reason} ({severity}, {count} rows)"
            console.print(line, markup=False)
        for issue in entry.issues.sample[:5]:
            console.print(f"    e.g. {issue}", markup=False)


def export(
    datasets: list[str] = typer.Argument(
        None, help="customers, products, orders, order_items (default: all configured)"
    ),
    to: Literal["dir", "sftp", "api"] = typer.Option("dir", "--to", help="where to deliver"),
    out: Path = typer.Option(Path("listrak-files"), "--out", help="folder for --to dir"),
    warehouse: str = typer.Option("warehouse.duckdb", "--warehouse", help="path or URL"),
    host: str = typer.Option("ftp.listrak.com", help="SFTP host"),
    port: int = typer.Option(22, help="SFTP port"),
    user: str | None = typer.Option(None, help="SFTP user"),
    key: Path | None = typer.Option(None, help="SFTP private key file"),
    password_env: str | None = typer.Option(
        None, help="environment variable holding the SFTP password (or key passphrase)"
    ),
    known_hosts: Path = typer.Option(Path("~/.ssh/known_hosts"), help="known_hosts file"),
    remote_dir: str = typer.Option(".", help="SFTP folder to upload into"),
    api_url: str | None = typer.Option(
        None, help="Listrak base URL for auth and API (e.g. the emulator's)"
    ),
    client_id: str | None = typer.Option(None, help="Data integration client id"),
    client_secret_env: str = typer.Option(
        "LISTRAK_DATA_CLIENT_SECRET", help="environment variable holding the client secret"
    ),
    date_format: str = typer.Option("%Y%m%d", help="strftime pattern of the {date} token"),
    source_timezone: str | None = typer.Option(
        None, help="time zone of timestamps stored without one (else they are rejected)"
    ),
    errors_file: Path | None = typer.Option(None, help="write every row issue to this CSV"),
) -> None:
    """Validate customers, products, orders and order items and deliver them to Listrak."""
    names = datasets or []
    try:
        rules = {"source_timezone": source_timezone}
        if to == "api":
            destination: ListrakFilesDestination | ListrakDataDestination = ListrakDataDestination(
                **rules
            )
        else:
            destination = ListrakFilesDestination(date_format=date_format, **rules)
    except ValidationError as exc:
        console.print(f"[red]invalid option:[/red] {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None
    with ExitStack() as stack:
        sink: BinaryIO | None = None
        if errors_file is not None:
            sink = stack.enter_context(errors_file.open("wb"))
        try:
            wh = stack.enter_context(connect(warehouse))
        except WarehouseError as exc:
            console.print(f"[red]warehouse:[/red] {exc}")
            raise typer.Exit(1) from None
        exporter = Exporter(wh, destination, errors_file=sink)
        try:
            if to == "dir":
                report = exporter.write_dir(names, out)
            elif to == "sftp":
                report = asyncio.run(
                    exporter.upload(
                        names, _sftp(host, port, user, key, password_env, known_hosts, remote_dir)
                    )
                )
            else:
                report = asyncio.run(_send(exporter, names, api_url, client_id, client_secret_env))
        except (ExportError, SftpError, ListrakError) as exc:
            console.print(f"[red]export failed:[/red] {exc}")
            raise typer.Exit(1) from None
    _show(report)
    if report.failed:
        raise typer.Exit(1)


def _sftp(
    host: str,
    port: int,
    user: str | None,
    key: Path | None,
    password_env: str | None,
    known_hosts: Path,
    remote_dir: str,
) -> SftpTarget:
    if user is None:
        raise typer.BadParameter("--to sftp needs --user")
    secret = _secret(password_env)
    try:
        return SftpTarget(
            host=host,
            port=port,
            username=user,
            private_key=key,
            password=secret if key is None else None,
            passphrase=secret if key is not None else None,
            known_hosts=known_hosts,
            remote_dir=remote_dir,
        )
    except ValidationError as exc:
        raise typer.BadParameter(str(exc.errors()[0]["msg"])) from None


async def _send(
    exporter: Exporter,
    names: list[str],
    api_url: str | None,
    client_id: str | None,
    secret_env: str,
) -> ExportReport:
    if client_id is None:
        raise typer.BadParameter("--to api needs --client-id")
    secret = _secret(secret_env)
    assert secret is not None
    settings = ClientSettings.for_base_url(api_url) if api_url else ClientSettings()
    credentials = Credentials(client_id=client_id, client_secret=secret)
    async with ListrakClient(data=credentials, settings=settings) as client:
        return await exporter.send(names, client.data)
