"""A phone number's profile: system fields and profile field values, shared by sender codes.

Reads build SMSContact resources for one contact or a page of them; writes apply the members a
request supplies, as statements the caller runs with its other writes: absent members (and a
``null`` birthday, the one nullable member) are left as they are, and an empty string clears a
member.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import duckdb
from email_validator import EmailNotValidError, validate_email

from ..errors import ListrakHTTPError
from ..responses import listrak_time
from ..state import EmulatorState
from .fields import SYSTEM_COLUMNS, Field, check_values
from .lookups import ContactFacts, Person
from .writes import Statement

__all__ = [
    "ProfileChange",
    "contact_resource",
    "contact_resources",
    "has_custom_values",
    "parse_profile",
    "profile_rows",
    "profile_writes",
]

ProfileChange = tuple[dict[str, Any], list[tuple[Field, str]]]
_PERSON_COLUMNS = ("email_address", "first_name", "last_name", "birthday", "postal_code")


def _birthday(value: Any) -> datetime:
    if value == "":
        raise ListrakHTTPError(
            400,
            "ERROR_BIRTHDAY_FIELD_NULL",
            "birthday must be null or a date; an empty string is not a null value.",
        )
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ListrakHTTPError.invalid_parameter("birthday", "Use a date-time.") from None
    return parsed.replace(tzinfo=None)


def parse_profile(state: EmulatorState, body: dict[str, Any]) -> ProfileChange:
    """Check a request's profile members; returns (person column → value, field values)."""
    person: dict[str, Any] = {}
    email = body.get("emailAddress")
    if email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ListrakHTTPError(
                400, "ERROR_INVALID_EMAIL_ADDRESS", f"The emailAddress is invalid: {exc}"
            ) from None
    for member, column in SYSTEM_COLUMNS.items():
        if body.get(member) is None:
            continue
        if member == "birthday":
            person[column] = _birthday(body[member])
        else:
            person[column] = body[member] or None
    values = check_values(state, body.get("segmentationFieldValues") or [])
    return person, values


def has_custom_values(change: ProfileChange) -> bool:
    """Whether the change writes profile values (and so needs the stored ones looked up)."""
    return any(field.system_column is None for field, _ in change[1])


def profile_rows(change: ProfileChange) -> tuple[dict[str, Any], dict[int, str]]:
    """A change as the person columns it sets and the custom values it writes (field id →
    value; an empty value clears)."""
    person, values = change
    person = dict(person)
    for field, value in values:
        if field.system_column == "birthday":
            person["birthday"] = datetime.fromisoformat(value) if value else None
        elif field.system_column is not None:
            person[field.system_column] = value or None
    # A field named twice keeps its last value, as when each value was written in turn.
    custom = {field.field_id: value for field, value in values if field.system_column is None}
    return person, custom


def profile_writes(phone: str, change: ProfileChange, facts: ContactFacts) -> list[Statement]:
    """The statements that apply a checked profile change for ``phone``.

    ``facts`` must hold the person and, when the change has custom values, the stored values:
    knowing what exists lets new rows be plain INSERTs, which DuckDB runs several times faster
    than INSERT OR REPLACE.
    """
    person, custom = profile_rows(change)
    statements: list[Statement] = []
    if facts.person is None:
        columns = ", ".join(["phone", *person])
        marks = ", ".join(["?"] * (len(person) + 1))
        statements.append(
            (f"INSERT INTO sms_person ({columns}) VALUES ({marks})", [phone, *person.values()])
        )
    elif person:
        assignments = ", ".join(f"{column} = ?" for column in person)
        statements.append(
            (f"UPDATE sms_person SET {assignments} WHERE phone = ?", [*person.values(), phone])
        )
    cleared = [key for key, value in custom.items() if not value and key in facts.values]
    if cleared:
        marks = ", ".join(["?"] * len(cleared))
        statements.append(
            (
                f"DELETE FROM sms_field_value WHERE phone = ? AND field_id IN ({marks})",
                [phone, *cleared],
            )
        )
    kept = [(field_id, value) for field_id, value in custom.items() if value]
    if kept:
        verb = "INSERT OR REPLACE" if any(key in facts.values for key, _ in kept) else "INSERT"
        rows = ", ".join(["(?, ?, ?)"] * len(kept))
        params = [item for field_id, value in kept for item in (phone, field_id, value)]
        statements.append((f"{verb} INTO sms_field_value VALUES {rows}", params))
    return statements


def contact_resource(
    phone: str, person: Person | None, values: list[dict[str, Any]]
) -> dict[str, Any]:
    """An SMSContact's members (without ``optedOut``) from its person and active values."""
    if person is None:
        return {"phoneNumber": phone, "segmentationFieldValues": values}
    return {
        "phoneNumber": phone,
        "emailAddress": person.email_address,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "birthday": listrak_time(person.birthday),
        "postalCode": person.postal_code,
        "segmentationFieldValues": values,
    }


def contact_resources(
    cur: duckdb.DuckDBPyConnection, phones: list[str]
) -> dict[str, dict[str, Any]]:
    """SMSContact members (without ``optedOut``) for ``phones``, in two queries."""
    if not phones:
        return {}
    # One number (Get Contact) is a point lookup the primary key index answers; a page joins.
    match, arg = ("= ?", phones[0]) if len(phones) == 1 else ("IN (SELECT unnest(?))", phones)
    people = cur.execute(
        f"SELECT phone, {', '.join(_PERSON_COLUMNS)} FROM sms_person WHERE phone {match}", [arg]
    ).fetchall()
    values: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for phone, field_id, value in cur.execute(
        "SELECT v.phone, v.field_id, v.value FROM sms_field_value v "
        "JOIN sms_field f USING (field_id) "
        f"WHERE f.status_flag = 'Active' AND v.phone {match} ORDER BY v.phone, v.field_id",
        [arg],
    ).fetchall():
        values[phone].append({"segmentationFieldId": field_id, "value": value})
    found = {
        phone: contact_resource(phone, Person(email, first, last, birthday, postal), values[phone])
        for phone, email, first, last, birthday, postal in people
    }
    for phone in phones:
        found.setdefault(phone, contact_resource(phone, None, []))
    return found
