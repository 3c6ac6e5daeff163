"""Sent messages and their engagement: messages, activity, summary, status, links, clickers.

One activity row per contact a message was sent to, with flags that turn true as the contact
opens, clicks, bounces or unsubscribes (the spec's MessageActivity resource); ``activity_date``
is the first activity. Clicks per link live in their own table, so the link collection's click
counts and the clicker collection agree. Rows carry a growing ``row_id`` that the cursor walks.

Where the spec is silent: ``activityType`` accepts Open, Read, Click, Bounce, Unsubscribe and
Abuse (case-insensitive) and filters on that flag; ``startDate``/``endDate`` filter on the send
date (or the activity date with ``dateType=Activity``, the click date for clickers), a date-only
``endDate`` including its whole day, as the contact collection does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..parsing import path_int, query_str
from ..responses import listrak_time, paged, resource
from ..routing import OperationTable, params
from ..state import Client, EmulatorState
from .lists import find_list
from .paging import encode_cursor, page_after, page_count
from .sql import first

__all__ = ["ACTIVITY_TYPES", "SCHEMA", "find_message", "install_messages"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS email_message (
    list_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    send_date TIMESTAMP,
    status VARCHAR NOT NULL,          -- Sent or Scheduled
    campaign_id INTEGER,
    external_campaign_id VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    is_test BOOLEAN NOT NULL,
    details VARCHAR NOT NULL          -- the MessageExtended resource's other members, as JSON
);
CREATE TABLE IF NOT EXISTS email_message_link (
    list_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    link_id INTEGER NOT NULL,
    description VARCHAR,
    url VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS email_message_activity (
    row_id BIGINT NOT NULL,
    list_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    email VARCHAR NOT NULL,
    email_lower VARCHAR NOT NULL,
    send_date TIMESTAMP,
    activity_date TIMESTAMP,
    opened BOOLEAN NOT NULL,
    was_read BOOLEAN NOT NULL,
    clicked BOOLEAN NOT NULL,
    click_count INTEGER NOT NULL,
    bounced BOOLEAN NOT NULL,
    bounce_reason VARCHAR,
    unsubscribed BOOLEAN NOT NULL,
    abuse BOOLEAN NOT NULL,
    order_total DOUBLE NOT NULL,
    external_contact_id VARCHAR
);
CREATE TABLE IF NOT EXISTS email_link_click (
    row_id BIGINT NOT NULL,
    list_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    link_id INTEGER NOT NULL,
    email VARCHAR NOT NULL,
    click_date TIMESTAMP NOT NULL
);
"""

# activityType value -> the activity column it filters on.
ACTIVITY_TYPES = {
    "open": "opened",
    "read": "was_read",
    "click": "clicked",
    "bounce": "bounced",
    "unsubscribe": "unsubscribed",
    "abuse": "abuse",
}

_MESSAGE_COLUMNS = (
    "message_id, send_date, status, campaign_id, external_campaign_id, subject, details"
)
_ACTIVITY_COLUMNS = (
    "row_id, email, send_date, activity_date, opened, was_read, clicked, click_count, bounced,"
    " bounce_reason, unsubscribed, abuse, order_total, external_contact_id"
)


def _message(row: tuple[Any, ...], extended: bool) -> dict[str, Any]:
    message_id, send_date, status, campaign_id, external_id, subject, details = row
    doc: dict[str, Any] = {
        "messageId": message_id,
        "sendDate": listrak_time(send_date),
        "messageStatus": status,
        "campaignId": campaign_id,
        "externalCampaignId": external_id,
        "subject": subject,
    }
    if extended:
        doc = {**json.loads(details), **doc}
    return doc


def _activity(row: tuple[Any, ...]) -> dict[str, Any]:
    (_, email, sent, active, opened, read, clicked, clicks, bounced, reason, unsub, abuse) = row[
        :12
    ]
    order_total, external_id = row[12], row[13]
    return {
        "abuse": abuse,
        "activityDate": listrak_time(active),
        "bounce": bounced,
        "bounceReason": reason,
        "click": clicked,
        "clickCount": clicks,
        "emailAddress": email,
        "open": opened,
        "orderTotal": order_total,
        "read": read,
        "sendDate": listrak_time(sent),
        "unsubscribe": unsub,
        "externalContactID": external_id,
    }


def _date_range(request: Request, column: str) -> tuple[str, list[Any]]:
    """``startDate``/``endDate`` on ``column``; a date-only end includes its whole day."""
    sql, values = "", []
    for name, op in (("startDate", ">="), ("endDate", "<=")):
        raw = query_str(request, name)
        if raw is None:
            continue
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ListrakHTTPError.invalid_parameter(
                name, "Use an ISO 8601 date or date-time (2024-05-01 or 2024-05-01T13:45:00)."
            ) from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        if op == "<=" and len(raw) <= 10:
            op, moment = "<", moment + timedelta(days=1)
        sql += f" AND {column} {op} ?"
        values.append(moment)
    return sql, values


def find_message(db: duckdb.DuckDBPyConnection, list_id: int, message_id: int) -> tuple[Any, ...]:
    row = first(
        db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM email_message WHERE list_id = ? AND message_id = ?",
            [list_id, message_id],
        )
    )
    if row is None:
        raise ListrakHTTPError.not_found("listId and messageId")
    return row


def _message_path(state: EmulatorState, request: Request) -> tuple[int, int, tuple[Any, ...]]:
    list_id = path_int(request, "listId")
    find_list(state, list_id)
    message_id = path_int(request, "messageId")
    with state.cursor() as cur:
        return list_id, message_id, find_message(cur, list_id, message_id)


def _find_link(cur: duckdb.DuckDBPyConnection, message_id: int, link_id: int) -> tuple[Any, ...]:
    row = first(
        cur.execute(
            "SELECT l.link_id, l.description, l.url, (SELECT count(*) FROM email_link_click c"
            " WHERE c.message_id = l.message_id AND c.link_id = l.link_id)"
            " FROM email_message_link l WHERE l.message_id = ? AND l.link_id = ?",
            [message_id, link_id],
        )
    )
    if row is None:
        raise ListrakHTTPError.not_found("listId, messageId and messageLinkId")
    return row


def _link(row: tuple[Any, ...]) -> dict[str, Any]:
    link_id, description, url, clicks = row
    return {"linkId": link_id, "linkDescription": description, "linkUrl": url, "clickCount": clicks}


def install_messages(state: EmulatorState, table: OperationTable) -> None:
    state.register_schema(SCHEMA)
    base = "/email/v1/List/{listId}/Message"

    @table.operation("GET", base, "Message_GetMessageCollection", "email")
    async def get_messages(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        count, after = page_count(request), page_after(request)
        dates, values = _date_range(request, "send_date")
        tests = "" if params(request).get("includeTestMessages") else " AND NOT is_test"
        with state.cursor() as cur:
            rows = cur.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM email_message WHERE list_id = ?"
                f" AND message_id > ?{tests}{dates} ORDER BY message_id LIMIT ?",
                [list_id, after, *values, count + 1],
            ).fetchall()
        shown = rows[:count]
        cursor = encode_cursor(shown[-1][0]) if len(rows) > count else None
        return paged([_message(row, False) for row in shown], cursor)

    @table.operation("GET", base + "/{messageId}", "Message_GetMessageResource", "email")
    async def get_message(request: Request, client: Client) -> Response:
        _, _, row = _message_path(state, request)
        return resource(_message(row, True))

    @table.operation(
        "GET",
        base + "/{messageId}/Activity",
        "MessageActivity_GetMessageActivityCollection",
        "email",
    )
    async def get_activity(request: Request, client: Client) -> Response:
        list_id, message_id, _ = _message_path(state, request)
        count, after = page_count(request), page_after(request)
        given = params(request)
        kind = query_str(request, "activityType")
        where = ""
        if kind is not None:
            column = ACTIVITY_TYPES.get(kind.lower())
            if column is None:
                raise ListrakHTTPError.invalid_parameter(
                    "activityType",
                    "Allowed values are Open, Read, Click, Bounce, Unsubscribe and Abuse.",
                )
            where += f" AND {column}"
        date_column = "activity_date" if given.get("dateType") == "Activity" else "send_date"
        dates, values = _date_range(request, date_column)
        email = query_str(request, "emailAddress")
        if email is not None:
            where += " AND email_lower = ?"
            values.append(email.strip().lower())
        with state.cursor() as cur:
            rows = cur.execute(
                f"SELECT {_ACTIVITY_COLUMNS} FROM email_message_activity"
                f" WHERE list_id = ? AND message_id = ? AND row_id > ?{where}{dates}"
                " ORDER BY row_id LIMIT ?",
                [list_id, message_id, after, *values, count + 1],
            ).fetchall()
        shown = rows[:count]
        cursor = encode_cursor(shown[-1][0]) if len(rows) > count else None
        return paged([_activity(row) for row in shown], cursor)

    @table.operation(
        "GET", base + "/{messageId}/Summary", "MessageSummary_GetMessageSummaryResource", "email"
    )
    async def get_summary(request: Request, client: Client) -> Response:
        list_id, message_id, _ = _message_path(state, request)
        with state.cursor() as cur:
            row = first(
                cur.execute(
                    "SELECT count(*), count(*) FILTER (WHERE bounced),"
                    " coalesce(sum(click_count), 0), count(*) FILTER (WHERE order_total > 0),"
                    " count(*) FILTER (WHERE opened), count(*) FILTER (WHERE was_read),"
                    " coalesce(sum(order_total), 0), count(*) FILTER (WHERE unsubscribed)"
                    " FROM email_message_activity WHERE list_id = ? AND message_id = ?",
                    [list_id, message_id],
                )
            )
        assert row is not None
        sent, bounces, clicks, conversions, opens, reads, revenue, unsubscribes = row
        return resource(
            {
                "averageOrderValue": round(revenue / conversions, 2) if conversions else 0.0,
                "bounceCount": bounces,
                "clickCount": int(clicks),
                "conversionCount": conversions,
                "openCount": opens,
                "passAlongCount": 0,
                "readCount": reads,
                "revenue": float(revenue),
                "sentCount": sent,
                "unsubscribeCount": unsubscribes,
                "visitCount": 0,
            }
        )

    @table.operation(
        "GET", base + "/{messageId}/Status", "MessageStatus_GetMessageStatusResource", "email"
    )
    async def get_status(request: Request, client: Client) -> Response:
        list_id, message_id, row = _message_path(state, request)
        with state.cursor() as cur:
            counted = first(
                cur.execute(
                    "SELECT count(*), min(send_date), max(send_date) FROM email_message_activity"
                    " WHERE list_id = ? AND message_id = ?",
                    [list_id, message_id],
                )
            )
        assert counted is not None
        sends, started, ended = counted
        status = row[2]
        return resource(
            {
                "sendCount": sends,
                "startDate": listrak_time(started or row[1]),
                "endDate": listrak_time(ended or row[1]) if status == "Sent" else None,
                "status": "Completed" if status == "Sent" else status,
                "type": "Standard",
            }
        )

    @table.operation(
        "GET", base + "/{messageId}/Link", "MessageLink_GetMessageLinkCollection", "email"
    )
    async def get_links(request: Request, client: Client) -> Response:
        _, message_id, _ = _message_path(state, request)
        count, after = page_count(request), page_after(request)
        with state.cursor() as cur:
            rows = cur.execute(
                "SELECT l.link_id, l.description, l.url, (SELECT count(*) FROM email_link_click c"
                " WHERE c.message_id = l.message_id AND c.link_id = l.link_id)"
                " FROM email_message_link l WHERE l.message_id = ? AND l.link_id > ?"
                " ORDER BY l.link_id LIMIT ?",
                [message_id, after, count + 1],
            ).fetchall()
        shown = rows[:count]
        cursor = encode_cursor(shown[-1][0]) if len(rows) > count else None
        return paged([_link(row) for row in shown], cursor)

    @table.operation(
        "GET",
        base + "/{messageId}/Link/{messageLinkId}",
        "MessageLink_GetMessageLinkResource",
        "email",
    )
    async def get_link(request: Request, client: Client) -> Response:
        _, message_id, _ = _message_path(state, request)
        with state.cursor() as cur:
            row = _find_link(cur, message_id, path_int(request, "messageLinkId"))
        return resource(_link(row))

    @table.operation(
        "GET",
        base + "/{messageId}/Link/{messageLinkId}/Clicker",
        "MessageLinkClicker_GetMessageLinkClickerCollection",
        "email",
    )
    async def get_clickers(request: Request, client: Client) -> Response:
        _, message_id, _ = _message_path(state, request)
        link_id = path_int(request, "messageLinkId")
        count, after = page_count(request), page_after(request)
        dates, values = _date_range(request, "click_date")
        with state.cursor() as cur:
            _find_link(cur, message_id, link_id)
            rows = cur.execute(
                "SELECT row_id, email, click_date FROM email_link_click"
                f" WHERE message_id = ? AND link_id = ? AND row_id > ?{dates}"
                " ORDER BY row_id LIMIT ?",
                [message_id, link_id, after, *values, count + 1],
            ).fetchall()
        shown = rows[:count]
        cursor = encode_cursor(shown[-1][0]) if len(rows) > count else None
        data = [{"emailAddress": email, "clickDate": listrak_time(at)} for _, email, at in shown]
        return paged(data, cursor)
