"""The email part of seed documents and state dumps (format: README, "Emulator seed document").

Seeds are checked like API input: an unknown profile field, a value its type refuses, an
invalid or repeated address raises ``ValueError`` naming the entry, which the admin surface
answers with 400.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from ..errors import ListrakHTTPError
from ..responses import listrak_time
from ..state import EmulatorState
from .addresses import add_banned, add_suppressed, is_valid_email, now
from .contacts import email_key, reserve_contact_ids
from .fields import insert_field, insert_group, value_ok_sql
from .lists import find_list, seed_list
from .message_seed import seed_message, seed_messages
from .sql import first

__all__ = ["dump_email", "seed_email"]

_LIST_EXTRAS = ("segmentationFieldGroups", "contacts", "messages")
_CONTACT_KEYS = {
    "emailAddress",
    "subscriptionState",
    "subscribeDate",
    "resubscribeDate",
    "subscribeMethod",
    "unsubscribeDate",
    "unsubscribeMethod",
    "externalContactID",
    "segmentationFieldValues",
}


def _api_error(where: str, exc: ListrakHTTPError) -> ValueError:
    return ValueError(f"{where}: {exc.message}")


def _timestamp(value: Any, where: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not an ISO 8601 date-time") from None


def _seed_fields(
    db: duckdb.DuckDBPyConnection, list_id: int, groups: list[Any], where: str
) -> dict[str, int]:
    names: dict[str, int] = {}
    for g_index, group in enumerate(groups):
        g_where = f"{where}.segmentationFieldGroups[{g_index}]"
        doc = {"position": g_index, **{k: v for k, v in group.items() if k != "segmentationFields"}}
        try:
            group_id = insert_group(db, list_id, doc)
            for f_index, field in enumerate(group.get("segmentationFields", [])):
                f_doc = {"dataType": "Text", "maxLength": 255, "position": f_index, **field}
                field_id = insert_field(db, list_id, group_id, f_doc)
                names[f_doc["segmentationFieldName"].lower()] = field_id
        except ListrakHTTPError as exc:
            raise _api_error(g_where, exc) from None
        except KeyError as exc:
            raise ValueError(f"{g_where}: missing {exc.args[0]}") from None
    return names


def _seed_contacts(
    state: EmulatorState,
    db: duckdb.DuckDBPyConnection,
    list_id: int,
    contacts: list[Any],
    fields: dict[str, int],
    where: str,
) -> None:
    at = now(state)
    first_id = reserve_contact_ids(db, len(contacts)) if contacts else 0
    existing = {
        row[0]
        for row in db.execute(
            "SELECT email_lower FROM email_contact WHERE list_id = ?", [list_id]
        ).fetchall()
    }
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "contact_id",
            "email",
            "email_lower",
            "email_key",
            "state",
            "subscribe_date",
            "resubscribe_date",
            "subscribe_method",
            "unsubscribe_date",
            "unsubscribe_method",
            "external_contact_id",
        )
    }
    values: dict[str, list[Any]] = {"pos": [], "contact_id": [], "field_id": [], "value": []}
    for index, contact in enumerate(contacts):
        c_where = f"{where}.contacts[{index}]"
        unknown = sorted(set(contact) - _CONTACT_KEYS)
        if unknown:
            raise ValueError(f"{c_where}: unknown member(s) {', '.join(unknown)}")
        email = str(contact.get("emailAddress", "")).strip()
        if not is_valid_email(email):
            raise ValueError(f"{c_where}: {email!r} is not a valid email address")
        if email.lower() in existing:
            raise ValueError(f"{c_where}: {email} is already on the list")
        existing.add(email.lower())
        status = contact.get("subscriptionState", "Subscribed")
        if status not in ("Subscribed", "Unsubscribed", "Pending"):
            raise ValueError(f"{c_where}: subscriptionState is Subscribed, Unsubscribed or Pending")
        contact_id = first_id + index
        subscribed = _timestamp(contact.get("subscribeDate"), c_where)
        unsubscribed = _timestamp(contact.get("unsubscribeDate"), c_where)
        row = {
            "contact_id": contact_id,
            "email": email,
            "email_lower": email.lower(),
            "email_key": email_key(contact_id),
            "state": status,
            "subscribe_date": None if status == "Pending" else subscribed or at,
            "resubscribe_date": _timestamp(contact.get("resubscribeDate"), c_where),
            "subscribe_method": contact.get("subscribeMethod", "Seed"),
            "unsubscribe_date": unsubscribed or (at if status == "Unsubscribed" else None),
            "unsubscribe_method": contact.get(
                "unsubscribeMethod", "Seed" if status == "Unsubscribed" else None
            ),
            "external_contact_id": contact.get("externalContactID"),
        }
        for name, value in row.items():
            columns[name].append(value)
        for key, value in (contact.get("segmentationFieldValues") or {}).items():
            field_id = fields.get(str(key).lower()) or (
                int(key) if str(key).isdigit() and int(key) in fields.values() else None
            )
            if field_id is None:
                raise ValueError(f"{c_where}: no profile field {key!r} on the list")
            values["pos"].append(index)
            values["contact_id"].append(contact_id)
            values["field_id"].append(field_id)
            values["value"].append(str(value))
    if not contacts:
        return
    table = pa.table(columns)
    value_table = pa.table(
        {
            "pos": pa.array(values["pos"], pa.int64()),
            "contact_id": pa.array(values["contact_id"], pa.int64()),
            "field_id": pa.array(values["field_id"], pa.int32()),
            "value": pa.array(values["value"], pa.string()),
        }
    )
    db.register("seed_contacts", table)
    db.register("seed_values", value_table)
    try:
        bad = first(
            db.execute(
                "SELECT v.pos, f.field_name FROM seed_values v JOIN email_field f USING (field_id)"
                f" WHERE v.value <> '' AND NOT {value_ok_sql('v.value', 'f')}"
                " ORDER BY v.pos LIMIT 1"
            )
        )
        if bad is not None:
            raise ValueError(
                f"{where}.contacts[{bad[0]}]: the value of {bad[1]} does not fit its data type"
            )
        db.execute(
            "INSERT INTO email_contact SELECT ?, contact_id, email, email_lower, email_key, state,"
            " subscribe_date, resubscribe_date, subscribe_method, unsubscribe_date,"
            " unsubscribe_method, external_contact_id FROM seed_contacts",
            [list_id],
        )
        db.execute(
            "INSERT INTO email_field_value SELECT ?, v.contact_id, v.field_id,"
            " CASE WHEN f.data_type = 'CheckBox' THEN lower(v.value) ELSE v.value END"
            " FROM seed_values v JOIN email_field f USING (field_id) WHERE v.value <> ''",
            [list_id],
        )
    finally:
        db.unregister("seed_contacts")
        db.unregister("seed_values")


def seed_email(state: EmulatorState, doc: dict[str, Any]) -> None:
    """Apply the ``email`` part of a seed document (called under ``state.lock``)."""
    unknown = sorted(set(doc) - {"lists", "banned", "suppressed", "messages"})
    if unknown:
        raise ValueError(f"email: unknown member(s) {', '.join(unknown)}")
    db = state.db
    add_banned(db, doc.get("banned", []))
    add_suppressed(db, doc.get("suppressed", []))
    for index, entry in enumerate(doc.get("lists", [])):
        where = f"email.lists[{index}]"
        if "listName" not in entry:
            raise ValueError(f"{where}: listName is required")
        list_id = seed_list(state, {k: v for k, v in entry.items() if k not in _LIST_EXTRAS})
        fields = _seed_fields(db, list_id, entry.get("segmentationFieldGroups", []), where)
        _seed_contacts(state, db, list_id, entry.get("contacts", []), fields, where)
        seed_messages(db, list_id, entry.get("messages", []), where)
    # Messages of lists that exist already (seeded earlier or created through the API).
    for index, message in enumerate(doc.get("messages", [])):
        where = f"email.messages[{index}]"
        if not isinstance(message, dict) or "listId" not in message:
            raise ValueError(f"{where}: listId is required")
        try:
            find_list(state, int(message["listId"]))
        except ListrakHTTPError:
            raise ValueError(f"{where}: no list {message['listId']}") from None
        seed_message(db, int(message["listId"]), message, where)


def _list_dump(db: duckdb.DuckDBPyConnection, list_id: int, full: bool) -> dict[str, Any]:
    counts = dict(
        db.execute(
            "SELECT state, count(*) FROM email_contact WHERE list_id = ? GROUP BY state",
            [list_id],
        ).fetchall()
    )
    groups = []
    for group_id, name in db.execute(
        "SELECT group_id, group_name FROM email_field_group WHERE list_id = ?"
        " ORDER BY position, group_id",
        [list_id],
    ).fetchall():
        fields = db.execute(
            "SELECT field_id, field_name, data_type, max_length FROM email_field"
            " WHERE group_id = ? ORDER BY position, field_id",
            [group_id],
        ).fetchall()
        groups.append(
            {
                "segmentationFieldGroupId": group_id,
                "segmentationFieldGroupName": name,
                "segmentationFields": [
                    {
                        "segmentationFieldId": f[0],
                        "segmentationFieldName": f[1],
                        "dataType": f[2],
                        "maxLength": f[3],
                    }
                    for f in fields
                ],
            }
        )
    imports = [
        {
            "importFileId": row[0],
            "importFileName": row[1],
            "importType": row[2],
            "segmentationImportType": row[3],
            "status": row[4],
            "error": row[5],
        }
        for row in db.execute(
            "SELECT import_id, file_name, import_type, segmentation_import_type, status, error"
            " FROM email_import WHERE list_id = ? ORDER BY import_id",
            [list_id],
        ).fetchall()
    ]
    out: dict[str, Any] = {
        "contacts": {
            state: counts.get(state, 0) for state in ("Subscribed", "Unsubscribed", "Pending")
        },
        "segmentationFieldGroups": groups,
        "imports": imports,
    }
    if full:
        out["contactList"] = _contacts_dump(db, list_id)
    return out


def _contacts_dump(db: duckdb.DuckDBPyConnection, list_id: int) -> list[dict[str, Any]]:
    rows = db.execute(
        """
        SELECT c.email, c.state, c.subscribe_date, c.resubscribe_date, c.unsubscribe_date,
               c.external_contact_id,
               coalesce((SELECT map(list(f.field_name ORDER BY f.field_id),
                                    list(v.value ORDER BY f.field_id))
                         FROM email_field_value v JOIN email_field f USING (field_id)
                         WHERE v.contact_id = c.contact_id), MAP {})
        FROM email_contact c WHERE c.list_id = ? ORDER BY c.contact_id
        """,
        [list_id],
    ).fetchall()
    return [
        {
            "emailAddress": email,
            "subscriptionState": status,
            "subscribeDate": listrak_time(subscribed),
            "resubscribeDate": listrak_time(resubscribed),
            "unsubscribeDate": listrak_time(unsubscribed),
            "externalContactID": external_id,
            "segmentationFieldValues": dict(values),
        }
        for email, status, subscribed, resubscribed, unsubscribed, external_id, values in rows
    ]


def dump_email(state: EmulatorState, full: bool) -> dict[str, Any]:
    db = state.db
    lists = []
    for list_id, name in db.execute(
        "SELECT list_id, list_name FROM email_list ORDER BY 1"
    ).fetchall():
        lists.append({"listId": list_id, "listName": name, **_list_dump(db, list_id, full)})
    out: dict[str, Any] = {
        "lists": lists,
        "bannedCount": _count(db, "email_banned"),
        "suppressedCount": _count(db, "email_suppressed"),
    }
    if full:
        out["banned"] = [
            r[0] for r in db.execute("SELECT email_lower FROM email_banned ORDER BY 1").fetchall()
        ]
        out["suppressed"] = [
            r[0]
            for r in db.execute("SELECT email_lower FROM email_suppressed ORDER BY 1").fetchall()
        ]
    return out


def _count(db: duckdb.DuckDBPyConnection, table: str) -> int:
    row = first(db.execute(f"SELECT count(*) FROM {table}"))
    return int(row[0]) if row else 0
