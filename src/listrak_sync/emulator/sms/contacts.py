"""SMS contacts: list members (paged), create-and-subscribe, get, update, and opt-outs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..parsing import query_bool, query_datetime
from ..responses import created, listrak_time, paged, resource, updated
from ..routing import OperationTable, body
from ..state import Client, EmulatorState
from .batch import CreateRows, WriteBatcher
from .fields import field_map
from .lookups import ContactFacts, look_up
from .paging import encode_cursor, page_request
from .phone_lists import PhoneList, find_list, list_for_write
from .phones import phone_or_error
from .profiles import (
    ProfileChange,
    contact_resource,
    contact_resources,
    has_custom_values,
    parse_profile,
    profile_rows,
    profile_writes,
)
from .sender_codes import SenderCode, find_sender_code, now
from .subscriptions import (
    contact_or_404,
    new_subscription,
    own_subscriptions,
    path_phone,
    refuse_banned,
    subscription_write,
)
from .writes import Statement, apply_writes

__all__ = ["install_contacts"]

_FAR_PAST = datetime(1, 1, 1)
_FAR_FUTURE = datetime(9999, 12, 31)


def _date_filter(request: Request, name: str, default: datetime) -> datetime:
    value = query_datetime(request, name)
    if value is None:
        return default
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _body_object(request: Request) -> dict[str, Any]:
    doc = body(request)
    if not isinstance(doc, dict):
        raise ListrakHTTPError.invalid_parameter("contactResource", "Send a JSON object.")
    return doc


def _create_writes(
    sender: SenderCode,
    phone_list: PhoneList,
    change: ProfileChange,
    at: datetime,
    facts: ContactFacts,
) -> list[Statement]:
    """Create Contact's writes, given what exists for the number (``facts``)."""
    phone = facts.phone
    current = facts.subscriptions.get(phone_list.phone_list_id)
    subscribing = subscription_write(phone_list, phone, at, current)
    return [
        (
            "INSERT INTO sms_contact VALUES (?, ?, ?, 'Active', FALSE, NULL, NULL)",
            [sender.sender_code_id, phone, at],
        ),
        *profile_writes(phone, change, facts),
        subscribing,
    ]


def _create_one(
    state: EmulatorState,
    sender: SenderCode,
    phone_list: PhoneList,
    change: ProfileChange,
    phone: str,
    at: datetime,
) -> None:
    """Create Contact for one request, deciding exactly; raises the request's refusal."""
    with state.lock, state.cursor() as cur:
        # Blind first, as if nothing about the number existed yet (see writes.py).
        try:
            apply_writes(cur, _create_writes(sender, phone_list, change, at, ContactFacts(phone)))
            return
        except duckdb.ConstraintException:
            pass
        facts = look_up(
            cur,
            phone,
            sender_code_id=sender.sender_code_id,
            person=True,
            subscription=phone_list,
            values=has_custom_values(change),
        )
        if facts.contact is not None:
            raise ListrakHTTPError(
                400,
                "ERROR_PHONE_NUMBER_FOUND",
                f"The phoneNumber {phone} already exists on sender code {sender.sender_code_id}.",
            )
        apply_writes(cur, _create_writes(sender, phone_list, change, at, facts))


def install_contacts(state: EmulatorState, table: OperationTable, batcher: WriteBatcher) -> None:
    base = "/sms/v1/ShortCode/{senderCodeId}"

    @table.operation(
        "GET", f"{base}/PhoneList/{{phoneListId}}/Contact", "Contact_GetContactCollection", "sms"
    )
    async def get_list_contacts(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        phone_list = find_list(state, sender, request)
        opted_out = query_bool(request, "optedOut", False)
        start = _date_filter(request, "startSubscribeDate", _FAR_PAST)
        end = _date_filter(request, "endSubscribeDate", _FAR_FUTURE)
        page = page_request(request)
        # Members are subscribed; opted-out rows are those who left the list or the sender
        # code. Pending numbers are neither yet.
        membership = (
            "(s.state = 'Unsubscribed' OR c.opted_out)"
            if opted_out
            else "(s.state = 'Subscribed' AND NOT c.opted_out)"
        )
        with state.cursor() as cur:
            phones = [
                row[0]
                for row in cur.execute(
                    "SELECT s.phone FROM sms_subscription s JOIN sms_contact c "
                    "ON c.phone = s.phone AND c.sender_code_id = ? "
                    f"WHERE s.phone_list_id = ? AND {membership} AND s.phone > ? "
                    "AND coalesce(s.subscribe_date, s.pending_date) BETWEEN ? AND ? "
                    "ORDER BY s.phone LIMIT ?",
                    [
                        sender.sender_code_id,
                        phone_list.phone_list_id,
                        page.after or "",
                        start,
                        end,
                        page.count + 1,
                    ],
                ).fetchall()
            ]
            shown = phones[: page.count]
            found = contact_resources(cur, shown)
        data = [{**found[phone], "optedOut": opted_out} for phone in shown]
        cursor = encode_cursor(shown[-1]) if len(phones) > page.count else None
        return paged(data, cursor)

    @table.operation(
        "POST",
        f"{base}/PhoneList/{{phoneListId}}/Contact",
        "Contact_PostContactListResource",
        "sms",
    )
    async def create_contact(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        sender.require_enabled()
        phone_list = list_for_write(state, sender, request)
        doc = _body_object(request)
        phone = phone_or_error(doc.get("phoneNumber"), sender.country)
        if doc.get("optedOut"):
            raise ListrakHTTPError.invalid_parameter(
                "optedOut", "Create Contact subscribes the contact; it cannot create an opt-out."
            )
        change = parse_profile(state, doc)
        at = now(state)
        # Blind, as if nothing about the number existed yet (see writes.py), together with the
        # other creates that arrived at the same time (batch.py); the batch takes the exact path
        # below when that is wrong.
        person, custom = profile_rows(change)
        blind = CreateRows(
            sender_code_id=sender.sender_code_id,
            phone=phone,
            at=at,
            person=person,
            values=[(field_id, value) for field_id, value in custom.items() if value],
            subscription=new_subscription(phone_list, phone, at),
        )
        await batcher.write(
            blind, lambda: _create_one(state, sender, phone_list, change, phone, at)
        )
        return created(phone)

    @table.operation("GET", f"{base}/Contact/{{phoneNumber}}", "Contact_GetContactResource", "sms")
    async def get_contact(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        phone = path_phone(request, sender)
        with state.cursor() as cur:
            facts = look_up(
                cur,
                phone,
                sender_code_id=sender.sender_code_id,
                person=True,
                subscriptions=True,
                values=True,
            )
        contact = facts.contact
        if contact is None:
            raise ListrakHTTPError.not_found("senderCodeId and phoneNumber")
        first = min(
            (
                sub.subscribe_date
                for sub in own_subscriptions(state, sender, facts)
                if sub.subscribe_date is not None
            ),
            default=None,
        )
        fields = field_map(state)
        values = [
            {"segmentationFieldId": field_id, "value": facts.values[field_id]}
            for field_id in sorted(facts.values)
            if field_id in fields and fields[field_id].status_flag == "Active"
        ]
        return resource(
            {
                "subscribeDate": listrak_time(first),
                "unsubscribeDate": listrak_time(contact.opt_out_date),
                **contact_resource(phone, facts.person, values),
                "optedOut": contact.opted_out,
            }
        )

    @table.operation("PUT", f"{base}/Contact", "Contact_PutContactResource", "sms")
    async def update_contact(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        sender.require_enabled()
        doc = _body_object(request)
        phone = phone_or_error(doc.get("phoneNumber"), sender.country)
        change = parse_profile(state, doc)
        with state.lock, state.cursor() as cur:
            facts = look_up(
                cur,
                phone,
                sender_code_id=sender.sender_code_id,
                person=True,
                values=has_custom_values(change),
            )
            contact = contact_or_404(facts, sender)
            refuse_banned(contact)
            at = now(state)
            writes = profile_writes(phone, change, facts)
            # Opting out is one-way here: optedOut false never opts a contact back in.
            if doc.get("optedOut") is True and not contact.opted_out:
                writes.append(
                    (
                        "UPDATE sms_contact SET opted_out = TRUE, opt_out_date = ?, "
                        "opt_out_reason = 'API' WHERE sender_code_id = ? AND phone = ?",
                        [at, sender.sender_code_id, phone],
                    )
                )
                writes.append(
                    (
                        "UPDATE sms_subscription SET state = 'Unsubscribed', unsubscribe_date = ? "
                        "WHERE phone = ? AND state <> 'Unsubscribed' AND phone_list_id IN "
                        "(SELECT phone_list_id FROM sms_list WHERE sender_code_id = ?)",
                        [at, phone, sender.sender_code_id],
                    )
                )
            apply_writes(cur, writes)
        return updated(phone)

    @table.operation("GET", f"{base}/OptOut", "Contact_GetOptOuts", "sms")
    async def get_opt_outs(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        start = _date_filter(request, "startDate", _FAR_PAST)
        end = _date_filter(request, "endDate", _FAR_FUTURE)
        page = page_request(request)
        with state.cursor() as cur:
            rows = cur.execute(
                "SELECT phone, opt_out_date, opt_out_reason FROM sms_contact "
                "WHERE sender_code_id = ? AND opted_out AND phone > ? "
                "AND opt_out_date BETWEEN ? AND ? ORDER BY phone LIMIT ?",
                [sender.sender_code_id, page.after or "", start, end, page.count + 1],
            ).fetchall()
        shown = rows[: page.count]
        data = [
            {"phoneNumber": phone, "optOutDate": listrak_time(date), "optOutReason": reason}
            for phone, date, reason in shown
        ]
        cursor = encode_cursor(shown[-1][0]) if len(rows) > page.count else None
        return paged(data, cursor)
