"""The ``listrak-sync demo`` command: the emulator, the sandbox, then each destination's part.

It starts an emulator on a free loopback port, seeds the sandbox, and shows what Listrak holds.
Each part of the product adds its step here, so the demo always shows the main job as it is.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..emulator import EmulatorServer
from ..emulator.admin_client import EmulatorAdmin
from ..emulator.cli import sample_seed
from .email_demo import email_demo
from .sms_demo import sms_demo

__all__ = ["demo"]


def demo(
    keep: Annotated[
        bool,
        typer.Option("--keep", help="Keep the demo's sample projects and print where they are."),
    ] = False,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Show emails and phones unmasked.")
    ] = False,
) -> None:
    """Run the main job against the embedded emulator and sample data, then exit.

    The sample projects live in a temporary folder, deleted at the end unless --keep."""
    console = Console()
    folder = Path(tempfile.mkdtemp(prefix="listrak-sync-demo-"))
    try:
        _run(console, folder, show_pii=show_pii)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    if keep:
        console.print(
            f"kept the demo projects in {folder} (their listrak.api_url points at the demo's"
            " emulator, which has stopped: start `listrak-sync emulator --sample` and set"
            " api_url/auth_url to it to go on)",
            highlight=False,
            soft_wrap=True,
        )
    console.print("[green]demo finished[/]")


def _run(console: Console, folder: Path, *, show_pii: bool) -> None:
    seed = sample_seed()
    with EmulatorServer() as emulator:
        console.rule(f"Listrak emulator on {emulator.base_url}")
        with EmulatorAdmin(emulator.base_url) as admin:
            admin.seed(seed)
            state = admin.state()
        table = Table(title="Integrations")
        for column in ("client id", "integration", "paused", "beta access"):
            table.add_column(column)
        for client in state["clients"]:
            table.add_row(
                client["client_id"],
                client["integration"],
                str(client["paused"]),
                str(client["beta_access"]),
            )
        console.print(table)
        lists = Table(title="Email lists")
        for column in ("listId", "listName", "subscribed", "unsubscribed", "profile fields"):
            lists.add_column(column)
        for entry in state["email"]["lists"]:
            lists.add_row(
                str(entry["listId"]),
                entry["listName"],
                str(entry["contacts"]["Subscribed"]),
                str(entry["contacts"]["Unsubscribed"]),
                ", ".join(
                    f"{group['segmentationFieldGroupName']}.{field['segmentationFieldName']}"
                    for group in entry["segmentationFieldGroups"]
                    for field in group["segmentationFields"]
                ),
            )
        console.print(lists)
        sms_lists = Table(title="SMS lists")
        for column in ("phoneListId", "sender code", "name", "status", "subscribed", "pending"):
            sms_lists.add_column(column)
        for entry in state["sms"]["lists"]:
            sms_lists.add_row(
                str(entry["phoneListId"]),
                str(entry["senderCodeId"]),
                entry["phoneListName"],
                entry["status"],
                str(entry["subscribed"]),
                str(entry["pending"]),
            )
        console.print(sms_lists)
        email_demo(console, emulator.base_url, folder / "email", show_pii=show_pii)
        sms_demo(console, emulator.base_url, folder / "sms", show_pii=show_pii)
