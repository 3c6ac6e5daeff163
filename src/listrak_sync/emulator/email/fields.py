"""Profile field groups and fields (Listrak's "segmentation fields") of an email list.

``SegmentationFieldGroup_*`` and ``SegmentationField_*`` (the asynchronous ``DELETE .../Values``
lives with the imports, since it answers with an import file id). The rules a value must meet
per data type are one SQL expression, used by list imports over a million rows and by the
per-contact route alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..parsing import path_int
from ..responses import collection, created, deleted, resource, updated
from ..routing import OperationTable, body
from ..state import Client, EmulatorState, allocate_id
from .lists import find_list
from .sql import first
from .writes import write

__all__ = [
    "DATA_TYPES",
    "MAX_FIELDS_PER_LIST",
    "MAX_GROUPS_PER_LIST",
    "SCHEMA",
    "check_field_values",
    "find_field",
    "insert_field",
    "insert_group",
    "install_fields",
    "stored_value_sql",
    "value_fits",
    "value_ok_sql",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS email_field_group (
    group_id INTEGER PRIMARY KEY,
    list_id INTEGER NOT NULL,
    group_name VARCHAR NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS email_field (
    field_id INTEGER PRIMARY KEY,
    list_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    field_name VARCHAR NOT NULL,
    data_type VARCHAR NOT NULL,
    max_length INTEGER NOT NULL,
    position INTEGER NOT NULL
);
"""

DATA_TYPES = ("Text", "Numeric", "RadioButton", "CheckBox", "CommentArea", "Date", "ContentBlock")
MAX_GROUPS_PER_LIST = 50
MAX_FIELDS_PER_LIST = 1000
MAX_NAME_LENGTH = 100
MAX_VALUE_LENGTH = 4000
_FIRST_GROUP_ID = 101
_FIRST_FIELD_ID = 1001


def value_ok_sql(value: str, field: str) -> str:
    """SQL that is true when the non-empty ``value`` fits the profile field aliased ``field``.

    Numeric: any decimal number; Date: ``YYYY-MM-DD`` or ``MM/DD/YYYY``; CheckBox: ``on`` or
    ``off`` (any case); every type: at most ``maxLength`` characters.
    """
    return (
        f"(length({value}) <= {field}.max_length AND CASE {field}.data_type"
        f" WHEN 'Numeric' THEN TRY_CAST({value} AS DOUBLE) IS NOT NULL"
        f" WHEN 'Date' THEN TRY_STRPTIME({value}, ['%Y-%m-%d', '%m/%d/%Y']) IS NOT NULL"
        f" WHEN 'CheckBox' THEN lower({value}) IN ('on', 'off')"
        " ELSE TRUE END)"
    )


def stored_value_sql(value: str, field: str) -> str:
    """How a valid value is stored: CheckBox values lower-cased, everything else as given."""
    return f"CASE WHEN {field}.data_type = 'CheckBox' THEN lower({value}) ELSE {value} END"


def _group_resource(row: tuple[Any, ...]) -> dict[str, Any]:
    group_id, _list_id, name, position = row
    return {
        "segmentationFieldGroupId": group_id,
        "segmentationFieldGroupName": name,
        "position": position,
    }


def _field_resource(row: tuple[Any, ...]) -> dict[str, Any]:
    field_id, _list_id, group_id, name, data_type, max_length, position = row
    return {
        "segmentationFieldId": field_id,
        "segmentationFieldName": name,
        "segmentationFieldGroupId": group_id,
        "dataType": data_type,
        "maxLength": max_length,
        "position": position,
    }


def _find_group(db: duckdb.DuckDBPyConnection, list_id: int, group_id: int) -> tuple[Any, ...]:
    row = first(
        db.execute(
            "SELECT * FROM email_field_group WHERE list_id = ? AND group_id = ?",
            [list_id, group_id],
        )
    )
    if row is None:
        raise ListrakHTTPError.not_found("listId and segmentationFieldGroupId")
    return row


def find_field(
    db: duckdb.DuckDBPyConnection, list_id: int, group_id: int, field_id: int
) -> tuple[Any, ...]:
    row = first(
        db.execute(
            "SELECT * FROM email_field WHERE list_id = ? AND group_id = ? AND field_id = ?",
            [list_id, group_id, field_id],
        )
    )
    if row is None:
        raise ListrakHTTPError.not_found(
            "listId, segmentationFieldGroupId, and segmentationFieldId"
        )
    return row


def _check_name(name: str, member: str) -> str:
    if not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise ListrakHTTPError.invalid_parameter(
            member, f"Names are 1 to {MAX_NAME_LENGTH} characters and not blank."
        )
    return name


def _check_group(
    db: duckdb.DuckDBPyConnection, list_id: int, doc: dict[str, Any], group_id: int | None
) -> None:
    name = _check_name(doc["segmentationFieldGroupName"], "segmentationFieldGroupName")
    if doc["position"] < 0:
        raise ListrakHTTPError.invalid_parameter("position", "Positions are 0 or more.")
    taken = first(
        db.execute(
            "SELECT 1 FROM email_field_group WHERE list_id = ? AND lower(group_name) = lower(?)"
            " AND group_id IS DISTINCT FROM ?",
            [list_id, name, group_id],
        )
    )
    if taken is not None:
        raise ListrakHTTPError.invalid_parameter(
            "segmentationFieldGroupName", "The list already has a profile field group by that name."
        )


def insert_group(db: duckdb.DuckDBPyConnection, list_id: int, doc: dict[str, Any]) -> int:
    """Validate and create a group (explicit ``segmentationFieldGroupId`` allowed for seeds)."""
    _check_group(db, list_id, doc, None)
    count = first(db.execute("SELECT count(*) FROM email_field_group WHERE list_id = ?", [list_id]))
    if count is not None and count[0] >= MAX_GROUPS_PER_LIST:
        raise ListrakHTTPError(
            400,
            "ERROR_SEGMENTATION_FIELD_GROUP_LIMIT_MET",
            f"The list already has the maximum of {MAX_GROUPS_PER_LIST} profile field groups.",
        )
    group_id = doc.get("segmentationFieldGroupId") or _next_id(
        db, "email_field_group", "group_id", _FIRST_GROUP_ID
    )
    db.execute(
        "INSERT INTO email_field_group VALUES (?, ?, ?, ?)",
        [group_id, list_id, doc["segmentationFieldGroupName"], doc["position"]],
    )
    return int(group_id)


def _check_field(
    db: duckdb.DuckDBPyConnection, list_id: int, doc: dict[str, Any], field_id: int | None
) -> None:
    name = _check_name(doc["segmentationFieldName"], "segmentationFieldName")
    if doc["dataType"] not in DATA_TYPES:
        raise ListrakHTTPError.invalid_parameter(
            "dataType", "Allowed values are " + ", ".join(DATA_TYPES) + "."
        )
    if not 1 <= doc["maxLength"] <= MAX_VALUE_LENGTH:
        raise ListrakHTTPError.invalid_parameter(
            "maxLength", f"maxLength is between 1 and {MAX_VALUE_LENGTH}."
        )
    if doc["position"] < 0:
        raise ListrakHTTPError.invalid_parameter("position", "Positions are 0 or more.")
    taken = first(
        db.execute(
            "SELECT 1 FROM email_field WHERE list_id = ? AND lower(field_name) = lower(?)"
            " AND field_id IS DISTINCT FROM ?",
            [list_id, name, field_id],
        )
    )
    if taken is not None:
        raise ListrakHTTPError.invalid_parameter(
            "segmentationFieldName", "The list already has a profile field by that name."
        )


def insert_field(
    db: duckdb.DuckDBPyConnection, list_id: int, group_id: int, doc: dict[str, Any]
) -> int:
    """Validate and create a field (explicit ``segmentationFieldId`` allowed for seeds)."""
    _check_field(db, list_id, doc, None)
    count = first(db.execute("SELECT count(*) FROM email_field WHERE list_id = ?", [list_id]))
    if count is not None and count[0] >= MAX_FIELDS_PER_LIST:
        raise ListrakHTTPError.invalid_parameter(
            "segmentationFieldResource",
            f"The list already has the maximum of {MAX_FIELDS_PER_LIST} profile fields.",
        )
    field_id = doc.get("segmentationFieldId") or _next_id(
        db, "email_field", "field_id", _FIRST_FIELD_ID
    )
    db.execute(
        "INSERT INTO email_field VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            field_id,
            list_id,
            group_id,
            doc["segmentationFieldName"],
            doc["dataType"],
            doc["maxLength"],
            doc["position"],
        ],
    )
    return int(field_id)


def _next_id(db: duckdb.DuckDBPyConnection, table: str, column: str, start: int) -> int:
    # Not a sequence: seeds may choose ids, and a sequence would collide with them later.
    return allocate_id(db, table, table, column, start)


def value_fits(data_type: str, max_length: int, value: str) -> bool:
    """``value_ok_sql`` for one value in Python, for the per-contact route (a test keeps the
    two in agreement): a DuckDB query per contact would cost more than the rest of the call."""
    if len(value) > max_length:
        return False
    if data_type == "Numeric":
        try:
            float(value)
        except ValueError:
            return False
        return True
    if data_type == "Date":
        for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
            try:
                datetime.strptime(value, pattern)
            except ValueError:
                continue
            return True
        return False
    if data_type == "CheckBox":
        return value.lower() in ("on", "off")
    return True


def check_field_values(
    db: duckdb.DuckDBPyConnection, list_id: int, values: list[dict[str, Any]], member: str
) -> list[tuple[int, str]]:
    """Validate ``[{segmentationFieldId, value}]`` for one contact; returns (id, stored value).

    Empty values pass (what they mean depends on the update type). Unknown fields, a field given
    twice and values the field's type refuses are ``ERROR_INVALID_PARAMETER`` naming the entry.
    """
    ids = [int(item["segmentationFieldId"]) for item in values]
    if not ids:
        return []
    fields = {
        field_id: (data_type, max_length)
        for field_id, data_type, max_length in db.execute(
            "SELECT field_id, data_type, max_length FROM email_field WHERE list_id = ?",
            [list_id],
        ).fetchall()
    }
    out: list[tuple[int, str]] = []
    for index, (field_id, item) in enumerate(zip(ids, values, strict=True)):
        if field_id in ids[:index]:
            raise ListrakHTTPError.invalid_parameter(
                f"{member}[{index}].segmentationFieldId", "The field is given twice."
            )
        if field_id not in fields:
            raise ListrakHTTPError.invalid_parameter(
                f"{member}[{index}].segmentationFieldId", "No such profile field on the list."
            )
        data_type, max_length = fields[field_id]
        value = str(item["value"])
        if value and not value_fits(data_type, max_length, value):
            raise ListrakHTTPError.invalid_parameter(
                f"{member}[{index}].value",
                f"The value does not fit the {data_type} field (at most {max_length} "
                "characters; Numeric: a number; Date: YYYY-MM-DD or MM/DD/YYYY; "
                "CheckBox: on or off).",
            )
        out.append((field_id, value.lower() if data_type == "CheckBox" else value))
    return out


def install_fields(state: EmulatorState, table: OperationTable) -> None:
    state.register_schema(SCHEMA)
    groups = "/email/v1/List/{listId}/SegmentationFieldGroup"
    group = groups + "/{segmentationFieldGroupId}"
    fields = group + "/SegmentationField"
    field = fields + "/{segmentationFieldId}"

    @table.operation(
        "GET", groups, "SegmentationFieldGroup_GetSegmentationFieldGroupCollection", "email"
    )
    async def get_groups(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        rows = state.db.execute(
            "SELECT * FROM email_field_group WHERE list_id = ? ORDER BY position, group_id",
            [list_id],
        ).fetchall()
        return collection([_group_resource(row) for row in rows])

    @table.operation(
        "POST", groups, "SegmentationFieldGroup_PostSegmentationFieldGroupResource", "email"
    )
    async def create_group(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        doc = {k: v for k, v in body(request).items() if k != "segmentationFieldGroupId"}
        return created(await write(state, lambda db: insert_group(db, list_id, doc)))

    @table.operation(
        "GET", group, "SegmentationFieldGroup_GetSegmentationFieldGroupResource", "email"
    )
    async def get_group(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        row = _find_group(state.db, list_id, path_int(request, "segmentationFieldGroupId"))
        return resource(_group_resource(row))

    @table.operation(
        "PUT", group, "SegmentationFieldGroup_PutSegmentationFieldGroupResource", "email"
    )
    async def update_group(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        group_id = path_int(request, "segmentationFieldGroupId")
        find_list(state, list_id)
        doc = body(request)

        def change(db: duckdb.DuckDBPyConnection) -> None:
            _find_group(db, list_id, group_id)
            _check_group(db, list_id, doc, group_id)
            db.execute(
                "UPDATE email_field_group SET group_name = ?, position = ? WHERE group_id = ?",
                [doc["segmentationFieldGroupName"], doc["position"], group_id],
            )

        await write(state, change)
        return updated(group_id)

    @table.operation(
        "DELETE", group, "SegmentationFieldGroup_DeleteSegmentationFieldGroupResource", "email"
    )
    async def delete_group(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        group_id = path_int(request, "segmentationFieldGroupId")
        find_list(state, list_id)

        def remove(db: duckdb.DuckDBPyConnection) -> None:
            _find_group(db, list_id, group_id)
            if first(db.execute("SELECT 1 FROM email_field WHERE group_id = ?", [group_id])):
                raise ListrakHTTPError(
                    400,
                    "ERROR_RESOURCE_DEPENDENCY",
                    "The profile field group still holds profile fields; delete them first.",
                )
            db.execute("DELETE FROM email_field_group WHERE group_id = ?", [group_id])

        await write(state, remove)
        return deleted()

    @table.operation("GET", fields, "SegmentationField_GetSegmentationFieldCollection", "email")
    async def get_fields(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        group_id = path_int(request, "segmentationFieldGroupId")
        _find_group(state.db, list_id, group_id)
        rows = state.db.execute(
            "SELECT * FROM email_field WHERE group_id = ? ORDER BY position, field_id", [group_id]
        ).fetchall()
        return collection([_field_resource(row) for row in rows])

    @table.operation("POST", fields, "SegmentationField_PostSegmentationFieldResource", "email")
    async def create_field(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        group_id = path_int(request, "segmentationFieldGroupId")
        find_list(state, list_id)
        doc = {
            k: v
            for k, v in body(request).items()
            if k not in ("segmentationFieldId", "segmentationFieldGroupId")
        }

        def add(db: duckdb.DuckDBPyConnection) -> int:
            _find_group(db, list_id, group_id)
            return insert_field(db, list_id, group_id, doc)

        return created(await write(state, add))

    @table.operation("GET", field, "SegmentationField_GetSegmentationFieldResource", "email")
    async def get_field(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        row = find_field(
            state.db,
            list_id,
            path_int(request, "segmentationFieldGroupId"),
            path_int(request, "segmentationFieldId"),
        )
        return resource(_field_resource(row))

    @table.operation("PUT", field, "SegmentationField_PutSegmentationFieldResource", "email")
    async def update_field(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        group_id = path_int(request, "segmentationFieldGroupId")
        field_id = path_int(request, "segmentationFieldId")
        find_list(state, list_id)
        doc = body(request)

        def change(db: duckdb.DuckDBPyConnection) -> None:
            current = find_field(db, list_id, group_id, field_id)
            _check_field(db, list_id, doc, field_id)
            held = first(
                db.execute(
                    "SELECT count(*), coalesce(max(length(value)), 0) FROM email_field_value"
                    " WHERE field_id = ?",
                    [field_id],
                )
            )
            assert held is not None
            if held[0] and doc["dataType"] != current[4]:
                raise ListrakHTTPError.invalid_parameter(
                    "dataType", "The data type cannot change while the field holds values."
                )
            if held[1] > doc["maxLength"]:
                raise ListrakHTTPError.invalid_parameter(
                    "maxLength", f"The field holds values of up to {held[1]} characters."
                )
            db.execute(
                "UPDATE email_field SET field_name = ?, data_type = ?, max_length = ?,"
                " position = ? WHERE field_id = ?",
                [
                    doc["segmentationFieldName"],
                    doc["dataType"],
                    doc["maxLength"],
                    doc["position"],
                    field_id,
                ],
            )

        await write(state, change)
        return updated(field_id)

    @table.operation("DELETE", field, "SegmentationField_DeleteSegmentationFieldResource", "email")
    async def delete_field(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        group_id = path_int(request, "segmentationFieldGroupId")
        field_id = path_int(request, "segmentationFieldId")
        find_list(state, list_id)

        def remove(db: duckdb.DuckDBPyConnection) -> None:
            find_field(db, list_id, group_id, field_id)
            if first(
                db.execute("SELECT 1 FROM email_field_value WHERE field_id = ? LIMIT 1", [field_id])
            ):
                raise ListrakHTTPError(
                    400,
                    "ERROR_RESOURCE_DEPENDENCY",
                    "The profile field still holds values; clear them first "
                    "(DELETE .../SegmentationField/{segmentationFieldId}/Values).",
                )
            db.execute("DELETE FROM email_field WHERE field_id = ?", [field_id])

        await write(state, remove)
        return deleted()
