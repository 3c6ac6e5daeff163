"""SMS lists: ``GET /ShortCode/{senderCodeId}/PhoneList`` and ``.../PhoneList/{phoneListId}``.

A list belongs to one sender code and is ``Active`` or ``Inactive`` (the spec's ``status``
filter). The single-list route's spec schema is the bare ``PhoneList`` (its example shows the
usual ``{status, data}`` envelope, whose integer ``status`` the schema's string ``status``
rejects), so the emulator answers the bare list, which validates, and repeats it under ``data``
for clients written against the envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import ListrakHTTPError
from ..parsing import path_int, query_str
from ..responses import compact, listrak_time, paged
from ..routing import OperationTable
from ..state import Client, EmulatorState
from .catalog import CachedTable, cached
from .paging import encode_cursor, page_request
from .sender_codes import SenderCode, find_sender_code, now

__all__ = [
    "PhoneList",
    "find_list",
    "install_phone_lists",
    "list_for_write",
    "phone_lists",
    "seed_phone_list",
]

_STATUSES = {"active": "Active", "inactive": "Inactive"}


@dataclass(frozen=True)
class PhoneList:
    phone_list_id: int
    sender_code_id: int
    name: str
    create_date: Any
    status: str
    sms_list_type: str
    require_double_opt_in: bool
    require_age_gate: bool

    def resource(self) -> dict[str, Any]:
        return {
            "phoneListId": self.phone_list_id,
            "phoneListName": self.name,
            "createDate": listrak_time(self.create_date),
            "status": self.status,
            "smsListType": self.sms_list_type,
            "requireDoubleOptIn": self.require_double_opt_in,
            "requireAgeGate": self.require_age_gate,
        }


def _load(cur: duckdb.DuckDBPyConnection) -> dict[int, PhoneList]:
    rows = cur.execute("SELECT * FROM sms_list ORDER BY phone_list_id").fetchall()
    return {row[0]: PhoneList(*row) for row in rows}


_LISTS = CachedTable("sms_list", _load)


def phone_lists(state: EmulatorState) -> Mapping[int, PhoneList]:
    """Every SMS list by id, in id order (from the catalog copy, see ``catalog.py``)."""
    return cached(state, _LISTS)


def _lookup(state: EmulatorState, sender: SenderCode, phone_list_id: int) -> PhoneList | None:
    found = phone_lists(state).get(phone_list_id)
    return found if found is not None and found.sender_code_id == sender.sender_code_id else None


def find_list(state: EmulatorState, sender: SenderCode, request: Request) -> PhoneList:
    """The route's list on the sender code, or 404 (for reads)."""
    found = _lookup(state, sender, path_int(request, "phoneListId"))
    if found is None:
        raise ListrakHTTPError.not_found("senderCodeId and phoneListId")
    return found


def list_for_write(
    state: EmulatorState, sender: SenderCode, request: Request, *, allow_inactive: bool = False
) -> PhoneList:
    """The route's list for a subscription change: it must exist on the sender code and
    (unless ``allow_inactive``) be active (``ERROR_INVALID_LIST_ID``, ``ERROR_LIST_INACTIVE``)."""
    phone_list_id = path_int(request, "phoneListId")
    found = _lookup(state, sender, phone_list_id)
    if found is None:
        raise ListrakHTTPError(
            400,
            "ERROR_INVALID_LIST_ID",
            f"The listId {phone_list_id} does not exist on sender code {sender.sender_code_id}.",
        )
    if found.status != "Active" and not allow_inactive:
        raise ListrakHTTPError(400, "ERROR_LIST_INACTIVE", f"The list {phone_list_id} is inactive.")
    return found


def seed_phone_list(state: EmulatorState, doc: dict[str, Any]) -> int:
    """Create a list from a seed entry (a PhoneList resource plus ``senderCodeId``)."""
    status = _STATUSES.get(str(doc.get("status", "Active")).lower())
    if status is None:
        raise ValueError(f"SMS list status must be Active or Inactive, not {doc['status']!r}")
    sender_code_id = int(doc["senderCodeId"])
    if not state.db.execute(
        "SELECT 1 FROM sms_sender_code WHERE sender_code_id = ?", [sender_code_id]
    ).fetchall():
        raise ValueError(f"SMS list {doc.get('phoneListName')!r}: no sender code {sender_code_id}")
    values = [
        sender_code_id,
        str(doc["phoneListName"]),
        now(state),
        status,
        str(doc.get("smsListType", "Standard")),
        bool(doc.get("requireDoubleOptIn", False)),
        bool(doc.get("requireAgeGate", False)),
    ]
    columns = (
        "sender_code_id, phone_list_name, create_date, status, sms_list_type, "
        "require_double_opt_in, require_age_gate"
    )
    if "phoneListId" in doc:
        state.db.execute(
            f"INSERT INTO sms_list (phone_list_id, {columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [int(doc["phoneListId"]), *values],
        )
        return int(doc["phoneListId"])
    row = state.db.execute(
        f"INSERT INTO sms_list ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING phone_list_id",
        values,
    ).fetchone()
    assert row is not None
    return int(row[0])


def install_phone_lists(state: EmulatorState, table: OperationTable) -> None:
    @table.operation(
        "GET", "/sms/v1/ShortCode/{senderCodeId}/PhoneList", "PhoneList_GetListCollection", "sms"
    )
    async def get_lists(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        raw_status = query_str(request, "status") or "active"
        status = _STATUSES.get(raw_status.lower())
        if status is None:
            raise ListrakHTTPError.invalid_parameter("status", "Options are active or inactive.")
        page = page_request(request)
        after = int(page.after) if page.after is not None and page.after.isdigit() else None
        if page.after is not None and after is None:
            raise ListrakHTTPError.invalid_parameter("cursor")
        start = after if after is not None else -1
        matching = [
            entry
            for entry in phone_lists(state).values()
            if entry.sender_code_id == sender.sender_code_id
            and entry.status == status
            and entry.phone_list_id > start
        ]
        lists = matching[: page.count]
        cursor = encode_cursor(str(lists[-1].phone_list_id)) if len(matching) > page.count else None
        return paged([entry.resource() for entry in lists], cursor)

    @table.operation(
        "GET",
        "/sms/v1/ShortCode/{senderCodeId}/PhoneList/{phoneListId}",
        "PhoneList_GetListResource",
        "sms",
    )
    async def get_list(request: Request, client: Client) -> Response:
        found = find_list(state, find_sender_code(state, request), request).resource()
        return JSONResponse(compact({**found, "data": found}))
