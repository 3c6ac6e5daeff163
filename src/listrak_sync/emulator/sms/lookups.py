"""What a per-contact route needs to know about one phone number, read in one statement.

A DuckDB statement costs about half a millisecond however little it reads, so instead of a
point query per table (the contact on the sender code, the person's profile, list
subscriptions, profile values), a route asks once: a ``UNION ALL`` of the parts it needs, each
row tagged with its part and laid out in shared columns. Every part is a lookup by ``phone``,
which the single-column ``phone`` indexes in ``schema.py`` answer without scanning the table.
Planning dominates such a statement and grows with the columns it reads, so parts read only
what some route uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from .phone_lists import PhoneList

__all__ = ["Contact", "ContactFacts", "Person", "Subscription", "look_up"]

# The shared columns, after the part tag; a part leaves the ones it does not use NULL.
_LAYOUT = ("key", "text1", "text2", "text3", "text4", "time1", "time2", "time3", "flag1", "flag2")


def _part(tag: str, source: str, **columns: str) -> str:
    values = ", ".join(columns.get(name, "NULL") for name in _LAYOUT)
    return f"SELECT '{tag}', {values} FROM {source}"


_CONTACT = _part(
    "contact",
    "sms_contact WHERE sender_code_id = $sender AND phone = $phone",
    text1="status",
    time1="opt_out_date",
    flag1="opted_out",
)
_PERSON = _part(
    "person",
    "sms_person WHERE phone = $phone",
    text1="email_address",
    text2="first_name",
    text3="last_name",
    text4="postal_code",
    time1="birthday",
)
_SUBSCRIPTION_COLUMNS = {
    "key": "phone_list_id",
    "text1": "state",
    "time1": "subscribe_date",
    "time2": "unsubscribe_date",
    "time3": "pending_date",
    "flag1": "pending_double_opt_in",
    "flag2": "pending_age_gate",
}
_ONE_SUBSCRIPTION = _part(
    "subscription",
    "sms_subscription WHERE phone_list_id = $list AND phone = $phone",
    **_SUBSCRIPTION_COLUMNS,
)
_ALL_SUBSCRIPTIONS = _part(
    "subscription", "sms_subscription WHERE phone = $phone", **_SUBSCRIPTION_COLUMNS
)
_VALUES = _part("value", "sms_field_value WHERE phone = $phone", key="field_id", text1="value")


@dataclass(frozen=True)
class Contact:
    """A phone number on a sender code."""

    phone: str
    status: str  # Active | Banned | Suspended
    opted_out: bool
    opt_out_date: datetime | None


@dataclass(frozen=True)
class Person:
    """A phone number's system fields (shared by every sender code)."""

    email_address: str | None
    first_name: str | None
    last_name: str | None
    birthday: datetime | None
    postal_code: str | None


@dataclass(frozen=True)
class Subscription:
    phone_list_id: int
    state: str  # Subscribed | Unsubscribed | Pending
    subscribe_date: datetime | None
    unsubscribe_date: datetime | None
    pending_date: datetime | None
    pending_double_opt_in: bool
    pending_age_gate: bool


@dataclass
class ContactFacts:
    """The parts a route asked for; parts not asked for stay empty."""

    phone: str
    contact: Contact | None = None
    person: Person | None = None
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    values: dict[int, str] = field(default_factory=dict)  # profile field id → stored value


def look_up(
    cur: duckdb.DuckDBPyConnection,
    phone: str,
    *,
    sender_code_id: int | None = None,
    person: bool = False,
    subscription: PhoneList | None = None,
    subscriptions: bool = False,
    values: bool = False,
) -> ContactFacts:
    """Read the asked-for parts for ``phone`` in one statement: the contact on
    ``sender_code_id``, the person, the subscription to one list or to every list (callers
    keep those of their sender code), and the stored profile values."""
    parts: list[str] = []
    params: dict[str, Any] = {"phone": phone}
    if sender_code_id is not None:
        parts.append(_CONTACT)
        params["sender"] = sender_code_id
    if person:
        parts.append(_PERSON)
    if subscriptions:
        parts.append(_ALL_SUBSCRIPTIONS)
    elif subscription is not None:
        parts.append(_ONE_SUBSCRIPTION)
        params["list"] = subscription.phone_list_id
    if values:
        parts.append(_VALUES)
    facts = ContactFacts(phone)
    rows = cur.execute(" UNION ALL ".join(parts), params).fetchall()
    for tag, key, text1, text2, text3, text4, time1, time2, time3, flag1, flag2 in rows:
        if tag == "contact":
            facts.contact = Contact(phone, text1, flag1, time1)
        elif tag == "person":
            facts.person = Person(text1, text2, text3, time1, text4)
        elif tag == "subscription":
            facts.subscriptions[key] = Subscription(key, text1, time1, time2, time3, flag1, flag2)
        else:
            facts.values[key] = text1
    return facts
