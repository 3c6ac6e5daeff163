"""List subscriptions: a contact's lists, subscribe, unsubscribe, and the consent rules.

Consent is the point of these rules: an opted-out number is never subscribed again through the
API (only the person can opt back in, by text), banned and suspended numbers are refused with
their codes, and a list that requires double opt-in or an age gate puts new members in
``Pending`` until they confirm, which a second subscribe cannot skip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..responses import created, deleted, listrak_time, paged
from ..routing import OperationTable
from ..state import Client, EmulatorState
from .paging import encode_cursor, page_request
from .phone_lists import PhoneList, list_for_write
from .phones import phone_or_error
from .sender_codes import SenderCode, find_sender_code, now

__all__ = [
    "Contact",
    "contact_or_404",
    "find_contact",
    "install_subscriptions",
    "path_phone",
    "refuse_banned",
    "refuse_unless_subscribable",
    "subscribe",
]


@dataclass(frozen=True)
class Contact:
    phone: str
    create_date: datetime
    status: str  # Active | Banned | Suspended
    opted_out: bool
    opt_out_date: datetime | None


def path_phone(request: Request, sender: SenderCode) -> str:
    return phone_or_error(request.path_params["phoneNumber"], sender.country)


def find_contact(cur: duckdb.DuckDBPyConnection, sender: SenderCode, phone: str) -> Contact | None:
    row = cur.execute(
        "SELECT phone, create_date, status, opted_out, opt_out_date FROM sms_contact "
        "WHERE sender_code_id = ? AND phone = ?",
        [sender.sender_code_id, phone],
    ).fetchone()
    return Contact(*row) if row else None


def contact_or_404(cur: duckdb.DuckDBPyConnection, sender: SenderCode, phone: str) -> Contact:
    """The contact, or ``ERROR_PHONE_NUMBER_NOT_FOUND`` (the code a client falls back on)."""
    contact = find_contact(cur, sender, phone)
    if contact is None:
        raise ListrakHTTPError(
            404,
            "ERROR_PHONE_NUMBER_NOT_FOUND",
            f"The phoneNumber {phone} does not exist on sender code {sender.sender_code_id}.",
        )
    return contact


def refuse_banned(contact: Contact) -> None:
    """Banned numbers are refused on update and subscription calls."""
    if contact.status == "Banned":
        raise ListrakHTTPError(
            400, "ERROR_BANNED_PHONE_NUMBER", f"The phoneNumber {contact.phone} is banned."
        )


def refuse_unless_subscribable(contact: Contact) -> None:
    refuse_banned(contact)
    if contact.opted_out:
        # The spec lists no code of its own for this; see the README.
        raise ListrakHTTPError.invalid_parameter(
            "phoneNumber",
            f"The phoneNumber {contact.phone} has opted out of this sender code; only the "
            "contact can opt back in.",
        )
    if contact.status == "Suspended":
        raise ListrakHTTPError(
            400,
            "ERROR_PHONE_NUMBER_SUSPENDED",
            f"The phoneNumber {contact.phone} is suspended and cannot be sent messages.",
        )


def subscribe(
    cur: duckdb.DuckDBPyConnection, phone_list: PhoneList, phone: str, at: datetime
) -> None:
    """Subscribe ``phone`` (already checked subscribable) to the list, or make it pending."""
    row = cur.execute(
        "SELECT state FROM sms_subscription WHERE phone_list_id = ? AND phone = ?",
        [phone_list.phone_list_id, phone],
    ).fetchone()
    if row is not None and row[0] == "Subscribed":
        raise ListrakHTTPError(
            400,
            "ERROR_SUBSCRIBED_PHONE_NUMBER",
            f"The phoneNumber {phone} is already subscribed to list {phone_list.phone_list_id}.",
        )
    if row is not None and row[0] == "Pending":
        raise ListrakHTTPError(
            400,
            "ERROR_PENDING_PHONE_NUMBER",
            f"The phoneNumber {phone} is pending double opt-in on list {phone_list.phone_list_id}.",
        )
    pending = phone_list.require_double_opt_in or phone_list.require_age_gate
    cur.execute(
        "INSERT OR REPLACE INTO sms_subscription VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
        [
            phone_list.phone_list_id,
            phone,
            "Pending" if pending else "Subscribed",
            None if pending else at,
            at if pending else None,
            phone_list.require_double_opt_in,
            phone_list.require_age_gate,
        ],
    )


def install_subscriptions(state: EmulatorState, table: OperationTable) -> None:
    @table.operation(
        "GET",
        "/sms/v1/ShortCode/{senderCodeId}/Contact/{phoneNumber}/PhoneList",
        "ContactListSubscription_GetContactListCollection",
        "sms",
    )
    async def get_contact_lists(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        phone = path_phone(request, sender)
        page = page_request(request)
        after = int(page.after) if page.after is not None and page.after.isdigit() else -1
        if page.after is not None and after < 0:
            raise ListrakHTTPError.invalid_parameter("cursor")
        with state.cursor() as cur:
            if find_contact(cur, sender, phone) is None:
                raise ListrakHTTPError.not_found("senderCodeId and phoneNumber")
            rows = cur.execute(
                "SELECT s.phone_list_id, s.state, s.subscribe_date, s.unsubscribe_date, "
                "s.pending_date, s.state = 'Pending' AND s.pending_double_opt_in, "
                "s.state = 'Pending' AND s.pending_age_gate "
                "FROM sms_subscription s JOIN sms_list l USING (phone_list_id) "
                "WHERE l.sender_code_id = ? AND s.phone = ? AND s.phone_list_id > ? "
                "ORDER BY s.phone_list_id LIMIT ?",
                [sender.sender_code_id, phone, after, page.count + 1],
            ).fetchall()
        data = [
            {
                "phoneListId": list_id,
                "subscriptionState": list_state,
                "subscribeDate": listrak_time(subscribed),
                "unsubscribeDate": listrak_time(unsubscribed),
                "pendingDate": listrak_time(pending),
                "pendingDoubleOptIn": double_opt_in,
                "pendingAgeGate": age_gate,
            }
            for list_id, list_state, subscribed, unsubscribed, pending, double_opt_in, age_gate in (
                rows[: page.count]
            )
        ]
        cursor = encode_cursor(str(rows[page.count - 1][0])) if len(rows) > page.count else None
        return paged(data, cursor)

    @table.operation(
        "POST",
        "/sms/v1/ShortCode/{senderCodeId}/Contact/{phoneNumber}/PhoneList/{phoneListId}",
        "ContactListSubscription_PostContactListSubscription",
        "sms",
    )
    async def subscribe_contact(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        sender.require_enabled()
        phone_list = list_for_write(state, sender, request)
        phone = path_phone(request, sender)
        with state.lock, state.cursor() as cur:
            contact = contact_or_404(cur, sender, phone)
            refuse_unless_subscribable(contact)
            subscribe(cur, phone_list, phone, now(state))
        return created(phone)

    @table.operation(
        "DELETE",
        "/sms/v1/ShortCode/{senderCodeId}/ContactUnsubscribe/{phoneNumber}/PhoneList/{phoneListId}",
        "ContactListSubscription_DeleteUnsubscribeContactListSubscription",
        "sms",
    )
    async def unsubscribe_contact(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        sender.require_enabled()
        # Leaving an inactive list is still allowed: it only ever removes consent.
        phone_list = list_for_write(state, sender, request, allow_inactive=True)
        phone = path_phone(request, sender)
        with state.lock, state.cursor() as cur:
            contact_or_404(cur, sender, phone)
            row = cur.execute(
                "SELECT state FROM sms_subscription WHERE phone_list_id = ? AND phone = ?",
                [phone_list.phone_list_id, phone],
            ).fetchone()
            if row is None or row[0] == "Unsubscribed":
                raise ListrakHTTPError(
                    400,
                    "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED",
                    f"The phoneNumber {phone} is not subscribed to list "
                    f"{phone_list.phone_list_id}.",
                )
            cur.execute(
                "UPDATE sms_subscription SET state = 'Unsubscribed', unsubscribe_date = ? "
                "WHERE phone_list_id = ? AND phone = ?",
                [now(state), phone_list.phone_list_id, phone],
            )
        return deleted()
