"""Email lists: ``GET/POST /List``, ``GET/PUT/DELETE /List/{listId}``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..parsing import path_int
from ..realism import realistic
from ..responses import collection, created, deleted, listrak_time, resource, updated
from ..routing import OperationTable, body
from ..spec import load_spec
from ..state import Client, EmulatorState, allocate_id
from .sql import first

__all__ = ["SCHEMA", "find_list", "install_lists", "list_ids", "seed_list"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS email_list (
    list_id INTEGER PRIMARY KEY,
    list_name VARCHAR NOT NULL,
    create_date TIMESTAMP NOT NULL,
    settings VARCHAR NOT NULL  -- the List resource's other members, as JSON
);
"""

_READ_ONLY = {"listId", "createDate"}
_DEPENDENTS = (
    "email_field_value",
    "email_contact",
    "email_field",
    "email_field_group",
    "email_import",
    "email_message",
    "email_message_link",
    "email_message_activity",
    "email_link_click",
)


def _empty_member(prop: dict[str, Any]) -> Any:
    """What real Listrak sends for a List member never set (recorded: ``folderId: null``,
    ``enable*: false``, ``fromEmail: ""``, ``googleTrackingDomains: []``)."""
    return {"boolean": False, "string": "", "array": []}.get(prop.get("type", ""))


def _as_resource(row: tuple[Any, ...]) -> dict[str, Any]:
    list_id, list_name, create_date, settings = row
    found = {
        "listId": list_id,
        "listName": list_name,
        "createDate": listrak_time(create_date),
        **json.loads(settings),
    }
    if not realistic():
        return found
    members = load_spec("email")["definitions"]["List"]["properties"]
    return {name: found.get(name, _empty_member(prop)) for name, prop in members.items()} | found


def find_list(state: EmulatorState, list_id: int) -> dict[str, Any]:
    """The list as a spec resource, or the 404 Listrak answers for an unknown listId."""
    row = first(state.db.execute("SELECT * FROM email_list WHERE list_id = ?", [list_id]))
    if row is None:
        raise ListrakHTTPError.not_found("listId")
    return _as_resource(row)


def list_ids(state: EmulatorState) -> list[int]:
    return [
        row[0] for row in state.db.execute("SELECT list_id FROM email_list ORDER BY 1").fetchall()
    ]


def seed_list(state: EmulatorState, doc: dict[str, Any]) -> int:
    """Create a list from a seed entry (a List resource, ``listId`` optional); returns its id."""
    settings = {key: value for key, value in doc.items() if key not in _READ_ONLY | {"listName"}}
    settings.setdefault("bounceHandling", "Standard")
    settings.setdefault("bounceUnsubscribeCount", 3)
    values = [doc["listName"], datetime.now(UTC).replace(tzinfo=None), json.dumps(settings)]
    if "listId" in doc:
        state.db.execute(
            "INSERT INTO email_list VALUES (?, ?, ?, ?)", [int(doc["listId"]), *values]
        )
        return int(doc["listId"])
    # Not a sequence: seeds choose ids, and a sequence would collide with them.
    list_id = allocate_id(state.db, "email_list", "email_list", "list_id", 1001)
    state.db.execute("INSERT INTO email_list VALUES (?, ?, ?, ?)", [list_id, *values])
    return list_id


def _check_bounce_handling(doc: dict[str, Any]) -> None:
    # The spec names the allowed values in prose only, so the schema cannot enforce them.
    if doc.get("bounceHandling") not in (None, "None", "Standard", "Aggressive"):
        raise ListrakHTTPError.invalid_parameter(
            "bounceHandling", "Allowed values are None, Standard, and Aggressive."
        )


def install_lists(state: EmulatorState, table: OperationTable) -> None:
    state.register_schema(SCHEMA)

    @table.operation("GET", "/email/v1/List", "List_GetListCollection", "email")
    async def get_lists(request: Request, client: Client) -> Response:
        rows = state.db.execute("SELECT * FROM email_list ORDER BY list_id").fetchall()
        return collection([_as_resource(row) for row in rows])

    @table.operation("POST", "/email/v1/List", "List_PostListResource", "email")
    async def create_list(request: Request, client: Client) -> Response:
        doc = body(request)
        _check_bounce_handling(doc)
        with state.lock:
            return created(seed_list(state, {k: v for k, v in doc.items() if k != "listId"}))

    @table.operation("GET", "/email/v1/List/{listId}", "List_GetListResourceById", "email")
    async def get_list(request: Request, client: Client) -> Response:
        return resource(find_list(state, path_int(request, "listId")))

    @table.operation("PUT", "/email/v1/List/{listId}", "List_PutListResource", "email")
    async def update_list(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        doc = body(request)
        _check_bounce_handling(doc)
        settings = {k: v for k, v in doc.items() if k not in _READ_ONLY | {"listName"}}
        state.db.execute(
            "UPDATE email_list SET list_name = ?, settings = ? WHERE list_id = ?",
            [doc["listName"], json.dumps(settings), list_id],
        )
        return updated(list_id)

    @table.operation("DELETE", "/email/v1/List/{listId}", "List_DeleteListResource", "email")
    async def delete_list(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        with state.lock:
            # The list's contacts, profile fields and imports go with it.
            for dependent in _DEPENDENTS:
                state.db.execute(f"DELETE FROM {dependent} WHERE list_id = ?", [list_id])
            state.db.execute(
                "DELETE FROM email_import_contact WHERE import_id NOT IN "
                "(SELECT import_id FROM email_import)"
            )
            state.db.execute("DELETE FROM email_list WHERE list_id = ?", [list_id])
        return deleted()
