"""A phone number's profile: system fields and profile field values, shared by sender codes.

Reads build SMSContact resources for one contact or a page of them; writes apply the members a
request supplies: absent members (and a ``null`` birthday, the one nullable member) are left as
they are, and an empty string clears a member.
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

__all__ = ["ProfileChange", "apply_profile", "contact_resources", "parse_profile"]

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


def apply_profile(cur: duckdb.DuckDBPyConnection, phone: str, change: ProfileChange) -> None:
    """Write a checked profile change for ``phone`` (inside the caller's transaction)."""
    person, values = change
    person = dict(person)
    for field, value in values:
        if field.system_column == "birthday":
            person["birthday"] = datetime.fromisoformat(value) if value else None
        elif field.system_column is not None:
            person[field.system_column] = value or None
    cur.execute("INSERT OR IGNORE INTO sms_person (phone) VALUES (?)", [phone])
    if person:
        assignments = ", ".join(f"{column} = ?" for column in person)
        cur.execute(
            f"UPDATE sms_person SET {assignments} WHERE phone = ?", [*person.values(), phone]
        )
    for field, value in values:
        if field.system_column is not None:
            continue
        if value == "":
            cur.execute(
                "DELETE FROM sms_field_value WHERE phone = ? AND field_id = ?",
                [phone, field.field_id],
            )
        else:
            cur.execute(
                "INSERT OR REPLACE INTO sms_field_value VALUES (?, ?, ?)",
                [phone, field.field_id, value],
            )


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
    found: dict[str, dict[str, Any]] = {}
    for phone, email, first, last, birthday, postal in people:
        found[phone] = {
            "phoneNumber": phone,
            "emailAddress": email,
            "firstName": first,
            "lastName": last,
            "birthday": listrak_time(birthday),
            "postalCode": postal,
            "segmentationFieldValues": values.get(phone, []),
        }
    for phone in phones:
        found.setdefault(phone, {"phoneNumber": phone, "segmentationFieldValues": []})
    return found
