"""List subscriptions: a contact's lists, subscribe, unsubscribe, and the consent rules.

Consent is the point of these rules: an opted-out number is never subscribed again through the
API (only the person can opt back in, by text), banned and suspended numbers are refused with
their codes, and a list that requires double opt-in or an age gate puts new members in
``Pending`` until they confirm, which a second subscribe cannot skip.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..responses import created, deleted, listrak_time, paged
from ..routing import OperationTable
from ..state import Client, EmulatorState
from .batch import SubscribeRows, UnsubscribeRows, WriteBatcher
from .lookups import Contact, ContactFacts, Subscription, look_up
from .paging import encode_cursor, page_request
from .phone_lists import PhoneList, list_for_write, phone_lists
from .phones import phone_or_error
from .sender_codes import SenderCode, find_sender_code, now
from .writes import Statement, apply_writes

__all__ = [
    "contact_or_404",
    "install_subscriptions",
    "new_subscription",
    "own_subscriptions",
    "path_phone",
    "refuse_banned",
    "refuse_unless_subscribable",
    "subscription_write",
]


def path_phone(request: Request, sender: SenderCode) -> str:
    return phone_or_error(request.path_params["phoneNumber"], sender.country)


def contact_or_404(facts: ContactFacts, sender: SenderCode) -> Contact:
    """The looked-up contact, or ``ERROR_PHONE_NUMBER_NOT_FOUND`` (the code a client falls
    back on)."""
    if facts.contact is None:
        raise ListrakHTTPError(
            404,
            "ERROR_PHONE_NUMBER_NOT_FOUND",
            f"The phoneNumber {facts.phone} does not exist on sender code {sender.sender_code_id}.",
        )
    return facts.contact


def own_subscriptions(
    state: EmulatorState, sender: SenderCode, facts: ContactFacts
) -> list[Subscription]:
    """The looked-up subscriptions to lists of ``sender``, in list id order."""
    lists = phone_lists(state)
    return [
        facts.subscriptions[list_id]
        for list_id in sorted(facts.subscriptions)
        if list_id in lists and lists[list_id].sender_code_id == sender.sender_code_id
    ]


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


# A subscription row, from the parameters of new_subscription plus $phone.
_ROW = "$list, $phone, $state, $subscribed, NULL, $pending, $double, $age"


def new_subscription(phone_list: PhoneList, phone: str, at: datetime) -> dict[str, Any]:
    """A new member of ``phone_list``: subscribed, or pending when the list asks for consent."""
    pending = phone_list.require_double_opt_in or phone_list.require_age_gate
    return {
        "list": phone_list.phone_list_id,
        "phone": phone,
        "state": "Pending" if pending else "Subscribed",
        "subscribed": None if pending else at,
        "pending": at if pending else None,
        "double": phone_list.require_double_opt_in,
        "age": phone_list.require_age_gate,
    }


def subscription_write(
    phone_list: PhoneList, phone: str, at: datetime, current: Subscription | None
) -> Statement:
    """The statement that subscribes ``phone`` (already checked subscribable) to the list, or
    makes it pending; ``current`` is its subscription to that list, if any."""
    state = current.state if current is not None else None
    if state == "Subscribed":
        raise ListrakHTTPError(
            400,
            "ERROR_SUBSCRIBED_PHONE_NUMBER",
            f"The phoneNumber {phone} is already subscribed to list {phone_list.phone_list_id}.",
        )
    if state == "Pending":
        raise ListrakHTTPError(
            400,
            "ERROR_PENDING_PHONE_NUMBER",
            f"The phoneNumber {phone} is pending double opt-in on list {phone_list.phone_list_id}.",
        )
    # A first subscription is a plain INSERT, which DuckDB runs several times faster.
    verb = "INSERT" if current is None else "INSERT OR REPLACE"
    return (
        f"{verb} INTO sms_subscription VALUES ({_ROW})",
        new_subscription(phone_list, phone, at),
    )


def _subscribe_blind(
    cur: duckdb.DuckDBPyConnection,
    sender: SenderCode,
    phone_list: PhoneList,
    phone: str,
    at: datetime,
) -> bool:
    """Subscribe ``phone`` in one statement if it is an active, opted-in contact of the sender
    code with no subscription to the list (see ``writes.py``); False when anything else holds."""
    try:
        rows = cur.execute(
            f"INSERT INTO sms_subscription SELECT {_ROW} FROM sms_contact "
            "WHERE sender_code_id = $sender AND phone = $phone "
            "AND status = 'Active' AND NOT opted_out",
            {**new_subscription(phone_list, phone, at), "sender": sender.sender_code_id},
        ).fetchall()
    except duckdb.ConstraintException:  # already on the list, in some state
        return False
    return bool(rows[0][0])


def _subscribe_one(
    state: EmulatorState, sender: SenderCode, phone_list: PhoneList, phone: str, at: datetime
) -> None:
    """Subscribe for one request, deciding exactly; raises the request's refusal."""
    with state.lock, state.cursor() as cur:
        if not _subscribe_blind(cur, sender, phone_list, phone, at):
            facts = look_up(
                cur, phone, sender_code_id=sender.sender_code_id, subscription=phone_list
            )
            refuse_unless_subscribable(contact_or_404(facts, sender))
            current = facts.subscriptions.get(phone_list.phone_list_id)
            apply_writes(cur, [subscription_write(phone_list, phone, at, current)])


def _unsubscribe_one(
    state: EmulatorState, sender: SenderCode, phone_list: PhoneList, phone: str, at: datetime
) -> None:
    """Unsubscribe for one request, deciding exactly; raises the request's refusal."""
    with state.lock, state.cursor() as cur:
        facts = look_up(cur, phone, sender_code_id=sender.sender_code_id, subscription=phone_list)
        contact_or_404(facts, sender)
        current = facts.subscriptions.get(phone_list.phone_list_id)
        if current is None or current.state == "Unsubscribed":
            raise ListrakHTTPError(
                400,
                "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED",
                f"The phoneNumber {phone} is not subscribed to list {phone_list.phone_list_id}.",
            )
        cur.execute(
            "UPDATE sms_subscription SET state = 'Unsubscribed', unsubscribe_date = ? "
            "WHERE phone_list_id = ? AND phone = ?",
            [at, phone_list.phone_list_id, phone],
        )


def install_subscriptions(
    state: EmulatorState, table: OperationTable, batcher: WriteBatcher
) -> None:
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
            facts = look_up(cur, phone, sender_code_id=sender.sender_code_id, subscriptions=True)
        if facts.contact is None:
            raise ListrakHTTPError.not_found("senderCodeId and phoneNumber")
        rows = [sub for sub in own_subscriptions(state, sender, facts) if sub.phone_list_id > after]
        data = [
            {
                "phoneListId": sub.phone_list_id,
                "subscriptionState": sub.state,
                "subscribeDate": listrak_time(sub.subscribe_date),
                "unsubscribeDate": listrak_time(sub.unsubscribe_date),
                "pendingDate": listrak_time(sub.pending_date),
                "pendingDoubleOptIn": sub.state == "Pending" and sub.pending_double_opt_in,
                "pendingAgeGate": sub.state == "Pending" and sub.pending_age_gate,
            }
            for sub in rows[: page.count]
        ]
        last = rows[page.count - 1].phone_list_id if len(rows) > page.count else None
        cursor = encode_cursor(str(last)) if last is not None else None
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
        at = now(state)
        # Blind, together with the other writes that arrived at the same time (batch.py); the
        # batch takes the exact path when the number is not simply an active contact off the
        # list.
        blind = SubscribeRows(sender.sender_code_id, phone, new_subscription(phone_list, phone, at))
        await batcher.write(blind, lambda: _subscribe_one(state, sender, phone_list, phone, at))
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
        at = now(state)
        # Blind, together with the other writes that arrived at the same time (batch.py).
        blind = UnsubscribeRows(sender.sender_code_id, phone, phone_list.phone_list_id, at)
        await batcher.write(blind, lambda: _unsubscribe_one(state, sender, phone_list, phone, at))
        return deleted()
