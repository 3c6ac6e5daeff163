"""Email engagement: the list's messages and each message's per-contact activity.

Tables: ``{prefix}_messages`` (one row per message) and ``{prefix}_activity`` (one row per
message and contact: the send, and whether it was opened, read, clicked, bounced, unsubscribed
or marked as abuse). Activity keeps arriving for days after a send, so each pull re-reads the
activity of every message sent since ``lookback_days`` before the newest send date the previous
pull saw (the first pull: since ``engagement.since``, or every message); rows are merged by
message and address, so a re-read updates flags instead of duplicating rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa

from ..config.sources import EngagementConfig
from ..listrak import ListrakClient
from ..warehouse import Warehouse
from .columns import TIMESTAMP, ColumnSpec, member
from .sql import latest_rows, merge, newest, q, stage_name
from .streams import PAGE_COLUMN, Stream

__all__ = ["ACTIVITY_COLUMNS", "MESSAGE_COLUMNS", "Engagement"]

_MESSAGE: tuple[tuple[str, pa.DataType, str], ...] = (
    ("message_id", pa.int64(), "messageId"),
    ("send_date", TIMESTAMP, "sendDate"),
    ("message_status", pa.string(), "messageStatus"),
    ("campaign_id", pa.int64(), "campaignId"),
    ("external_campaign_id", pa.string(), "externalCampaignId"),
    ("subject", pa.string(), "subject"),
)
_ACTIVITY: tuple[tuple[str, pa.DataType, str], ...] = (
    ("email_address", pa.string(), "emailAddress"),
    ("send_date", TIMESTAMP, "sendDate"),
    ("activity_date", TIMESTAMP, "activityDate"),
    ("opened", pa.bool_(), "open"),
    ("was_read", pa.bool_(), "read"),
    ("clicked", pa.bool_(), "click"),
    ("click_count", pa.int64(), "clickCount"),
    ("bounced", pa.bool_(), "bounce"),
    ("bounce_reason", pa.string(), "bounceReason"),
    ("unsubscribed", pa.bool_(), "unsubscribe"),
    ("marked_abuse", pa.bool_(), "abuse"),
    ("order_total", pa.float64(), "orderTotal"),
    ("external_contact_id", pa.string(), "externalContactID"),
)
_TRAILING = ("pulled_at", "run_id")
MESSAGE_COLUMNS = ("list_id", *(c[0] for c in _MESSAGE), *_TRAILING)
ACTIVITY_COLUMNS = (
    "list_id",
    "message_id",
    "email_lower",
    *(c[0] for c in _ACTIVITY),
    *_TRAILING,
)
# activity flag -> the track event its turning true stands for (Segment's email spec names)
FLAG_EVENTS = (
    ("opened", "Email Opened"),
    ("clicked", "Email Link Clicked"),
    ("bounced", "Email Bounced"),
    ("unsubscribed", "Unsubscribed"),
    ("marked_abuse", "Email Marked as Spam"),
)


def _lower(item: dict[str, Any]) -> Any:
    address = item.get("emailAddress")
    return address.strip().lower() if isinstance(address, str) else None


@dataclass
class Engagement:
    name: str
    list_id: int
    config: EngagementConfig
    prefix: str

    @property
    def messages_table(self) -> str:
        return f"{self.prefix}_messages"

    @property
    def activity_table(self) -> str:
        return f"{self.prefix}_activity"

    @property
    def messages_stage(self) -> str:
        return stage_name(self.prefix, "messages")

    @property
    def activity_stage(self) -> str:
        return stage_name(self.prefix, "activity")

    def stages(self) -> list[str]:
        return [self.messages_stage, self.activity_stage]

    def window_start(self, cursor: datetime | None, full: bool) -> datetime | None:
        """Messages sent from here on are (re)read."""
        since = self.config.since
        first = datetime.combine(since, datetime.min.time()) if isinstance(since, date) else None
        if cursor is None or full:
            return first
        start = cursor - timedelta(days=self.config.lookback_days)
        return max(start, first) if first is not None else start

    def constants(self, run_id: str, pulled_at: datetime) -> dict[str, pa.Scalar]:
        return {
            "list_id": pa.scalar(self.list_id, pa.int64()),
            "pulled_at": pa.scalar(pulled_at, TIMESTAMP),
            "run_id": pa.scalar(run_id, pa.string()),
        }

    def messages_stream(
        self, client: ListrakClient, start: datetime | None, run_id: str, pulled_at: datetime
    ) -> Stream:
        params = {"startDate": start.isoformat(timespec="seconds")} if start else {}
        return Stream(
            key="messages",
            session=client.session("email"),
            path=f"/List/{self.list_id}/Message",
            operation="Message_GetMessageCollection",
            stage=self.messages_stage,
            columns=[ColumnSpec(n, t, member(k)) for n, t, k in _MESSAGE],
            params=params,
            constants=self.constants(run_id, pulled_at),
            label=f"{self.name} messages",
        )

    def message_ids(self, warehouse: Warehouse) -> list[int]:
        found = warehouse.query(
            f"SELECT DISTINCT message_id FROM {q(self.messages_stage)} ORDER BY 1"
        )
        return [int(v) for v in found.column("message_id").to_pylist()]

    def activity_stream(
        self, client: ListrakClient, message_id: int, run_id: str, pulled_at: datetime
    ) -> Stream:
        columns = [ColumnSpec("email_lower", pa.string(), _lower)]
        columns += [ColumnSpec(n, t, member(k)) for n, t, k in _ACTIVITY]
        return Stream(
            key=f"activity:{message_id}",
            session=client.session("email"),
            path=f"/List/{self.list_id}/Message/{message_id}/Activity",
            operation="MessageActivity_GetMessageActivityCollection",
            stage=self.activity_stage,
            columns=columns,
            constants={
                "message_id": pa.scalar(message_id, pa.int64()),
                **self.constants(run_id, pulled_at),
            },
            label=f"{self.name} activity",
        )

    def staged_messages(self) -> str:
        return latest_rows(
            q(self.messages_stage), ["message_id"], [f"{PAGE_COLUMN} DESC"], MESSAGE_COLUMNS
        )

    def staged_activity(self) -> str:
        return latest_rows(
            q(self.activity_stage),
            ["message_id", "email_lower"],
            [f"{PAGE_COLUMN} DESC"],
            ACTIVITY_COLUMNS,
        )

    def changes(self, warehouse: Warehouse, users: str | None) -> str:
        """Staged activity rows with what changed since the stored row (``new_*`` flags), the
        message's subject and campaign, and the contact's user id from ``users`` (a SELECT of
        ``email_lower, user_id``): the source of the track events. Run before :meth:`merge`."""
        have_table = self.activity_table in warehouse.tables()
        prev = (
            f" LEFT JOIN {q(self.activity_table)} t"
            " ON t.message_id = a.message_id AND t.email_lower = a.email_lower"
        )
        flags = ", ".join(
            f"a.{flag} AND NOT coalesce(t.{flag}, FALSE) AS new_{flag}"
            if have_table
            else f"a.{flag} AS new_{flag}"
            for flag, _ in FLAG_EVENTS
        )
        is_new = "t.message_id IS NULL" if have_table else "TRUE"
        user = "u.user_id" if users else "CAST(NULL AS VARCHAR)"
        join_user = f" LEFT JOIN ({users}) u ON u.email_lower = a.email_lower" if users else ""
        return (
            f"SELECT a.*, m.subject, m.campaign_id, m.external_campaign_id,"
            f" {user} AS user_id, {is_new} AS new_send, {flags}"
            f" FROM ({self.staged_activity()}) a"
            f" LEFT JOIN ({self.staged_messages()}) m ON m.message_id = a.message_id"
            f"{prev if have_table else ''}{join_user}"
        )

    def merge(self, warehouse: Warehouse) -> None:
        merge(
            warehouse, self.messages_table, self.staged_messages(), ["message_id"], MESSAGE_COLUMNS
        )
        merge(
            warehouse,
            self.activity_table,
            self.staged_activity(),
            ["message_id", "email_lower"],
            ACTIVITY_COLUMNS,
        )

    def cursor(self, warehouse: Warehouse) -> datetime | None:
        return newest(warehouse, self.messages_stage, "send_date")

    def counts(self, warehouse: Warehouse) -> dict[str, int]:
        found = warehouse.query(
            "SELECT count(*) AS sends, count(*) FILTER (WHERE opened) AS opens,"
            " count(*) FILTER (WHERE clicked) AS clicks,"
            " count(*) FILTER (WHERE bounced) AS bounces,"
            " count(*) FILTER (WHERE unsubscribed) AS unsubscribes"
            f" FROM ({self.staged_activity()}) a"
        )
        counts = {f"activity_{k}": int(found.column(k)[0].as_py()) for k in found.column_names}
        messages = warehouse.query(
            f"SELECT count(DISTINCT message_id) AS n FROM {q(self.messages_stage)}"
        )
        counts["messages"] = int(messages.column("n")[0].as_py())
        return counts
