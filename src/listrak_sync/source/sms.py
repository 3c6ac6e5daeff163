"""SMS contacts of a sender code's lists, its opt-outs, and the opt status view built on them.

Tables (``{prefix}`` is ``listrak_{source name}`` unless set):

- ``{prefix}_contacts``: one row per list and phone (as Listrak stores it: country code and
  digits, no plus), with
  ``opted_out``; read whole on every pull. Listrak's list contact collection carries no dates
  and filters only by subscribe date, so an incremental read would miss opt-outs and list
  unsubscribes; the read is streamed, so a whole read costs requests, not memory.
- ``{prefix}_opt_outs``: the sender code's opt-outs, incremental by opt-out date.
- ``{prefix}_opt_status`` (view): one row per phone, ``status`` ``opted_in`` when the phone is
  subscribed to one of the pulled lists and not opted out, else ``opted_out``; ``updated_at``.
  It has the shape of the project's ``warehouse.sms_opt_status`` table, so the SMS sync can use
  it as its consent source directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from ..config.sources import SmsSource
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
from .sql import counts_by, latest_rows, merge, newest, q, replace, stage_name
from .streams import PAGE_COLUMN, Stream

__all__ = ["SMS_CONTACT_COLUMNS", "SmsPull"]

_BASE: tuple[tuple[str, pa.DataType, str], ...] = (
    ("phone_number", pa.string(), "phoneNumber"),
    ("email_address", pa.string(), "emailAddress"),
    ("first_name", pa.string(), "firstName"),
    ("last_name", pa.string(), "lastName"),
    ("birthday", TIMESTAMP, "birthday"),
    ("postal_code", pa.string(), "postalCode"),
    ("opted_out", pa.bool_(), "optedOut"),
)
SMS_CONTACT_COLUMNS = ("sender_code_id", "phone_list_id", *(c[0] for c in _BASE))
_OPT_OUT_COLUMNS = ("sender_code_id", "phone_number", "opt_out_date", "opt_out_reason")
_TRAILING = ("pulled_at", "run_id")


def _constant(value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda _: value


@dataclass
class SmsPull:
    name: str
    config: SmsSource
    prefix: str
    phone_lists: list[int]
    fields: list[FieldColumn]

    @classmethod
    async def resolve(
        cls, name: str, config: SmsSource, prefix: str, client: ListrakClient
    ) -> SmsPull:
        sender = config.sender_code_id
        active = [found.phone_list_id async for found in client.sms.phone_lists(sender)]
        lists = list(config.phone_lists) or active
        missing = [i for i in lists if i not in active]
        if missing:
            raise ValueError(
                f"source {name}: sender code {sender} has no active SMS list {missing[0]}"
                f" (active: {', '.join(map(str, active)) or 'none'})"
            )
        attributes = await client.sms.profile_fields(sender)
        names = {
            a.segmentation_field_id: a.segmentation_field_name or ""
            for a in attributes
            if (a.status_flag or "Active") == "Active"
        }
        wanted = list(config.fields) or sorted(names)
        unknown = [f for f in [*wanted, *config.field_names] if f not in names]
        if unknown:
            raise ValueError(
                f"source {name}: sender code {sender} has no profile field {unknown[0]}"
            )
        reserved = [*SMS_CONTACT_COLUMNS, *_TRAILING, PAGE_COLUMN]
        fields = resolve_field_columns(wanted, names, config.field_names, reserved)
        return cls(name, config, prefix, lists, fields)

    @property
    def contacts_table(self) -> str:
        return f"{self.prefix}_contacts"

    @property
    def opt_outs_table(self) -> str:
        return f"{self.prefix}_opt_outs"

    @property
    def opt_status_view(self) -> str:
        return f"{self.prefix}_opt_status"

    @property
    def contact_columns(self) -> list[str]:
        return [*SMS_CONTACT_COLUMNS, *(f.column for f in self.fields), *_TRAILING]

    @property
    def contacts_stage(self) -> str:
        return stage_name(self.prefix, "contacts")

    @property
    def opt_outs_stage(self) -> str:
        return stage_name(self.prefix, "opt_outs")

    def stages(self) -> list[str]:
        return [self.contacts_stage, self.opt_outs_stage]

    def streams(
        self,
        client: ListrakClient,
        opt_outs_since: datetime | None,
        run_id: str,
        pulled_at: datetime,
    ) -> list[Stream]:
        session = client.session("sms")
        sender = self.config.sender_code_id
        trailing = {
            "pulled_at": pa.scalar(pulled_at, TIMESTAMP),
            "run_id": pa.scalar(run_id, pa.string()),
        }
        fields = [ColumnSpec(f.column, pa.string(), field_reader(f.field_id)) for f in self.fields]
        streams: list[Stream] = []
        for phone_list in self.phone_lists:
            for opted_out in (False, True):
                if opted_out and self.config.opted_in_only:
                    continue
                columns = [ColumnSpec(n, t, member(k)) for n, t, k in _BASE[:-1]]
                # The collection's optedOut is the filter asked for; set it from that.
                columns.append(ColumnSpec("opted_out", pa.bool_(), _constant(opted_out)))
                streams.append(
                    Stream(
                        key=f"contacts:{phone_list}:{'opted_out' if opted_out else 'opted_in'}",
                        session=session,
                        path=f"/ShortCode/{sender}/PhoneList/{phone_list}/Contact",
                        operation="Contact_GetContactCollection",
                        stage=self.contacts_stage,
                        columns=columns + fields,
                        params={"optedOut": str(opted_out).lower()},
                        constants={
                            "sender_code_id": pa.scalar(sender, pa.int64()),
                            "phone_list_id": pa.scalar(phone_list, pa.int64()),
                            **trailing,
                        },
                        prepare=with_fields,
                        label=f"{self.name} list {phone_list}"
                        + (" opted out" if opted_out else ""),
                    )
                )
        params: dict[str, Any] = {}
        if opt_outs_since is not None:
            params["startDate"] = opt_outs_since.isoformat(timespec="seconds")
        streams.append(
            Stream(
                key="opt_outs",
                session=session,
                path=f"/ShortCode/{sender}/OptOut",
                operation="Contact_GetOptOuts",
                stage=self.opt_outs_stage,
                columns=[
                    ColumnSpec("phone_number", pa.string(), member("phoneNumber")),
                    ColumnSpec("opt_out_date", TIMESTAMP, member("optOutDate")),
                    ColumnSpec("opt_out_reason", pa.string(), member("optOutReason")),
                ],
                params=params,
                constants={"sender_code_id": pa.scalar(sender, pa.int64()), **trailing},
                label=f"{self.name} opt-outs",
            )
        )
        return streams

    def merge(self, warehouse: Warehouse, *, full_opt_outs: bool) -> None:
        contacts = latest_rows(
            q(self.contacts_stage),
            ["phone_list_id", "phone_number"],
            # A number seen both ways (it changed during the read): opted out wins.
            ["opted_out DESC", f"{PAGE_COLUMN} DESC"],
            self.contact_columns,
        )
        replace(warehouse, self.contacts_table, contacts)
        columns = [*_OPT_OUT_COLUMNS, *_TRAILING]
        opt_outs = latest_rows(
            q(self.opt_outs_stage), ["phone_number"], [f"{PAGE_COLUMN} DESC"], columns
        )
        if full_opt_outs:
            replace(warehouse, self.opt_outs_table, opt_outs)
        else:
            merge(warehouse, self.opt_outs_table, opt_outs, ["phone_number"], columns)
        warehouse.execute(
            f"CREATE OR REPLACE VIEW {q(self.opt_status_view)} AS"
            # max(CASE ...) and CASE rather than bool_or and greatest: Snowflake has no bool_or,
            # and its GREATEST is NULL when either side of the outer join is missing.
            " WITH listed AS (SELECT phone_number,"
            " max(CASE WHEN NOT opted_out THEN 1 ELSE 0 END) = 1 AS subscribed,"
            f" max(pulled_at) AS seen_at FROM {q(self.contacts_table)} GROUP BY phone_number)"
            " SELECT coalesce(c.phone_number, o.phone_number) AS phone,"
            " CASE WHEN c.subscribed THEN 'opted_in' ELSE 'opted_out' END AS status,"
            " o.opt_out_date, o.opt_out_reason,"
            " CASE WHEN o.opt_out_date IS NULL OR c.seen_at > o.opt_out_date THEN c.seen_at"
            " ELSE o.opt_out_date END AS updated_at"
            f" FROM listed c FULL OUTER JOIN {q(self.opt_outs_table)} o"
            " ON o.phone_number = c.phone_number"
        )

    def opt_outs_cursor(self, warehouse: Warehouse) -> datetime | None:
        return newest(warehouse, self.opt_outs_stage, "opt_out_date")

    def counts(self, warehouse: Warehouse) -> dict[str, int]:
        found = counts_by(
            warehouse,
            "SELECT CASE WHEN opted_out THEN 'opted_out' ELSE 'opted_in' END AS s, count(*) AS n"
            f" FROM {q(self.contacts_stage)} GROUP BY 1",
        )
        counts = {f"sms_{s}": n for s, n in found.items()}
        opt = warehouse.query(f"SELECT count(*) AS n FROM {q(self.opt_outs_stage)}")
        counts["sms_opt_outs_read"] = int(opt.column("n")[0].as_py())
        return counts
