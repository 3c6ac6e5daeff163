"""``listrak-sync sample-data``: fill a warehouse with the sample retail tables."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..base import WarehouseError
from ..factory import connect
from . import DEFAULT_SEED
from .generator import generate

__all__ = ["sample_data"]


def sample_data(
    customers: Annotated[
        int, typer.Option("--customers", "-n", min=1, max=99_999_999, help="Customers to create.")
    ],
    seed: Annotated[int, typer.Option(help="Same seed (and --as-of), same tables.")] = DEFAULT_SEED,
    warehouse: Annotated[
        str,
        typer.Option(
            "--warehouse",
            "-w",
            envvar="LISTRAK_SYNC_WAREHOUSE",
            help="DuckDB file or warehouse URL (duckdb:///file.duckdb).",
        ),
    ] = "warehouse.duckdb",
    as_of: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Dates fall before this day [default: today]."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite sample tables that already exist.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what was written as one JSON document.")
    ] = False,
) -> None:
    """Create customer_360, merged_customers, orders, order_items, products, sms_opt_status and
    email_opt_status: realistic, deliberately messy retail data."""
    console = Console()
    try:
        with (
            connect(warehouse) as target,
            console.status(f"Generating {customers:,} customers in {warehouse}…"),
        ):
            result = generate(
                target,
                customers=customers,
                seed=seed,
                as_of=as_of.date() if as_of else None,
                replace=replace,
            )
    except WarehouseError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if as_json:
        document = {
            "warehouse": warehouse,
            "customers": result.customers,
            "seed": result.seed,
            "as_of": result.as_of.isoformat(),
            "rows": result.rows,
            "seconds": round(result.seconds, 3),
        }
        console.print_json(json.dumps(document))
        return
    table = Table(title="Sample data", caption=f"{warehouse}, seed {seed}, as of {result.as_of}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in result.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    rate = result.total_rows / result.seconds if result.seconds else 0.0
    summary = f"{result.total_rows:,} rows in {result.seconds:.1f} s ({rate:,.0f} rows/s)"
    console.print(summary, highlight=False)
