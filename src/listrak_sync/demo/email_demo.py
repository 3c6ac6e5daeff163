"""The email part of ``listrak-sync demo``: a sample project synced to the Newsletter list twice.

It creates the sample project (``listrak-sync init``) in a temporary folder, points it at the
running emulator, syncs the ``spring_sale`` campaign's email destination, changes the warehouse
(some customers move city, some become high churn risk and leave the audience, some buy twice
and enter), syncs again incrementally, and shows what the list holds.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from ..emulator.admin_client import EmulatorAdmin
from ..masking import mask_email, mask_value
from ..project.loader import CONFIG_FILE, load_project
from ..project.scaffold import scaffold
from ..sync.engine import sync_campaign
from ..sync.options import SyncOptions
from ..sync.report import UnitOutcome
from ..warehouse import connect

__all__ = ["email_demo"]

CAMPAIGN = "spring_sale"
DESTINATION = "newsletter"
LIST_NAME = "Newsletter"
_CHANGES = """
-- 20 members move to Portland (an attribute change)
UPDATE merged_customers SET city = 'Portland'
WHERE customer_id IN (SELECT customer_id FROM demo_members ORDER BY customer_id LIMIT 20);
-- 10 members become high churn risk: the campaign excludes them, so they leave
UPDATE customer_360 SET churn_risk = 'high'
WHERE customer_id IN (SELECT customer_id FROM demo_members ORDER BY customer_id DESC LIMIT 10);
-- 15 other North American customers buy twice this week: they become recent buyers and enter
CREATE OR REPLACE TABLE demo_newcomers AS
SELECT DISTINCT o.customer_id FROM orders o JOIN customer_360 c USING (customer_id)
WHERE o.customer_id NOT IN (SELECT customer_id FROM demo_members)
  AND coalesce(c.churn_risk, '') <> 'high'
  AND c.country IN ('US', 'USA', 'us', 'CA', 'Canada', 'ca')
  AND o.customer_id NOT IN (SELECT customer_id FROM orders
                            WHERE status = 'Returned' AND order_date >= current_date - 60)
ORDER BY 1 LIMIT 15;
INSERT INTO orders
SELECT * EXCLUDE (rn, n) REPLACE (order_id || '-demo' || n AS order_id,
                               current_date - n AS order_date, 'Completed' AS status)
FROM (SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY order_id) AS rn
      FROM orders WHERE customer_id IN (SELECT customer_id FROM demo_newcomers)),
     (SELECT unnest([1, 2]) AS n)
WHERE rn = 1;
"""


def _project(root: Path, base_url: str) -> Path:
    scaffold(root, customers=5_000, seed=42)
    config_file = root / CONFIG_FILE
    config = yaml.safe_load(config_file.read_text("utf-8"))
    config["listrak"] = {"api_url": base_url, "auth_url": base_url}
    # The campaign adds a City attribute the seeded list does not have yet.
    config["destinations"][DESTINATION]["create_missing_fields"] = True
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    return root


def _sync(root: Path, console: Console, title: str) -> UnitOutcome:
    outcome = sync_campaign(
        load_project(root),
        CAMPAIGN,
        SyncOptions(destinations=(DESTINATION,), client={"import_poll_interval": 0.2}),
    )[0]
    plan = outcome.plan
    run = outcome.run
    table = Table(title=f"{title}: {outcome.target} → {outcome.status}")
    for column in (
        "enter",
        "change",
        "same",
        "leave",
        "imports",
        "added",
        "applied",
        "declined",
        "failed",
    ):
        table.add_column(column, justify="right")
    counts = run.counts if run else {}
    table.add_row(
        *(
            str(plan.counts.get(c, 0)) if plan else "-"
            for c in ("enter", "change", "same", "leave")
        ),
        str(len(plan.steps)) if plan else "-",
        *(str(counts.get(c, 0)) for c in ("added", "applied", "declined", "failed")),
    )
    console.print(table)
    if outcome.error:
        console.print(f"[red]{outcome.error}[/]")
    return outcome


def _change_data(root: Path) -> None:
    project = load_project(root)
    with connect(project.config.warehouse.connection, base_dir=root) as warehouse:
        # Who is in the audience now, and who the exclusion keeps out, from the segments' SQL.
        from ..audiences.segments import SegmentResolver

        segments = SegmentResolver(project.config, warehouse)
        campaign = project.config.campaigns[CAMPAIGN]
        excluded = "".join(f" EXCEPT {segments.sql(name)}" for name in campaign.exclude)
        warehouse.execute(
            f"CREATE OR REPLACE TABLE demo_members AS {segments.sql(campaign.segment)}{excluded}"
        )
        warehouse.execute(_CHANGES)
        warehouse.execute("DROP TABLE demo_members; DROP TABLE demo_newcomers")


def _show_list(console: Console, base_url: str, field: str, *, show_pii: bool) -> None:
    with EmulatorAdmin(base_url) as admin:
        state = admin.state(full=True)
    found = next(item for item in state["email"]["lists"] if item["listName"] == LIST_NAME)
    contacts = found["contactList"]
    values = [c["segmentationFieldValues"].get(field) for c in contacts]
    console.print(
        f"Listrak list {LIST_NAME!r}: {found['contacts']['Subscribed']} subscribed, "
        f"{found['contacts']['Unsubscribed']} unsubscribed; audience field {field!r}: "
        f"{values.count('on')} on, {values.count('off')} off; "
        f"{len(found['imports'])} list imports"
    )
    masked = "" if show_pii else " (PII masked; --show-pii)"
    table = Table(title=f"a few contacts as Listrak holds them{masked}")
    for column in ("email", "state", field, "FirstName", "City"):
        table.add_column(column)
    shown = [c for c in contacts if c["segmentationFieldValues"].get(field)][:4]
    shown += [c for c in contacts if c["segmentationFieldValues"].get(field) == "off"][:2]
    for contact in shown:
        fields = contact["segmentationFieldValues"]
        table.add_row(
            contact["emailAddress"] if show_pii else mask_email(contact["emailAddress"]),
            contact["subscriptionState"],
            fields.get(field, ""),
            fields.get("FirstName", "") if show_pii else mask_value(fields.get("FirstName", "")),
            fields.get("City", ""),
        )
    console.print(table)


def email_demo(console: Console, base_url: str, root: Path, *, show_pii: bool = False) -> None:
    """Sync the sample campaign to the emulator's Newsletter list, change data, sync again;
    the sample project is created in ``root``."""
    console.rule("Email list sync")
    _project(root, base_url)
    console.print("a sample project with 5,000 customers (`listrak-sync init`)")
    first = _sync(root, console, "first sync")
    _change_data(root)
    second = _sync(root, console, "incremental sync after a data change")
    field = first.target_info.get("segment_field", CAMPAIGN)
    _show_list(console, base_url, field, show_pii=show_pii)
    if first.status not in ("succeeded", "partial") or second.status not in (
        "succeeded",
        "partial",
    ):
        raise RuntimeError(f"the demo sync ended {first.status} / {second.status}")
