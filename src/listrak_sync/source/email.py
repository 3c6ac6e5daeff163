"""Email list contacts: streams per subscription state and field pass, staging, merge.

Listrak returns at most 30 profile fields per contact request, so more fields are read in
several passes over the list (the first pass carries the contact columns and 30 fields, each
later pass the address and the next 30), written to one staging table per pass and joined in
the warehouse on the lower-cased address.

Incremental pulls ask for subscribed contacts whose (re)subscribe date, and unsubscribed
contacts whose unsubscribe date, is on or after the newest date the previous pull saw; the
cursor is that date itself (the pull never trusts a local clock). Listrak's contact dates are
the only change marker it offers, so a profile field edited on a contact whose subscription
did not change is picked up by the next ``--full`` pull.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from ..config.sources import EmailSource
from ..listrak import ListrakClient
from ..warehouse import Warehouse
from .columns import (
    TIMESTAMP,
    ColumnSpec,
    FieldColumn,
    field_reader,
    member,
    resolve_field_columns,
    with_fields,
)
from .sql import counts_by, greatest_present, latest_rows, merge, newest, q, replace, stage_name
from .streams import PAGE_COLUMN, Stream

__all__ = ["CONTACT_COLUMNS", "MAX_FIELDS_PER_REQUEST", "EmailContacts", "list_fields"]

MAX_FIELDS_PER_REQUEST = 30

# (column, Arrow type, member of Listrak's Contact resource)
_BASE: tuple[tuple[str, pa.DataType, str], ...] = (
    ("email_address", pa.string(), "emailAddress"),
    ("email_key", pa.string(), "emailKey"),
    ("subscription_state", pa.string(), "subscriptionState"),
    ("subscribe_date", TIMESTAMP, "subscribeDate"),
    ("resubscribe_date", TIMESTAMP, "resubscribeDate"),
    ("subscribe_method", pa.string(), "subscribeMethod"),
    ("unsubscribe_date", TIMESTAMP, "unsubscribeDate"),
    ("unsubscribe_method", pa.string(), "unsubscribeMethod"),
    ("external_contact_id", pa.string(), "externalContactID"),
)
CONTACT_COLUMNS = ("list_id", "email_lower", *(c[0] for c in _BASE), "subscribed")
_TRAILING = ("changed_at", "pulled_at", "run_id")
_CHANGED = greatest_present("subscribe_date", "resubscribe_date", "unsubscribe_date")


def _lower(item: dict[str, Any]) -> Any:
    address = item.get("emailAddress")
    return address.strip().lower() if isinstance(address, str) else None


async def list_fields(client: ListrakClient, list_id: int) -> dict[int, str]:
    """Every profile field of the list: id -> Listrak's field name."""
    names: dict[int, str] = {}
    for group in await client.email.field_groups(list_id):
        if group.segmentation_field_group_id is None:
            continue
        for found in await client.email.fields(list_id, group.segmentation_field_group_id):
            if found.segmentation_field_id is not None:
                names[found.segmentation_field_id] = found.segmentation_field_name
    return names


@dataclass
class EmailContacts:
    """The contacts part of one email source's pull."""

    name: str
    config: EmailSource
    prefix: str
    fields: list[FieldColumn]
    user_id_column: str | None

    @classmethod
    async def resolve(
        cls, name: str, config: EmailSource, prefix: str, client: ListrakClient
    ) -> EmailContacts:
        """Look up the list's profile fields and name the columns (errors name the field)."""
        names = await list_fields(client, config.list_id)
        wanted = sorted(names) if config.all_fields else list(config.fields)
        user_field = config.events.user_id_field if config.events else None
        if isinstance(user_field, int) and user_field not in wanted:
            wanted.append(user_field)
        unknown = [f for f in [*wanted, *config.field_names] if f not in names]
        if unknown:
            raise ValueError(
                f"source {name}: list {config.list_id} has no profile field {unknown[0]}"
                f" (it has: {', '.join(str(i) for i in sorted(names)) or 'none'})"
            )
        reserved = [*CONTACT_COLUMNS, *_TRAILING, PAGE_COLUMN]
        fields = resolve_field_columns(wanted, names, config.field_names, reserved)
        user_column: str | None = None
        if isinstance(user_field, int):
            user_column = next(f.column for f in fields if f.field_id == user_field)
        elif isinstance(user_field, str):
            known = {*CONTACT_COLUMNS, *(f.column for f in fields)}
            if user_field not in known:
                raise ValueError(
                    f"source {name}: user_id_field {user_field!r} is neither a profile field id"
                    " nor a contact column"
                )
            user_column = user_field
        return cls(name, config, prefix, fields, user_column)

    # -- names ------------------------------------------------------------------------------

    @property
    def table(self) -> str:
        return f"{self.prefix}_contacts"

    @property
    def columns(self) -> list[str]:
        return [*CONTACT_COLUMNS, *(f.column for f in self.fields), *_TRAILING]

    def passes(self) -> list[list[FieldColumn]]:
        size = MAX_FIELDS_PER_REQUEST
        chunks = [self.fields[i : i + size] for i in range(0, len(self.fields), size)]
        return chunks or [[]]

    def pass_stage(self, index: int) -> str:
        return stage_name(self.prefix, f"contacts_p{index}")

    @property
    def stage(self) -> str:
        return stage_name(self.prefix, "contacts")

    def stages(self) -> list[str]:
        return [self.pass_stage(i) for i in range(len(self.passes()))] + [self.stage]

    # -- reading ------------------------------------------------------------------------------

    def streams(
        self, client: ListrakClient, since: datetime | None, run_id: str, pulled_at: datetime
    ) -> list[Stream]:
        """The reads of this pull: each state (subscribed; unsubscribed unless subscribed-only
        on a full pull) times each field pass."""
        session = client.session("email")
        path = f"/List/{self.config.list_id}/Contact"
        states = ["Subscribed"]
        if not self.config.subscribed_only or since is not None:
            states.append("Unsubscribed")  # subscribed-only still needs to see who left
        streams: list[Stream] = []
        for state in states:
            params: dict[str, Any] = {"subscriptionState": state}
            if since is not None:
                params["startDate"] = since.isoformat(timespec="seconds")
                if state == "Subscribed":
                    params["useOriginalSubscribeDate"] = "false"  # resubscribes count
            for index, fields in enumerate(self.passes()):
                # Unsubscribed contacts of a subscribed-only source only leave the table: no
                # fields needed, so no extra passes.
                if index and state == "Unsubscribed" and self.config.subscribed_only:
                    continue
                ids = ",".join(str(f.field_id) for f in fields)
                columns = [ColumnSpec("email_lower", pa.string(), _lower)]
                if index == 0:
                    columns += [ColumnSpec(n, t, member(k)) for n, t, k in _BASE]
                columns += [
                    ColumnSpec(f.column, pa.string(), field_reader(f.field_id)) for f in fields
                ]
                constants: dict[str, pa.Scalar] = {}
                if index == 0:
                    constants = {
                        "list_id": pa.scalar(self.config.list_id, pa.int64()),
                        "pulled_at": pa.scalar(pulled_at, TIMESTAMP),
                        "run_id": pa.scalar(run_id, pa.string()),
                    }
                streams.append(
                    Stream(
                        key=f"contacts:{state}:p{index}",
                        session=session,
                        path=path,
                        operation="Contact_GetContactCollection",
                        stage=self.pass_stage(index),
                        columns=columns,
                        params={**params, **({"segmentationFieldIds": ids} if ids else {})},
                        constants=constants,
                        prepare=with_fields,
                        label=f"{self.name} {state.lower()}",
                    )
                )
        return streams

    # -- finishing --------------------------------------------------------------------------

    def build_stage(self, warehouse: Warehouse) -> None:
        """Join the passes into one staging table, one row per address (the newest state)."""
        passes = self.passes()
        first = self.pass_stage(0)
        base = [*CONTACT_COLUMNS[:1], "email_lower", *(c[0] for c in _BASE)]
        zero = [*base, *(f.column for f in passes[0]), "pulled_at", "run_id"]
        # An address read in both state streams changed between the reads. Its dates only move
        # forward, so the later read has each date at least as new; with second-resolution
        # dates the newest change can tie, and the (re)subscribe and unsubscribe dates then
        # tell which read came last. Page numbers count per stream, so they only break ties
        # within one stream.
        newest_first = [
            f"{_CHANGED} DESC NULLS LAST",
            "resubscribe_date DESC NULLS LAST",
            "unsubscribe_date DESC NULLS LAST",
            f"{PAGE_COLUMN} DESC",
        ]
        select = latest_rows(q(first), ["email_lower"], newest_first, zero)
        parts = [f"({select}) p0"]
        picked = [f"p0.{q(c)}" for c in base]
        picked.append("(p0.subscription_state = 'Subscribed') AS subscribed")
        picked += [f"p0.{q(f.column)}" for f in passes[0]]
        for index, fields in enumerate(passes[1:], start=1):
            cols = ["email_lower", *(f.column for f in fields)]
            inner = latest_rows(
                q(self.pass_stage(index)), ["email_lower"], [f"{PAGE_COLUMN} DESC"], cols
            )
            parts.append(f"LEFT JOIN ({inner}) p{index} USING (email_lower)")
            picked += [f"p{index}.{q(f.column)}" for f in fields]
        picked += [
            greatest_present("p0.subscribe_date", "p0.resubscribe_date", "p0.unsubscribe_date")
            + " AS changed_at",
            "p0.pulled_at",
            "p0.run_id",
        ]
        replace(warehouse, self.stage, f"SELECT {', '.join(picked)} FROM {' '.join(parts)}")

    def merge(self, warehouse: Warehouse, *, full: bool) -> None:
        keep = "subscribed" if self.config.subscribed_only else None
        source = f"SELECT * FROM {q(self.stage)}"
        if full:
            where = f" WHERE {keep}" if keep else ""
            replace(warehouse, self.table, source + where)
        else:
            merge(warehouse, self.table, source, ["email_lower"], self.columns, keep=keep)

    def cursor(self, warehouse: Warehouse) -> datetime | None:
        """The newest contact date this pull saw: where the next incremental pull starts."""
        return newest(warehouse, self.stage, "changed_at")

    def counts(self, warehouse: Warehouse) -> dict[str, int]:
        """Rows of this pull by subscription state (the run summary)."""
        found = counts_by(
            warehouse,
            f"SELECT subscription_state AS s, count(*) AS n FROM {q(self.stage)} GROUP BY 1",
        )
        return {f"contacts_{str(s).lower()}": n for s, n in found.items()}

    def table_matches(self, warehouse: Warehouse) -> bool:
        """Whether the existing table has this pull's columns (else the pull must be full)."""
        if self.table not in warehouse.tables():
            return False
        return [c.name for c in warehouse.describe(self.table)] == self.columns


def field_summary(fields: Sequence[FieldColumn]) -> list[dict[str, Any]]:
    """Field id -> column, for the run record and ``pull --show-columns``."""
    return [{"id": f.field_id, "column": f.column, "listrak_name": f.listrak_name} for f in fields]
