"""The ``sms`` part of seed documents and state dumps (shape documented in the README).

Contacts are written in bulk (one statement per table, via Arrow), so a test can seed tens of
thousands of numbers quickly; phones are normalised exactly as the API normalises them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pyarrow as pa

from ..responses import compact, listrak_time
from ..state import EmulatorState
from .catalog import forget
from .fields import DATA_TYPES, seed_field, value_sql
from .imports import set_imports_paused
from .phone_lists import seed_phone_list
from .phones import normalize_phone
from .sender_codes import now, seed_sender_code

__all__ = ["dump_sms", "seed_sms"]

_OPT_OUT_REASONS = (
    "Campaign",
    "Admin",
    "DeliveryFailure",
    "Import",
    "API",
    "Deactivated",
    "PermanentError",
    "Workflow",
)
_STATES = ("Subscribed", "Unsubscribed", "Pending")
_PERSON_MEMBERS = ("emailAddress", "firstName", "lastName", "birthday", "postalCode")


def _time(value: Any, default: datetime) -> datetime:
    if value is None:
        return default
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.fromisoformat(str(value)).replace(tzinfo=None)


def seed_sms(state: EmulatorState, doc: dict[str, Any]) -> None:
    unknown = set(doc) - {"senderCodes", "fields", "importsPaused"}
    if unknown:
        raise ValueError(f"unknown key(s) in the sms seed: {', '.join(sorted(unknown))}")
    try:
        _seed(state, doc)
    finally:
        # Also after a seed that failed part way: what it wrote before failing stays.
        forget(state)


def _seed(state: EmulatorState, doc: dict[str, Any]) -> None:
    for field in doc.get("fields", []):
        seed_field(state, field)
    for entry in doc.get("senderCodes", []):
        own = {k: v for k, v in entry.items() if k not in ("lists", "contacts")}
        sender_code_id = seed_sender_code(state, own)
        lists: dict[Any, int] = {}
        for list_doc in entry.get("lists", []):
            list_id = seed_phone_list(state, {**list_doc, "senderCodeId": sender_code_id})
            lists[list_id] = list_id
            lists[str(list_doc["phoneListName"])] = list_id
        known = state.db.execute(
            "SELECT phone_list_id, phone_list_name FROM sms_list WHERE sender_code_id = ?",
            [sender_code_id],
        ).fetchall()
        for list_id, name in known:
            lists.setdefault(list_id, list_id)
            lists.setdefault(name, list_id)
        country = str(own.get("country", "US")).upper()
        _seed_contacts(state, sender_code_id, country, lists, entry.get("contacts", []))
    if "importsPaused" in doc:
        set_imports_paused(state, bool(doc["importsPaused"]))


def _seed_contacts(
    state: EmulatorState,
    sender_code_id: int,
    country: str,
    lists: dict[Any, int],
    contacts: list[dict[str, Any]],
) -> None:
    if not contacts:
        return
    at = now(state)
    contact_rows: dict[str, list[Any]] = {
        k: [] for k in ("phone", "create_date", "status", "opted_out", "opt_out_date", "reason")
    }
    person_rows: dict[str, list[Any]] = {k: [] for k in ("phone", *_PERSON_MEMBERS)}
    value_rows: dict[str, list[Any]] = {"phone": [], "field_id": [], "value": []}
    subs: dict[str, list[Any]] = {
        k: [] for k in ("list_id", "phone", "state", "subscribed", "unsubscribed", "pending")
    }
    for index, contact in enumerate(contacts):
        where = f"sms contact #{index} ({contact.get('phoneNumber')!r})"
        phone = normalize_phone(str(contact.get("phoneNumber", "")), country)
        if phone is None:
            raise ValueError(f"{where}: not a valid phone number for country {country}")
        banned = bool(contact.get("banned", False))
        suspended = bool(contact.get("suspended", False))
        opted_out = banned or bool(contact.get("optedOut", False))
        reason = contact.get("optOutReason", "Admin" if banned else "Campaign")
        if reason not in _OPT_OUT_REASONS:
            raise ValueError(f"{where}: optOutReason must be one of {_OPT_OUT_REASONS}")
        created = _time(contact.get("createDate"), at)
        contact_rows["phone"].append(phone)
        contact_rows["create_date"].append(created)
        contact_rows["status"].append(
            "Banned" if banned else "Suspended" if suspended else "Active"
        )
        contact_rows["opted_out"].append(opted_out)
        contact_rows["opt_out_date"].append(
            _time(contact.get("optOutDate"), at) if opted_out else None
        )
        contact_rows["reason"].append(reason if opted_out else None)
        person_rows["phone"].append(phone)
        for member in _PERSON_MEMBERS:
            value = contact.get(member)
            person_rows[member].append(
                _time(value, at) if member == "birthday" and value is not None else value
            )
        for entry in contact.get("segmentationFieldValues", []):
            value_rows["phone"].append(phone)
            value_rows["field_id"].append(int(entry["segmentationFieldId"]))
            value_rows["value"].append(str(entry["value"]))
        for sub in contact.get("subscriptions", []):
            sub = sub if isinstance(sub, dict) else {"phoneListId": sub}
            ref = sub.get("phoneListId", sub.get("phoneListName"))
            if ref not in lists:
                raise ValueError(f"{where}: no SMS list {ref!r} on sender code {sender_code_id}")
            list_state = str(sub.get("state", "Subscribed"))
            if list_state not in _STATES:
                raise ValueError(f"{where}: subscription state must be one of {_STATES}")
            if opted_out:
                list_state = "Unsubscribed"  # an opt-out leaves every list of the sender code
            date = _time(sub.get("subscribeDate"), created)
            subs["list_id"].append(lists[ref])
            subs["phone"].append(phone)
            subs["state"].append(list_state)
            subs["subscribed"].append(date if list_state != "Pending" else None)
            subs["unsubscribed"].append(
                contact_rows["opt_out_date"][-1] or at if list_state == "Unsubscribed" else None
            )
            subs["pending"].append(date if list_state == "Pending" else None)
    cur = state.db
    cur.register("seed_contacts", pa.table(contact_rows))
    cur.register("seed_people", pa.table(person_rows))
    cur.register(
        "seed_values",
        pa.table(
            {
                "phone": pa.array(value_rows["phone"], pa.string()),
                "field_id": pa.array(value_rows["field_id"], pa.int32()),
                "value": pa.array(value_rows["value"], pa.string()),
            }
        ),
    )
    cur.register(
        "seed_subs",
        pa.table(
            {
                "list_id": pa.array(subs["list_id"], pa.int32()),
                "phone": pa.array(subs["phone"], pa.string()),
                "state": pa.array(subs["state"], pa.string()),
                "subscribed": pa.array(subs["subscribed"], pa.timestamp("us")),
                "unsubscribed": pa.array(subs["unsubscribed"], pa.timestamp("us")),
                "pending": pa.array(subs["pending"], pa.timestamp("us")),
            }
        ),
    )
    try:
        _check_values(state)
        cur.execute("BEGIN TRANSACTION")
        try:
            cur.execute(
                "INSERT INTO sms_contact SELECT ?, phone, create_date, status, opted_out, "
                "opt_out_date, reason FROM seed_contacts",
                [sender_code_id],
            )
            cur.execute(
                "INSERT OR REPLACE INTO sms_person SELECT phone, emailAddress, firstName, "
                "lastName, CAST(birthday AS TIMESTAMP), postalCode FROM seed_people"
            )
            for data_type in DATA_TYPES:
                _, normalised = value_sql(data_type, "v.value")
                cur.execute(
                    "INSERT OR REPLACE INTO sms_field_value "
                    f"SELECT v.phone, v.field_id, {normalised} FROM seed_values v "
                    "JOIN sms_field f USING (field_id) WHERE f.data_type = ? "
                    "AND f.system_column IS NULL",
                    [data_type],
                )
            cur.execute(
                "INSERT OR REPLACE INTO sms_subscription SELECT s.list_id, s.phone, s.state, "
                "s.subscribed, s.unsubscribed, s.pending, "
                "s.state = 'Pending' AND (l.require_double_opt_in OR NOT l.require_age_gate), "
                "s.state = 'Pending' AND l.require_age_gate "
                "FROM seed_subs s JOIN sms_list l ON l.phone_list_id = s.list_id"
            )
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")
    finally:
        for name in ("seed_contacts", "seed_people", "seed_values", "seed_subs"):
            cur.unregister(name)


def _check_values(state: EmulatorState) -> None:
    """Seeded profile values must name existing, non-system fields and fit their type."""
    row = state.db.execute(
        "SELECT v.phone, v.field_id FROM seed_values v LEFT JOIN sms_field f USING (field_id) "
        "WHERE f.field_id IS NULL OR f.system_column IS NOT NULL LIMIT 1"
    ).fetchone()
    if row:
        raise ValueError(f"sms contact {row[0]}: no custom profile field {row[1]}")
    for data_type in DATA_TYPES:
        valid, _ = value_sql(data_type, "v.value")
        row = state.db.execute(
            "SELECT v.phone, v.field_id, v.value FROM seed_values v JOIN sms_field f "
            f"USING (field_id) WHERE f.data_type = ? AND NOT ({valid}) LIMIT 1",
            [data_type],
        ).fetchone()
        if row:
            raise ValueError(
                f"sms contact {row[0]}: {row[2]!r} is not a {data_type} value (field {row[1]})"
            )


def dump_sms(state: EmulatorState, full: bool) -> dict[str, Any]:
    db = state.db
    sender_codes = [
        {
            "shortCodeId": sender_code_id,
            "code": code,
            "country": country,
            "disabled": disabled,
            **json.loads(settings),
            "contacts": contacts,
            "optedOut": opted_out,
        }
        for sender_code_id, code, country, disabled, settings, contacts, opted_out in db.execute(
            "SELECT s.*, count(c.phone), count(c.phone) FILTER (WHERE c.opted_out) "
            "FROM sms_sender_code s LEFT JOIN sms_contact c USING (sender_code_id) "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall()
    ]
    list_keys = (
        "phoneListId",
        "senderCodeId",
        "phoneListName",
        "status",
        "requireDoubleOptIn",
        "requireAgeGate",
        "subscribed",
        "pending",
        "unsubscribed",
    )
    lists = [
        dict(zip(list_keys, row, strict=True))
        for row in db.execute(
            "SELECT l.phone_list_id, l.sender_code_id, l.phone_list_name, l.status, "
            "l.require_double_opt_in, l.require_age_gate, "
            "count(*) FILTER (WHERE s.state = 'Subscribed'), "
            "count(*) FILTER (WHERE s.state = 'Pending'), "
            "count(*) FILTER (WHERE s.state = 'Unsubscribed') "
            "FROM sms_list l LEFT JOIN sms_subscription s USING (phone_list_id) "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall()
    ]
    fields = [
        {
            "segmentationFieldId": field_id,
            "segmentationFieldName": name,
            "dataType": data_type,
            "maxLength": max_length,
            "statusFlag": status_flag,
            "systemColumn": system,
        }
        for field_id, name, data_type, max_length, status_flag, system in db.execute(
            "SELECT * FROM sms_field ORDER BY 1"
        ).fetchall()
    ]
    imports = [
        {
            "importFileId": import_id,
            "senderCodeId": sender_code_id,
            "fileName": file_name,
            "status": status,
            "summary": json.loads(summary) if summary else None,
        }
        for import_id, sender_code_id, file_name, status, summary in db.execute(
            "SELECT import_id, sender_code_id, file_name, status, summary FROM sms_import "
            "ORDER BY 1"
        ).fetchall()
    ]
    result: dict[str, Any] = {
        "senderCodes": sender_codes,
        "lists": lists,
        "fields": fields,
        "imports": imports,
    }
    if full:
        result["contacts"] = _dump_contacts(state)
    dumped: dict[str, Any] = compact(result)
    return dumped


def _dump_contacts(state: EmulatorState) -> list[dict[str, Any]]:
    rows = state.db.execute(
        """
        SELECT c.sender_code_id, c.phone, c.status, c.opted_out, c.opt_out_date, c.opt_out_reason,
               p.email_address, p.first_name, p.last_name, p.birthday, p.postal_code,
               (SELECT list(struct_pack(phoneListId := s.phone_list_id, state := s.state)
                            ORDER BY s.phone_list_id)
                FROM sms_subscription s JOIN sms_list l USING (phone_list_id)
                WHERE s.phone = c.phone AND l.sender_code_id = c.sender_code_id),
               (SELECT list(struct_pack(segmentationFieldId := v.field_id, value := v.value)
                            ORDER BY v.field_id)
                FROM sms_field_value v WHERE v.phone = c.phone)
        FROM sms_contact c LEFT JOIN sms_person p USING (phone)
        ORDER BY c.sender_code_id, c.phone
        """
    ).fetchall()
    keys = (
        "senderCodeId",
        "phoneNumber",
        "status",
        "optedOut",
        "optOutDate",
        "optOutReason",
        "emailAddress",
        "firstName",
        "lastName",
        "birthday",
        "postalCode",
        "subscriptions",
        "segmentationFieldValues",
    )
    contacts = []
    for row in rows:
        contact = dict(zip(keys, row, strict=True))
        contact["optOutDate"] = listrak_time(contact["optOutDate"])
        contact["birthday"] = listrak_time(contact["birthday"])
        contact["subscriptions"] = contact["subscriptions"] or []
        contact["segmentationFieldValues"] = contact["segmentationFieldValues"] or []
        contacts.append(contact)
    return contacts
