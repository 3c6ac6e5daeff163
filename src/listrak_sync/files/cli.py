"""``listrak-sync export``: data sets to a local folder, to Listrak's SFTP, or to the Data API.

With a project (``--project``, default the current folder when it holds ``listrak-sync.yml``)
the ``listrak_files`` or ``listrak_data`` destination, the warehouse, the credentials and the
Listrak hosts come from it, and the options below override them. Without one, the options alone
say what to do. A renderer of ``listrak_sync.export`` (api/_export.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from ..api import ExportOptions, ExportTarget
from ..api import export as run_export
from ..files.export import DatasetReport, ExportReport
from ..project.loader import CONFIG_FILE

__all__ = ["export"]

console = Console(stderr=True)  # errors and notes
results = Console()  # what was delivered: stdout

DEFAULT_SECRET_ENV = "LISTRAK_DATA_CLIENT_SECRET"
Target = ExportTarget

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
        if entry.requests:
            where = f"{entry.requests} imports"
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
    options = ExportOptions(
        date_format=date_format,
        source_timezone=source_timezone,
        sftp={"host": host, "port": port, "known_hosts": known_hosts, "remote_dir": remote_dir},
        sftp_login=_sftp_login(user, key, password_env) if user else None,
        api_url=api_url,
        api_login=_api_login(client_id, client_secret_env) if client_id else None,
    )
    if project is None and Path(CONFIG_FILE).is_file():
        project = Path(".")  # without --project, the current folder's project if it has one
    report = run_export(
        project,
        datasets or [],
        to=to,
        out=out,
        destination=destination,
        options=options,
        warehouse=warehouse,
        errors_file=errors_file,
    )
    _show(report, as_json)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


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
