"""The SMS part of ``listrak-sync demo``: the sample campaign's SMS list, synced twice.

It creates the sample project in a temporary folder, plans the ``spring_sale`` campaign's SMS
destination (the seeded Marketing list holds people outside the audience, so the removal guard
speaks), syncs with the guard confirmed, withdraws some members' consent and changes a first
name, syncs again incrementally, and shows what the SMS list holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from ..audiences.keys import normalise_phone
from ..emulator.admin_client import EmulatorAdmin
from ..masking import mask_phone, mask_value
from ..project.loader import CONFIG_FILE, load_project
from ..project.scaffold import scaffold
from ..sync.engine import plan_campaign, sync_campaign
from ..sync.options import SyncOptions
from ..sync.report import UnitOutcome
from ..warehouse import connect

__all__ = ["sms_demo"]

CAMPAIGN = "spring_sale"
DESTINATION = "sms_marketing"
SENDER_CODE = 101
LIST_ID = 5001
# Five members text STOP (their opt status turns opted_out) and one changes first name.
_CHANGES = """
CREATE OR REPLACE TABLE demo_sms_members AS
SELECT phone FROM sms_opt_status WHERE status = 'opted_in' AND phone IN ({phones});
INSERT INTO sms_opt_status (phone, status, updated_at)
SELECT phone, 'opted_out', now()::TIMESTAMP + INTERVAL 1 DAY
FROM demo_sms_members ORDER BY phone LIMIT 5;
UPDATE merged_customers SET first_name = 'Renamed'
WHERE customer_id = (SELECT min(customer_id) FROM merged_customers
                     WHERE phone IN (SELECT phone FROM demo_sms_members));
DROP TABLE demo_sms_members;
"""


def _options(**values: bool) -> SyncOptions:
    return SyncOptions(destinations=(DESTINATION,), client={"import_poll_interval": 0.2}, **values)


def _show(console: Console, title: str, outcome: UnitOutcome) -> None:
    plan = outcome.plan
    counts = outcome.run.counts if outcome.run else {}
    table = Table(title=f"{title}: {outcome.target} → {outcome.status}")
    planned = ("enter", "change", "same", "leave")
    done = (
        ("added", "added"),
        ("updated", "applied"),
        ("removed", "absent"),
        ("rejected", "rejected"),
    )
    for column in (*planned, *(name for name, _ in done)):
        table.add_column(column, justify="right")
    table.add_row(
        *(str(plan.counts.get(c, 0)) if plan else "-" for c in planned),
        *(str(counts[key]) if key in counts else "-" for _, key in done),
    )
    console.print(table)
    for warning in outcome.warnings:
        console.print(f"[yellow]{warning}[/]")
    if outcome.error and outcome.status != "refused":
        console.print(f"[red]{outcome.error}[/]")


def _withdraw_consent(root: Path, members: list[str]) -> None:
    project = load_project(root)
    with connect(project.config.warehouse.connection, base_dir=root) as warehouse:
        # The opt status table holds numbers as typed; match members on their E.164 digits.
        region = project.config.warehouse.default_region
        wanted = set(members)
        typed = warehouse.query("SELECT DISTINCT phone FROM sms_opt_status WHERE phone IS NOT NULL")
        raws = [
            raw
            for raw in typed.column("phone").to_pylist()
            if normalise_phone(str(raw).strip(), region)[0] in wanted
        ]
        quoted = ", ".join("'" + str(raw).replace("'", "''") + "'" for raw in raws) or "NULL"
        warehouse.execute(_CHANGES.format(phones=quoted))


def _members(base_url: str) -> list[dict[str, Any]]:
    with EmulatorAdmin(base_url) as admin:
        state = admin.state(full=True)
    return [
        c
        for c in state["sms"].get("contacts", [])
        if c["senderCodeId"] == SENDER_CODE
        and any(
            s["phoneListId"] == LIST_ID and s["state"] == "Subscribed" for s in c["subscriptions"]
        )
        and not c["optedOut"]
    ]


def sms_demo(console: Console, base_url: str, root: Path, *, show_pii: bool = False) -> None:
    """Sync the sample campaign's SMS destination to the emulator's Marketing list, twice; the
    sample project is created in ``root``."""
    console.rule("SMS list sync")
    scaffold(root, customers=5_000, seed=42)
    config_file = root / CONFIG_FILE
    config = yaml.safe_load(config_file.read_text("utf-8"))
    config["listrak"] = {"api_url": base_url, "auth_url": base_url}
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")

    plan = plan_campaign(load_project(root), CAMPAIGN, _options())[0]
    _show(console, "plan (nothing sent)", plan)
    refused = sync_campaign(load_project(root), CAMPAIGN, _options())[0]
    console.print(f"sync without confirmation → [bold]{refused.status}[/]")
    first = sync_campaign(load_project(root), CAMPAIGN, _options(allow_large_removal=True))[0]
    _show(console, "first sync (--allow-large-removal)", first)
    members = _members(base_url)
    _withdraw_consent(root, ["+" + str(c["phoneNumber"]) for c in members])
    second = sync_campaign(load_project(root), CAMPAIGN, _options())[0]
    _show(console, "incremental sync after 5 opt-outs and a name change", second)
    members = _members(base_url)
    masked = "" if show_pii else " (PII masked; --show-pii)"
    table = Table(title=f"SMS list {LIST_ID}: {len(members)} subscribed; a few of them{masked}")
    for column in ("phone", "first name"):
        table.add_column(column)
    for contact in members[:5]:
        phone = f"+{contact['phoneNumber']}"
        name = str(contact.get("firstName") or "")
        table.add_row(
            phone if show_pii else mask_phone(phone), name if show_pii else mask_value(name)
        )
    console.print(table)
    if first.status not in ("succeeded", "partial") or second.status not in (
        "succeeded",
        "partial",
    ):
        raise RuntimeError(f"the SMS demo sync ended {first.status} / {second.status}")
