"""``listrak-sync segments list|show|size`` and ``listrak-sync campaigns list|show|preview``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from ..config.destinations import EmailDestination, SmsDestination
from ..masking import mask_row
from ..project.cli import ProjectOption
from ..project.connection import open_warehouse
from ..project.loader import Project, load_project
from ..warehouse import Warehouse
from .campaigns import STATUSES, AudienceUnit, CampaignAudience
from .insights import segment_insights
from .segments import SegmentResolver

__all__ = ["campaigns_app", "segments_app"]

segments_app = typer.Typer(help="Segments: list them, show their SQL, count who is in them.")
campaigns_app = typer.Typer(help="Campaigns: list them, show them, preview who gets what.")
console = Console()
errors = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Evaluate date conditions as of this day (default: today).",
    ),
]


@contextmanager
def _session(
    project_dir: Path, *, need_warehouse: bool = True
) -> Iterator[tuple[Project, Warehouse | None]]:
    """Load the project (and open its warehouse); errors are shown by cli.py."""
    warehouse: Warehouse | None = None
    try:
        project = load_project(project_dir)
        if need_warehouse:
            warehouse = open_warehouse(project, read_only=True)  # previews share the file
        yield project, warehouse
    finally:
        if warehouse is not None:
            warehouse.close()


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


# Why `segments size` and `campaigns preview` give different email counts for one audience.
REACH_NOTE = (
    "reachable by email: customers with a well-formed address that email_opt_status does not"
    " list as unsubscribed. `campaigns preview` counts differently: it removes the campaign's"
    " exclusions and control group, keeps one row per address, and counts unsubscribed"
    " addresses as ok (they are sent; Listrak keeps them unsubscribed)."
)


# --- segments ----------------------------------------------------------------------------


@segments_app.command("list")
def segments_list(project: ProjectOption = Path("."), as_json: JsonOption = False) -> None:
    """The project's segments (no warehouse needed)."""
    with _session(project, need_warehouse=False) as (loaded, _):
        if as_json:
            document = [
                {
                    "name": name,
                    "form": "sql" if segment.sql else "filter",
                    "description": segment.description,
                }
                for name, segment in loaded.config.segments.items()
            ]
            console.print_json(json.dumps(document))
            return
        table = Table(title="Segments")
        for column in ("name", "form", "description"):
            table.add_column(column)
        for name, segment in loaded.config.segments.items():
            table.add_row(name, "sql" if segment.sql else "filter", segment.description or "")
        console.print(table)


@segments_app.command("show")
def segments_show(
    name: Annotated[str, typer.Argument(help="Segment name.")],
    project: ProjectOption = Path("."),
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """A segment's definition and the SQL it runs."""
    with _session(project) as (loaded, warehouse):
        assert warehouse is not None
        resolver = SegmentResolver(loaded.config, warehouse, as_of=_day(as_of))
        segment = resolver.definition(name)
        if as_json:
            document = {
                "segment": name,
                "definition": segment.model_dump(mode="json", by_alias=True, exclude_none=True),
                "dialect": warehouse.dialect,
                "sql": resolver.sql(name),
            }
            console.print_json(json.dumps(document))
            return
        console.rule(f"segment {name}")
        if segment.description:
            console.print(segment.description)
        definition = segment.model_dump(mode="json", by_alias=True, exclude_none=True)
        console.print(Syntax(yaml.safe_dump(definition, sort_keys=False), "yaml"))
        console.rule(f"SQL ({warehouse.dialect})")
        console.print(Syntax(resolver.sql(name), "sql", word_wrap=True))


@segments_app.command("size")
def segments_size(
    name: Annotated[str, typer.Argument(help="Segment name.")],
    project: ProjectOption = Path("."),
    by: Annotated[
        str | None, typer.Option("--by", help="Break the count down by this attribute.")
    ] = None,
    reach: Annotated[
        bool, typer.Option(help="Count who is reachable by email and by consented SMS.")
    ] = True,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Segment insights: size, reachable by email and by SMS, breakdown by an attribute.

    Reachable by email: a well-formed address that is not unsubscribed. `campaigns preview`
    counts differently (after exclusions and the control group, one row per address,
    unsubscribed addresses included: Listrak keeps them unsubscribed)."""
    with _session(project) as (loaded, warehouse):
        assert warehouse is not None
        resolver = SegmentResolver(loaded.config, warehouse, as_of=_day(as_of))
        insights = segment_insights(resolver, name, by=by, reach=reach)
        if as_json:
            document = {
                "segment": name,
                "size": insights.size,
                "reachable_email": insights.reachable_email,
                "reachable_sms": insights.reachable_sms,
                "breakdown_by": insights.breakdown_by,
                "breakdown": [[value, count] for value, count in insights.breakdown],
                "notes": insights.notes,
            }
            console.print_json(json.dumps(document, default=str))
            return
        table = Table(title=f"Segment {name}")
        table.add_column("measure")
        table.add_column("customers", justify="right")
        table.add_row("size", f"{insights.size:,}")
        if insights.reachable_email is not None:
            table.add_row("reachable by email", f"{insights.reachable_email:,}")
        if insights.reachable_sms is not None:
            table.add_row("reachable by consented SMS", f"{insights.reachable_sms:,}")
        console.print(table)
        if insights.breakdown_by:
            breakdown = Table(title=f"by {insights.breakdown_by}")
            breakdown.add_column(insights.breakdown_by)
            breakdown.add_column("customers", justify="right")
            for value, count in insights.breakdown:
                breakdown.add_row("(missing)" if value is None else str(value), f"{count:,}")
            console.print(breakdown)
        for note in insights.notes:
            console.print(f"[yellow]note[/]: {note}")
        if insights.reachable_email is not None:
            console.print(REACH_NOTE, style="dim", highlight=False)


# --- campaigns ---------------------------------------------------------------------------


@campaigns_app.command("list")
def campaigns_list(project: ProjectOption = Path("."), as_json: JsonOption = False) -> None:
    """The project's campaigns (no warehouse needed)."""
    with _session(project, need_warehouse=False) as (loaded, _):
        if as_json:
            document = [
                {"name": name, **campaign.model_dump(mode="json", exclude_none=True)}
                for name, campaign in loaded.config.campaigns.items()
            ]
            console.print_json(json.dumps(document))
            return
        table = Table(title="Campaigns")
        for column in ("name", "segment", "excluding", "groups", "send groups"):
            table.add_column(column)
        for name, campaign in loaded.config.campaigns.items():
            groups = [
                f"{g.name} {g.percent:g}% → {', '.join(g.destinations)}" for g in campaign.groups
            ]
            if campaign.control:
                groups.append(f"control {campaign.control.percent:g}% (receives nothing)")
            table.add_row(
                name,
                campaign.segment,
                ", ".join(campaign.exclude) or "-",
                "\n".join(groups),
                campaign.send_groups,
            )
        console.print(table)


@campaigns_app.command("show")
def campaigns_show(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    project: ProjectOption = Path("."),
    sql: Annotated[bool, typer.Option("--sql", help="Also print each destination's SQL.")] = False,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """A campaign's groups, split, destinations and the attributes each one receives."""
    with _session(project) as (loaded, warehouse):
        assert warehouse is not None
        audience = CampaignAudience(loaded.config, warehouse, name, as_of=_day(as_of))
        campaign = audience.definition
        if as_json:
            document = {
                "campaign": name,
                "definition": campaign.model_dump(mode="json", exclude_none=True),
                "destinations": {
                    target: {
                        "type": rows.destination.type,
                        "key": rows.key_name,
                        "key_column": rows.key_column,
                        "groups": rows.groups,
                        "attribute_table": rows.attribute_table,
                        "attributes": {a.name: a.column for a in rows.attributes},
                        **(
                            {"sql": rows.select().sql(dialect=audience.dialect, pretty=True)}
                            if sql
                            else {}
                        ),
                    }
                    for target, rows in audience.destinations().items()
                },
            }
            console.print_json(json.dumps(document))
            return
        console.rule(f"campaign {name}")
        console.print(
            f"segment [bold]{campaign.segment}[/]"
            + (f" minus {', '.join(campaign.exclude)}" if campaign.exclude else "")
            + f"; split salt {campaign.salt or name!r}; groups sent {campaign.send_groups}"
        )
        table = Table(title="Destinations")
        for column in ("destination", "type", "key", "groups", "attribute table", "attributes"):
            table.add_column(column)
        for target, rows in audience.destinations().items():
            table.add_row(
                target,
                rows.destination.type,
                f"{rows.key_name} ← {rows.key_column}",
                ", ".join(rows.groups),
                rows.attribute_table,
                "\n".join(
                    a.name if a.name == a.column else f"{a.name} ← {a.column}"
                    for a in rows.attributes
                )
                or "-",
            )
        console.print(table)
        prefer = ", ".join(f"{p.column} {p.order}" for p in campaign.dedupe.prefer)
        console.print(
            "dedupe: one row per key; the winner is "
            + (f"first by {prefer}, then " if prefer else "")
            + f"the lowest {loaded.config.warehouse.customer_key}"
        )
        if sql:
            for target, rows in audience.destinations().items():
                console.rule(f"SQL for {target}")
                console.print(
                    Syntax(
                        rows.select().sql(dialect=audience.dialect, pretty=True),
                        "sql",
                        word_wrap=True,
                    )
                )


@campaigns_app.command("preview")
def campaigns_preview(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    project: ProjectOption = Path("."),
    limit: Annotated[int, typer.Option(help="Sample rows per audience.", min=0)] = 5,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Show emails, phones and names unmasked.")
    ] = False,
    as_of: AsOfOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the counts as one JSON document (no rows).")
    ] = False,
) -> None:
    """Who each destination will receive: counts per group and status, and sample rows."""
    with _session(project) as (loaded, warehouse):
        assert warehouse is not None
        audience = CampaignAudience(loaded.config, warehouse, name, as_of=_day(as_of))
        sizes = audience.group_sizes()
        if as_json:
            units = []
            for unit in audience.units():
                report = unit.counts()
                groups = unit.rows.groups if unit.group is None else [unit.group]
                units.append(
                    {
                        "destination": unit.destination,
                        "group": unit.group,
                        "audience": unit.audience_name,
                        "counts": {s: report.total(s) for s in STATUSES},
                        "by_group": {g: {s: report.total(s, g) for s in STATUSES} for g in groups},
                    }
                )
            console.print_json(json.dumps({"campaign": name, "groups": sizes, "units": units}))
            return
        table = Table(title=f"Campaign {name}: treatment groups")
        table.add_column("group")
        table.add_column("members", justify="right")
        for group, size in sizes.items():
            table.add_row(group, f"{size:,}")
        console.print(table)
        for unit in audience.units():
            _preview_unit(unit, limit=limit, show_pii=show_pii)


def _preview_unit(unit: AudienceUnit, *, limit: int, show_pii: bool) -> None:
    report = unit.counts()
    label = unit.destination + (f" / group {unit.group}" if unit.group else "")
    destination = unit.rows.destination
    table = Table(title=f"{label} ({destination.type}, audience {unit.audience_name!r})")
    table.add_column("group")
    for status in STATUSES:
        table.add_column(status, justify="right")
    for group in unit.rows.groups if unit.group is None else [unit.group]:
        table.add_row(group, *(f"{report.total(s, group):,}" for s in STATUSES))
    table.add_row("[bold]total[/]", *(f"[bold]{report.total(s):,}[/]" for s in STATUSES))
    console.print(table)
    if isinstance(destination, EmailDestination):
        console.print(
            "ok: well-formed addresses after exclusions and the control group, one per address,"
            " unsubscribed ones included (Listrak keeps them unsubscribed); `segments size`"
            " counts only the reachable ones.",
            style="dim",
            highlight=False,
        )
    if isinstance(destination, SmsDestination) and not destination.require_consent:
        console.print(
            "[bold red]require_consent is OFF: people without SMS consent are included[/]"
        )
    if isinstance(destination, EmailDestination | SmsDestination) and limit:
        _rows_table("sample", unit.sample(limit).to_pylist(), unit, show_pii)
        rejected = unit.sample(limit, rejected=True).to_pylist()
        if rejected:
            _rows_table("not delivered (sample)", rejected, unit, show_pii)


def _rows_table(title: str, rows: list[dict[str, Any]], unit: AudienceUnit, show_pii: bool) -> None:
    if not rows:
        return
    key = unit.rows.key_name
    customer_key = unit.rows.campaign.config.warehouse.customer_key
    if "_status" in rows[0]:  # rejected rows: who, what was found, and why
        rows = [
            {
                customer_key: row[customer_key],
                "group": row["treatment_group"],
                f"raw {key}": row["_key_raw"],
                "status": row["_status"],
                "reason": row["_reason"],
            }
            for row in rows
        ]
    if not show_pii:
        rows = [mask_row(r, email="email", phone="phone") for r in rows]
    table = Table(title=title + ("" if show_pii else " (PII masked; --show-pii to reveal)"))
    for column in rows[0]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)
