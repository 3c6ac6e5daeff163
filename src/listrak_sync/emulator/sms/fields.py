"""Profile fields (``SegmentationField``) and the rules their values must meet.

Profile fields belong to the company, so every sender code lists the same ones. A field has a
data type (``Text``, ``Number``, ``Checkbox``, ``Date``), an optional ``maxLength`` and a
``statusFlag`` (``Active``, ``Disabled``, ``Purged``). A seeded field may stand for a system
field (``systemField: firstName``): values written to it land in the contact's system field,
which is how an update import, whose mappings only know ``Phone`` and ``SegmentationField``,
reaches email, names, birthday and postal code.

The value rules are SQL expressions, used for one contact (``check_values``) and for a whole
import alike, so both paths accept and normalise exactly the same values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..parsing import path_int
from ..responses import collection, resource
from ..routing import OperationTable
from ..state import Client, EmulatorState
from .catalog import CachedTable, cached
from .sender_codes import find_sender_code

__all__ = [
    "SYSTEM_COLUMNS",
    "Field",
    "check_values",
    "field_map",
    "install_fields",
    "plain_value",
    "seed_field",
    "value_sql",
]

DATA_TYPES = ("Text", "Number", "Checkbox", "Date")
STATUS_FLAGS = ("Active", "Disabled", "Purged")
# The SMSContact member a system field stands for → its sms_person column.
SYSTEM_COLUMNS = {
    "emailAddress": "email_address",
    "firstName": "first_name",
    "lastName": "last_name",
    "birthday": "birthday",
    "postalCode": "postal_code",
}
_TRUE = ("true", "on", "yes", "1")
_FALSE = ("false", "off", "no", "0")
# Forms whose outcome under ``value_sql`` is certain without asking DuckDB (see plain_value).
_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")
_ISO_DATE = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Field:
    field_id: int
    name: str
    data_type: str
    max_length: int | None
    status_flag: str
    system_column: str | None

    def resource(self) -> dict[str, Any]:
        return {
            "segmentationFieldId": self.field_id,
            "segmentationFieldName": self.name,
            "dataType": self.data_type,
            "maxLength": self.max_length,
            "statusFlag": self.status_flag,
        }

    def require_usable(self) -> None:
        if self.status_flag != "Active":
            raise ListrakHTTPError(
                400,
                "ERROR_SEGMENTATION_FIELD_DISABLED",
                f"The profile field {self.field_id} is {self.status_flag.lower()}.",
            )


def value_sql(data_type: str, column: str) -> tuple[str, str]:
    """SQL (valid, normalised) for a value column of a field of ``data_type``; length is
    checked separately because it gets its own error code."""
    quoted_true = ", ".join(f"'{word}'" for word in _TRUE)
    quoted_all = ", ".join(f"'{word}'" for word in _TRUE + _FALSE)
    text = f"trim({column})"
    if data_type == "Number":
        return f"TRY_CAST({text} AS DOUBLE) IS NOT NULL", text
    if data_type == "Checkbox":
        return (
            f"lower({text}) IN ({quoted_all})",
            f"CASE WHEN lower({text}) IN ({quoted_true}) THEN 'true' ELSE 'false' END",
        )
    if data_type == "Date":
        parsed = (
            f"COALESCE(TRY_CAST(TRY_CAST({text} AS TIMESTAMP) AS DATE), "
            f"TRY_CAST(TRY_STRPTIME({text}, '%m/%d/%Y') AS DATE))"
        )
        return f"{parsed} IS NOT NULL", f"strftime({parsed}, '%Y-%m-%d')"
    return "TRUE", column


def plain_value(data_type: str, value: str) -> str | None:
    """The normalised form ``value_sql`` gives a plainly valid value, or None to ask DuckDB.

    Per-contact calls would otherwise spend a DuckDB statement per value. Only forms whose SQL
    outcome is certain are answered (``12.5``, ``Yes``, ``2024-05-01``, any Text); anything
    else, valid or not, goes to ``value_sql``, so both paths accept exactly the same values.
    """
    if data_type == "Text":
        return value
    if data_type == "Number":
        return value if _PLAIN_NUMBER.fullmatch(value) else None
    if data_type == "Checkbox":
        word = value.lower() if value.isascii() else ""
        return "true" if word in _TRUE else "false" if word in _FALSE else None
    if data_type == "Date" and _ISO_DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            return None
        return value
    return None


def _load(cur: duckdb.DuckDBPyConnection) -> dict[int, Field]:
    rows = cur.execute("SELECT * FROM sms_field ORDER BY field_id").fetchall()
    return {row[0]: Field(*row) for row in rows}


_FIELDS = CachedTable("sms_field", _load)


def field_map(state: EmulatorState) -> Mapping[int, Field]:
    """Every profile field by id, in id order (from the catalog copy, see ``catalog.py``)."""
    return cached(state, _FIELDS)


def check_values(state: EmulatorState, values: list[dict[str, Any]]) -> list[tuple[Field, str]]:
    """Validate a contact's ``segmentationFieldValues``; returns (field, normalised value)."""
    fields = field_map(state)
    checked: list[tuple[Field, str]] = []
    for index, entry in enumerate(values):
        field_id = entry.get("segmentationFieldId")
        field = fields.get(field_id) if isinstance(field_id, int) else None
        if field is None:
            raise ListrakHTTPError(
                400,
                "ERROR_INVALID_SEGMENTATION_FIELD_ID",
                f"segmentationFieldValues[{index}]: no profile field {field_id} on this sender "
                "code.",
            )
        field.require_usable()
        value = entry.get("value")
        if value is None:
            value = ""
        if field.max_length is not None and len(value) > field.max_length:
            raise ListrakHTTPError(
                400,
                "ERROR_SEGMENTATION_MAX_LENGTH",
                f"segmentationFieldValues[{index}]: the value is longer than the "
                f"{field.max_length} characters profile field {field.field_id} holds.",
            )
        if value == "":
            checked.append((field, ""))
            continue
        plain = plain_value(field.data_type, value)
        if plain is not None:
            checked.append((field, plain))
            continue
        valid, normalised = value_sql(field.data_type, "v")
        with state.cursor() as cur:
            row = cur.execute(
                f"SELECT {valid}, {normalised} FROM (SELECT ? AS v)", [value]
            ).fetchone()
        if row is None or not row[0]:
            raise ListrakHTTPError.invalid_parameter(
                f"segmentationFieldValues[{index}].value",
                f"Profile field {field.field_id} holds {field.data_type} values.",
            )
        checked.append((field, str(row[1])))
    return checked


def seed_field(state: EmulatorState, doc: dict[str, Any]) -> int:
    """Create a profile field from a seed entry (a PhoneAttribute resource plus
    ``systemField``)."""
    data_type = str(doc.get("dataType", "Text"))
    status_flag = str(doc.get("statusFlag", "Active"))
    if data_type not in DATA_TYPES:
        raise ValueError(f"profile field dataType must be one of {DATA_TYPES}, not {data_type!r}")
    if status_flag not in STATUS_FLAGS:
        raise ValueError(f"profile field statusFlag must be one of {STATUS_FLAGS}")
    system = doc.get("systemField")
    if system is not None and system not in SYSTEM_COLUMNS:
        raise ValueError(f"systemField must be one of {sorted(SYSTEM_COLUMNS)}, not {system!r}")
    if system == "birthday" and data_type != "Date":
        raise ValueError("the birthday system field is a Date field")
    max_length = doc.get("maxLength")
    values = [
        str(doc["segmentationFieldName"]),
        data_type,
        int(max_length) if max_length is not None else None,
        status_flag,
        SYSTEM_COLUMNS[system] if system else None,
    ]
    columns = "field_name, data_type, max_length, status_flag, system_column"
    if "segmentationFieldId" in doc:
        state.db.execute(
            f"INSERT INTO sms_field (field_id, {columns}) VALUES (?, ?, ?, ?, ?, ?)",
            [int(doc["segmentationFieldId"]), *values],
        )
        return int(doc["segmentationFieldId"])
    row = state.db.execute(
        f"INSERT INTO sms_field ({columns}) VALUES (?, ?, ?, ?, ?) RETURNING field_id", values
    ).fetchone()
    assert row is not None
    return int(row[0])


def install_fields(state: EmulatorState, table: OperationTable) -> None:
    @table.operation(
        "GET",
        "/sms/v1/ShortCode/{senderCodeId}/SegmentationField",
        "Segmentation_GetPhoneAttributeCollection",
        "sms",
    )
    async def get_fields(request: Request, client: Client) -> Response:
        find_sender_code(state, request)
        return collection([field.resource() for field in field_map(state).values()])

    @table.operation(
        "GET",
        "/sms/v1/ShortCode/{senderCodeId}/SegmentationField/{segmentationFieldId}",
        "Segmentation_GetPhoneAttribute",
        "sms",
    )
    async def get_field(request: Request, client: Client) -> Response:
        find_sender_code(state, request)
        field = field_map(state).get(path_int(request, "segmentationFieldId"))
        if field is None:
            raise ListrakHTTPError.not_found("senderCodeId and segmentationFieldId")
        return resource(field.resource())
