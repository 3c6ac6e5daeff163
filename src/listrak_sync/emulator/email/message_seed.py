"""The ``messages`` part of email seeds: sent messages, their links and per-contact activity.

A message entry is ``{messageId?, subject, sendDate?, campaignId?, externalCampaignId?,
messageStatus?, test?, links: [{linkId?, linkUrl, linkDescription?}], activity: [...]}``; an
activity entry is ``{emailAddress, sendDate?, activityDate?, open?, read?, click?, clickCount?,
bounce?, bounceReason?, unsubscribe?, abuse?, orderTotal?, externalContactID?, clicks?: [{linkId
or linkUrl, clickDate?}]}``. Naming an existing ``messageId`` adds to that message: activity of
an address it already has replaces the old row (the way later opens and clicks arrive).
Rows are written in bulk through Arrow, so tens of thousands of sends seed in a moment.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from .addresses import is_valid_email
from .sql import first

__all__ = ["seed_message", "seed_messages"]

_MESSAGE_KEYS = {
    "messageId",
    "subject",
    "sendDate",
    "campaignId",
    "externalCampaignId",
    "messageStatus",
    "test",
    "links",
    "activity",
    "fromEmail",
    "fromName",
    "replyEmail",
    "toName",
    "bodyHtml",
    "bodyText",
}
_ACTIVITY_KEYS = {
    "emailAddress",
    "sendDate",
    "activityDate",
    "open",
    "read",
    "click",
    "clickCount",
    "bounce",
    "bounceReason",
    "unsubscribe",
    "abuse",
    "orderTotal",
    "externalContactID",
    "clicks",
}
_ACTIVITY_COLUMNS = (
    "row_id",
    "email",
    "email_lower",
    "send_date",
    "activity_date",
    "opened",
    "was_read",
    "clicked",
    "click_count",
    "bounced",
    "bounce_reason",
    "unsubscribed",
    "abuse",
    "order_total",
    "external_contact_id",
)
_DETAIL_DEFAULTS: dict[str, Any] = {
    "enableUniversalEmailKeySetting": False,
    "codePage": 65001,
    "enablePassalong": False,
    "enableTracking": True,
    "fromEmail": "news@example.com",
    "fromName": "Example Store",
    "savedAudienceId": 0,
}


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not an ISO 8601 date-time") from None
    return parsed.replace(tzinfo=None)


def _next(db: duckdb.DuckDBPyConnection, sql: str, params: list[Any], start: int) -> int:
    row = first(db.execute(sql, params))
    return max(int(row[0]) + 1, start) if row and row[0] is not None else start


def _upsert_message(
    db: duckdb.DuckDBPyConnection, list_id: int, doc: dict[str, Any], where: str
) -> tuple[int, datetime | None]:
    if "messageId" in doc:
        message_id = int(doc["messageId"])
        row = first(
            db.execute(
                "SELECT send_date FROM email_message WHERE list_id = ? AND message_id = ?",
                [list_id, message_id],
            )
        )
        if row is not None:
            return message_id, row[0]
        taken = first(db.execute("SELECT 1 FROM email_message WHERE message_id = ?", [message_id]))
        if taken is not None:
            raise ValueError(f"{where}: messageId {message_id} belongs to another list")
    else:
        message_id = _next(db, "SELECT max(message_id) FROM email_message", [], 5001)
    if "subject" not in doc:
        raise ValueError(f"{where}: subject is required")
    send_date = _time(doc.get("sendDate"), where)
    status = str(doc.get("messageStatus", "Sent" if send_date is not None else "Scheduled"))
    details = {**_DETAIL_DEFAULTS}
    details.update(
        {
            k: doc[k]
            for k in ("fromEmail", "fromName", "replyEmail", "toName", "bodyHtml", "bodyText")
            if k in doc
        }
    )
    db.execute(
        "INSERT INTO email_message VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            list_id,
            message_id,
            send_date,
            status,
            doc.get("campaignId"),
            str(doc.get("externalCampaignId", "")),
            str(doc["subject"]),
            bool(doc.get("test", False)),
            json.dumps(details),
        ],
    )
    return message_id, send_date


def _links(
    db: duckdb.DuckDBPyConnection, list_id: int, message_id: int, links: list[Any], where: str
) -> dict[str, int]:
    """Add the entry's links; returns every link of the message by id and by URL."""
    next_id = _next(
        db, "SELECT max(link_id) FROM email_message_link WHERE message_id = ?", [message_id], 1
    )
    for index, link in enumerate(links):
        if "linkUrl" not in link:
            raise ValueError(f"{where}.links[{index}]: linkUrl is required")
        link_id = int(link.get("linkId", next_id))
        next_id = max(next_id, link_id) + 1
        db.execute(
            "INSERT INTO email_message_link VALUES (?, ?, ?, ?, ?)",
            [list_id, message_id, link_id, link.get("linkDescription"), link["linkUrl"]],
        )
    known: dict[str, int] = {}
    for link_id, url in db.execute(
        "SELECT link_id, url FROM email_message_link WHERE message_id = ?", [message_id]
    ).fetchall():
        known[str(link_id)] = link_id
        known.setdefault(url, link_id)
    return known


def _activity_rows(
    entries: list[Any],
    message_id: int,
    sent: datetime | None,
    links: dict[str, int],
    first_row: int,
    where: str,
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    rows: dict[str, list[Any]] = {name: [] for name in _ACTIVITY_COLUMNS}
    clicks: dict[str, list[Any]] = {"link_id": [], "email": [], "click_date": []}
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        a_where = f"{where}.activity[{index}]"
        unknown = sorted(set(entry) - _ACTIVITY_KEYS)
        if unknown:
            raise ValueError(f"{a_where}: unknown member(s) {', '.join(unknown)}")
        email = str(entry.get("emailAddress", "")).strip()
        if not is_valid_email(email):
            raise ValueError(f"{a_where}: {email!r} is not a valid email address")
        if email.lower() in seen:
            raise ValueError(f"{a_where}: {email} appears twice for message {message_id}")
        seen.add(email.lower())
        send_date = _time(entry.get("sendDate"), a_where) or sent
        entry_clicks = entry.get("clicks") or []
        clicked = bool(entry.get("click", bool(entry_clicks)))
        active = _time(entry.get("activityDate"), a_where)
        click_dates = [_time(c.get("clickDate"), a_where) for c in entry_clicks]
        if active is None and any(click_dates):
            active = min(d for d in click_dates if d is not None)
        flags = ("open", "read", "click", "bounce", "unsubscribe", "abuse")
        if active is None and any(entry.get(k) for k in flags):
            active = send_date
        values = {
            "row_id": first_row + index,
            "email": email,
            "email_lower": email.lower(),
            "send_date": send_date,
            "activity_date": active,
            "opened": bool(entry.get("open", clicked)),
            "was_read": bool(entry.get("read", False)),
            "clicked": clicked,
            "click_count": int(entry.get("clickCount", len(entry_clicks) or int(clicked))),
            "bounced": bool(entry.get("bounce", False)),
            "bounce_reason": entry.get("bounceReason"),
            "unsubscribed": bool(entry.get("unsubscribe", False)),
            "abuse": bool(entry.get("abuse", False)),
            "order_total": float(entry.get("orderTotal", 0.0)),
            "external_contact_id": entry.get("externalContactID"),
        }
        for name, value in values.items():
            rows[name].append(value)
        for c_index, click in enumerate(entry_clicks):
            ref = str(click.get("linkId", click.get("linkUrl", "")))
            if ref not in links:
                raise ValueError(f"{a_where}.clicks[{c_index}]: no link {ref!r} on the message")
            clicks["link_id"].append(links[ref])
            clicks["email"].append(email)
            clicks["click_date"].append(click_dates[c_index] or active)
    return rows, clicks


def _insert(
    db: duckdb.DuckDBPyConnection,
    list_id: int,
    message_id: int,
    rows: dict[str, list[Any]],
    clicks: dict[str, list[Any]],
) -> None:
    activity = pa.table(rows)
    db.register("seed_activity", activity)
    try:
        # A later entry for the same address replaces the earlier row, as new activity does.
        db.execute(
            "DELETE FROM email_message_activity WHERE message_id = ?"
            " AND email_lower IN (SELECT email_lower FROM seed_activity)",
            [message_id],
        )
        db.execute(
            "INSERT INTO email_message_activity SELECT row_id, ?, ?, email, email_lower,"
            " send_date, activity_date, opened, was_read, clicked, click_count, bounced,"
            " bounce_reason, unsubscribed, abuse, order_total, external_contact_id"
            " FROM seed_activity",
            [list_id, message_id],
        )
    finally:
        db.unregister("seed_activity")
    if not clicks["email"]:
        return
    first_click = _next(db, "SELECT max(row_id) FROM email_link_click", [], 1)
    click_table = pa.table(
        {
            "row_id": pa.array(range(first_click, first_click + len(clicks["email"])), pa.int64()),
            "link_id": pa.array(clicks["link_id"], pa.int32()),
            "email": pa.array(clicks["email"], pa.string()),
            "click_date": pa.array(clicks["click_date"], pa.timestamp("us")),
        }
    )
    db.register("seed_clicks", click_table)
    try:
        db.execute(
            "INSERT INTO email_link_click SELECT row_id, ?, ?, link_id, email, click_date"
            " FROM seed_clicks",
            [list_id, message_id],
        )
    finally:
        db.unregister("seed_clicks")


def seed_messages(
    db: duckdb.DuckDBPyConnection, list_id: int, messages: list[Any], where: str
) -> None:
    """Add ``messages`` (seed entries) to the list ``list_id``; ``where`` names them in errors."""
    for index, doc in enumerate(messages):
        seed_message(db, list_id, doc, f"{where}.messages[{index}]")


def seed_message(db: duckdb.DuckDBPyConnection, list_id: int, doc: Any, where: str) -> None:
    """Add one message entry (or more links and activity to an existing message)."""
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: a message is a mapping")
    unknown = sorted(set(doc) - _MESSAGE_KEYS - {"listId"})
    if unknown:
        raise ValueError(f"{where}: unknown member(s) {', '.join(unknown)}")
    message_id, sent = _upsert_message(db, list_id, doc, where)
    links = _links(db, list_id, message_id, doc.get("links") or [], where)
    entries = doc.get("activity") or []
    if not entries:
        return
    first_row = _next(db, "SELECT max(row_id) FROM email_message_activity", [], 1)
    rows, clicks = _activity_rows(entries, message_id, sent, links, first_row, where)
    _insert(db, list_id, message_id, rows, clicks)
