"""Contacts of an email list: get all (cursor paging), get one, create-or-update.

A contact belongs to one list and is keyed by its lower-cased address, so addresses match
case-insensitively; it keeps the address as first given. ``contact_id`` grows with every new
contact, which is what the paging cursor walks. The tables carry no index: list imports write
a million contacts at a time with set-based SQL, and index upkeep would triple that cost.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..parsing import path_int, query_bool, query_str
from ..responses import created, listrak_time, paged, resource, updated
from ..routing import OperationTable, body
from ..state import Client, EmulatorState
from .addresses import is_banned, is_suppressed, is_valid_email, now
from .fields import check_field_values
from .lists import find_list
from .paging import encode_cursor, page_after, page_count
from .sql import first
from .writes import write

__all__ = [
    "CONTACT_COLUMNS",
    "SCHEMA",
    "contact_resources",
    "email_key",
    "install_contacts",
    "merge_values",
    "merge_values_sql",
    "reserve_contact_ids",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS email_contact (
    list_id INTEGER NOT NULL,
    contact_id BIGINT NOT NULL,
    email VARCHAR NOT NULL,
    email_lower VARCHAR NOT NULL,
    email_key VARCHAR NOT NULL,
    state VARCHAR NOT NULL,  -- Subscribed, Unsubscribed, or Pending (double opt-in sent)
    subscribe_date TIMESTAMP,
    resubscribe_date TIMESTAMP,
    subscribe_method VARCHAR,
    unsubscribe_date TIMESTAMP,
    unsubscribe_method VARCHAR,
    external_contact_id VARCHAR
);
-- Point lookups by address (POST Contact, GET Contact) stay fast on million-contact lists; an
-- index on the lower-cased address costs list imports about 0.4 s per million new contacts.
CREATE INDEX IF NOT EXISTS email_contact_address ON email_contact (email_lower);
-- The next contact id, so a new contact does not scan the table for max(contact_id).
CREATE TABLE IF NOT EXISTS email_contact_counter (next_id BIGINT NOT NULL);
INSERT INTO email_contact_counter SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM email_contact_counter);
CREATE TABLE IF NOT EXISTS email_field_value (
    list_id INTEGER NOT NULL,
    contact_id BIGINT NOT NULL,
    field_id INTEGER NOT NULL,
    value VARCHAR NOT NULL
);
"""

CONTACT_COLUMNS = (
    "contact_id, email, email_key, state, subscribe_date, resubscribe_date, subscribe_method,"
    " unsubscribe_date, unsubscribe_method, external_contact_id"
)
MAX_FIELD_IDS = 30
UPDATE_TYPES = ("Update", "Append", "Overwrite")
STATES = ("Subscribed", "Unsubscribed")


def reserve_contact_ids(db: duckdb.DuckDBPyConnection, count: int) -> int:
    """Reserve ``count`` new contact ids (under ``state.lock``); returns the first."""
    row = first(
        db.execute(
            "UPDATE email_contact_counter SET next_id = next_id + ? RETURNING next_id", [count]
        )
    )
    assert row is not None
    return int(row[0]) - count


def merge_values_sql(source: str, list_id: int, update_type: str) -> str:
    """A MERGE of ``source`` (contact_id, field_id, value) into the stored values.

    Update: non-empty values replace, empty ones are ignored. Append: only fields without a
    value are filled. Overwrite: exactly what is given; an empty value clears the field.
    """
    merge = (
        f"MERGE INTO email_field_value t USING ({source}) s"
        " ON t.contact_id = s.contact_id AND t.field_id = s.field_id "
    )
    insert = (
        "WHEN NOT MATCHED AND s.value <> '' THEN INSERT"
        f" VALUES ({int(list_id)}, s.contact_id, s.field_id, s.value)"
    )
    if update_type == "Append":
        return merge + insert
    if update_type == "Overwrite":
        return (
            merge + "WHEN MATCHED AND s.value = '' THEN DELETE"
            " WHEN MATCHED THEN UPDATE SET value = s.value " + insert
        )
    return merge + "WHEN MATCHED AND s.value <> '' THEN UPDATE SET value = s.value " + insert


def _requested_fields(request: Request, db: duckdb.DuckDBPyConnection, list_id: int) -> list[int]:
    raw = query_str(request, "segmentationFieldIds")
    if raw is None:
        return []
    try:
        ids = list(dict.fromkeys(int(part) for part in raw.split(",") if part.strip()))
    except ValueError:
        raise ListrakHTTPError.invalid_parameter("segmentationFieldIds") from None
    if len(ids) > MAX_FIELD_IDS:
        raise ListrakHTTPError(
            400,
            "ERROR_TOO_MANY_SEGMENTATION_FIELDS",
            f"At most {MAX_FIELD_IDS} profile fields may be requested at once.",
        )
    known = {
        row[0]
        for row in db.execute(
            "SELECT field_id FROM email_field WHERE list_id = ? AND field_id IN"
            " (SELECT unnest(?::INTEGER[]))",
            [list_id, ids],
        ).fetchall()
    }
    unknown = [field_id for field_id in ids if field_id not in known]
    if unknown:
        raise ListrakHTTPError.invalid_parameter(
            "segmentationFieldIds", f"No profile field {unknown[0]} on the list."
        )
    return ids


def contact_resources(
    db: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]], field_ids: list[int]
) -> list[dict[str, Any]]:
    """Contact resources for ``CONTACT_COLUMNS`` rows, with the requested fields' values."""
    values: dict[int, list[dict[str, Any]]] = {}
    if rows and field_ids:
        found = db.execute(
            "SELECT v.contact_id, f.group_id, v.field_id, v.value FROM email_field_value v"
            " JOIN email_field f USING (field_id)"
            " WHERE v.contact_id IN (SELECT unnest(?::BIGINT[]))"
            " AND v.field_id IN (SELECT unnest(?::INTEGER[]))"
            " ORDER BY v.contact_id, v.field_id",
            [[row[0] for row in rows], field_ids],
        ).fetchall()
        for contact_id, group_id, field_id, value in found:
            values.setdefault(contact_id, []).append(
                {
                    "segmentationFieldGroupId": group_id,
                    "segmentationFieldId": field_id,
                    "value": value,
                }
            )
    return [
        {
            "emailAddress": email,
            "emailKey": email_key,
            "universalEmailKey": hashlib.sha256(email.lower().encode()).hexdigest(),
            "subscriptionState": state,
            "subscribeDate": listrak_time(subscribed),
            "resubscribeDate": listrak_time(resubscribed),
            "subscribeMethod": subscribe_method,
            "unsubscribeDate": listrak_time(unsubscribed),
            "unsubscribeMethod": unsubscribe_method,
            "externalContactID": external_id,
            "segmentationFieldValues": values.get(contact_id, []),
        }
        for (
            contact_id,
            email,
            email_key,
            state,
            subscribed,
            resubscribed,
            subscribe_method,
            unsubscribed,
            unsubscribe_method,
            external_id,
        ) in rows
    ]


def _date_filter(request: Request, state: str) -> tuple[str, list[Any]]:
    """The SQL condition for ``startDate``/``endDate``, as the spec words it."""
    start = _query_date(request, "startDate")
    end = _query_date(request, "endDate")
    use_original = query_bool(request, "useOriginalSubscribeDate", True)
    if state == "Unsubscribed":
        column, end_inclusive = "unsubscribe_date", True
    elif use_original:
        column, end_inclusive = "subscribe_date", True
    else:
        column, end_inclusive = "coalesce(resubscribe_date, subscribe_date)", False
    conditions, params = [], []
    if start is not None:
        conditions.append(f"{column} >= ?")
        params.append(start[0])
    if end is not None:
        moment, date_only = end
        if end_inclusive and date_only:
            conditions.append(f"{column} < ?")  # the whole end day is included
            params.append(moment + timedelta(days=1))
        else:
            conditions.append(f"{column} {'<=' if end_inclusive else '<'} ?")
            params.append(moment)
    return "".join(f" AND {c}" for c in conditions), params


def _query_date(request: Request, name: str) -> tuple[datetime, bool] | None:
    raw = query_str(request, name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ListrakHTTPError.invalid_parameter(
            name, "Use an ISO 8601 date or date-time (2024-05-01 or 2024-05-01T13:45:00)."
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value, len(raw) <= 10


def _find_contact(
    db: duckdb.DuckDBPyConnection, list_id: int, identifier: str
) -> tuple[Any, ...] | None:
    column = "email_lower" if "@" in identifier else "email_key"
    return first(
        db.execute(
            f"SELECT {CONTACT_COLUMNS} FROM email_contact WHERE list_id = ? AND {column} = ?",
            [list_id, identifier.lower() if "@" in identifier else identifier.upper()],
        )
    )


def merge_values(
    db: duckdb.DuckDBPyConnection,
    list_id: int,
    contact_id: int,
    values: list[tuple[int, str]],
    update_type: str,
) -> None:
    """One contact's field values, with the rules of ``merge_values_sql``.

    Two point statements instead of a MERGE: a MERGE joins the whole value table, which costs
    milliseconds per contact on a million-contact list.
    """
    if update_type == "Append":
        held = {
            row[0]
            for row in db.execute(
                "SELECT field_id FROM email_field_value WHERE contact_id = ?", [contact_id]
            ).fetchall()
        }
        values = [(f, v) for f, v in values if f not in held]
        replace: list[int] = []
    elif update_type == "Overwrite":
        replace = [f for f, _ in values]
    else:
        replace = [f for f, v in values if v != ""]
    if replace:
        db.execute(
            "DELETE FROM email_field_value WHERE contact_id = ?"
            " AND field_id IN (SELECT unnest(?::INTEGER[]))",
            [contact_id, replace],
        )
    kept = [(f, v) for f, v in values if v != ""]
    if kept:
        db.execute(
            "INSERT INTO email_field_value SELECT ?, ?, unnest(?::INTEGER[]), unnest(?::VARCHAR[])",
            [list_id, contact_id, [f for f, _ in kept], [v for _, v in kept]],
        )


class _ContactRequest:
    """The parameters of ``Contact_PostContactResource``, checked before anything is written."""

    def __init__(self, request: Request) -> None:
        doc = body(request)
        self.email: str = doc["emailAddress"].strip()
        self.state: str | None = doc.get("subscriptionState")
        self.external_id: str | None = doc.get("externalContactID")
        # Recorded: real clients send null on every upsert, and Listrak accepts it or absence.
        self.values: list[dict[str, Any]] = doc.get("segmentationFieldValues") or []
        self.events = [e for e in (query_str(request, "eventIds") or "").split(",") if e.strip()]
        self.override = query_bool(request, "overrideUnsubscribe")
        self.by_contact = query_bool(request, "subscribedByContact")
        self.double_opt_in = query_bool(request, "sendDoubleOptIn")
        self.update_type = query_str(request, "updateType") or "Update"
        self.new_email = query_str(request, "newEmailAddress")
        if not is_valid_email(self.email):
            raise ListrakHTTPError.invalid_parameter("emailAddress")
        if self.state is not None and self.state not in STATES:
            raise ListrakHTTPError.invalid_parameter(
                "subscriptionState", "Allowed values are Subscribed and Unsubscribed."
            )
        if self.update_type not in UPDATE_TYPES:
            raise ListrakHTTPError.invalid_parameter(
                "updateType", "Allowed values are Update, Append, and Overwrite."
            )
        if self.new_email is not None and not is_valid_email(self.new_email.strip()):
            raise ListrakHTTPError.invalid_parameter("newEmailAddress")


def _contact_error(code: str, message: str) -> ListrakHTTPError:
    return ListrakHTTPError(400, code, message)


def email_key(contact_id: int) -> str:
    """A contact's emailKey: 26 upper-case hex characters, as recorded
    (``E423056525030584442F94FD29``); import jobs compute the same in SQL (a test checks)."""
    return hashlib.md5(f"contact:{contact_id}".encode()).hexdigest()[:26].upper()


def _post_contact(
    state: EmulatorState, db: duckdb.DuckDBPyConnection, list_id: int, req: _ContactRequest
) -> tuple[str, bool]:
    """Create or update one contact under the rules of the spec's Contact error table.

    Returns the resourceId (the contact's address, as recorded) and whether it was created.
    """
    at = now(state)
    row = _find_contact(db, list_id, req.email)
    current = row[3] if row is not None else None
    if req.new_email is not None:
        return _change_address(db, list_id, req, row), False
    values = check_field_values(db, list_id, req.values, "segmentationFieldValues")
    if req.state == "Unsubscribed":
        if req.values:
            raise _contact_error(
                "ERROR_UNSUBSCRIBE_WITH_SEGMENTATION_DATA",
                "A contact cannot be unsubscribed and given profile data in one request.",
            )
        if req.events:
            raise _contact_error(
                "ERROR_UNSUBSCRIBE_WITH_EVENTS",
                "A contact cannot be unsubscribed and given events in one request.",
            )
        if current == "Unsubscribed":
            raise _contact_error(
                "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS", "The contact is already unsubscribed."
            )
        if current != "Subscribed" or row is None:
            raise _contact_error(
                "ERROR_NOT_SUBSCRIBED_EMAIL_ADDRESS", "The contact is not subscribed to the list."
            )
        db.execute(
            "UPDATE email_contact SET state = 'Unsubscribed', unsubscribe_date = ?,"
            " unsubscribe_method = 'API' WHERE contact_id = ?",
            [at, row[0]],
        )
        return str(row[1]), False
    resubscribe = current == "Unsubscribed" and req.override
    if current == "Unsubscribed" and not req.override:
        if req.state == "Subscribed":
            raise _contact_error(
                "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS",
                "The contact has unsubscribed from the list; it is only resubscribed with "
                "overrideUnsubscribe=true.",
            )
        if req.events:
            raise _contact_error(
                "ERROR_UPDATE_UNSUBSCRIBE_WITH_EVENTS",
                "An unsubscribed contact cannot be given events.",
            )
    if req.events:
        raise ListrakHTTPError.invalid_parameter(
            "eventIds", "No event with that identifier exists on the list."
        )
    subscribing = row is None or current == "Pending" or resubscribe
    if subscribing:
        if is_banned(db, req.email):
            raise _contact_error("ERROR_BANNED_EMAIL_ADDRESS", "The email address is banned.")
        if is_suppressed(db, req.email):
            raise _contact_error("ERROR_SUPPRESSED_EMAIL", "The email address is suppressed.")
    if current == "Pending":
        raise _contact_error(
            "ERROR_PENDING_EMAIL_ADDRESS",
            "The contact is already pending subscription through double opt-in.",
        )
    if current == "Subscribed" and req.double_opt_in:
        raise _contact_error(
            "ERROR_SUBSCRIBED_EMAIL_ADDRESS", "The contact is already subscribed to the list."
        )
    method = "API (contact)" if req.by_contact else "API"
    if row is None:
        contact_id = reserve_contact_ids(db, 1)
        pending = req.double_opt_in
        db.execute(
            "INSERT INTO email_contact VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, NULL, ?)",
            [
                list_id,
                contact_id,
                req.email,
                req.email.lower(),
                email_key(contact_id),
                "Pending" if pending else "Subscribed",
                None if pending else at,
                method,
                req.external_id,
            ],
        )
        merge_values(db, list_id, contact_id, values, "Overwrite")
        return req.email, True
    contact_id = int(row[0])
    if resubscribe:
        db.execute(
            "UPDATE email_contact SET state = 'Subscribed', resubscribe_date = ?,"
            " subscribe_method = ? WHERE contact_id = ?",
            [at, method, contact_id],
        )
    if req.external_id is not None:
        db.execute(
            "UPDATE email_contact SET external_contact_id = ? WHERE contact_id = ?",
            [req.external_id, contact_id],
        )
    merge_values(db, list_id, contact_id, values, req.update_type)
    return str(row[1]), False


def _change_address(
    db: duckdb.DuckDBPyConnection,
    list_id: int,
    req: _ContactRequest,
    row: tuple[Any, ...] | None,
) -> str:
    assert req.new_email is not None
    new_email = req.new_email.strip()
    if row is None:
        raise ListrakHTTPError.not_found("listId and emailAddress")
    if req.values:
        raise _contact_error(
            "ERROR_CHANGE_ADDRESS_WITH_SEGMENTATION_DATA",
            "An email address cannot be changed and given profile data in one request.",
        )
    if req.events:
        raise _contact_error(
            "ERROR_CHANGE_ADDRESS_WITH_EVENTS",
            "An email address cannot be changed and given events in one request.",
        )
    if row[3] != "Subscribed":
        raise _contact_error(
            "ERROR_CHANGE_ADDRESS_CONTACT_UNSUBSCRIBED",
            "Only a subscribed contact's email address can be changed.",
        )
    if is_banned(db, new_email):
        raise _contact_error("ERROR_BANNED_NEW_EMAIL_ADDRESS", "The new email address is banned.")
    if is_suppressed(db, new_email):
        raise _contact_error("ERROR_SUPPRESSED_NEW_EMAIL", "The new email address is suppressed.")
    other = _find_contact(db, list_id, new_email)
    if other is not None and other[0] != row[0]:
        code = {
            "Subscribed": "ERROR_SUBSCRIBED_NEW_EMAIL_ADDRESS",
            "Unsubscribed": "ERROR_UNSUBSCRIBED_NEW_EMAIL_ADDRESS",
            "Pending": "ERROR_PENDING_NEW_EMAIL_ADDRESS",
        }[other[3]]
        raise _contact_error(code, f"The new email address is already {other[3].lower()}.")
    db.execute(
        "UPDATE email_contact SET email = ?, email_lower = ? WHERE contact_id = ?",
        [new_email, new_email.lower(), row[0]],
    )
    return new_email


def install_contacts(state: EmulatorState, table: OperationTable) -> None:
    state.register_schema(SCHEMA)
    contacts = "/email/v1/List/{listId}/Contact"

    @table.operation("GET", contacts, "Contact_GetContactCollection", "email")
    async def get_contacts(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        wanted = query_str(request, "subscriptionState") or "Subscribed"
        if wanted not in STATES:
            raise ListrakHTTPError.invalid_parameter(
                "subscriptionState", "Allowed values are Subscribed and Unsubscribed."
            )
        field_ids = _requested_fields(request, state.db, list_id)
        count, after = page_count(request), page_after(request)
        dates, params = _date_filter(request, wanted)
        external = query_str(request, "externalContactId")
        if external is not None:
            dates += " AND external_contact_id = ?"
            params.append(external)
        rows = state.db.execute(
            f"SELECT {CONTACT_COLUMNS} FROM email_contact"
            f" WHERE list_id = ? AND state = ? AND contact_id > ?{dates}"
            " ORDER BY contact_id LIMIT ?",
            [list_id, wanted, after, *params, count + 1],
        ).fetchall()
        more = len(rows) > count
        rows = rows[:count]
        cursor = encode_cursor(rows[-1][0]) if more else None
        return paged(contact_resources(state.db, rows, field_ids), cursor)

    @table.operation(
        "GET", contacts + "/{contactIdentifier}", "Contact_GetContactResourceByIdentifier", "email"
    )
    async def get_contact(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        field_ids = _requested_fields(request, state.db, list_id)
        row = _find_contact(state.db, list_id, request.path_params["contactIdentifier"].strip())
        if row is None or row[3] == "Pending":
            raise ListrakHTTPError.not_found("listId and contactIdentifier")
        return resource(contact_resources(state.db, [row], field_ids)[0])

    @table.operation("POST", contacts, "Contact_PostContactResource", "email")
    async def post_contact(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        req = _ContactRequest(request)
        address, new = await write(state, lambda db: _post_contact(state, db, list_id, req))
        # Recorded: 201 only when the contact was created, 200 when it existed.
        return created(address) if new else updated(address)
