"""``POST /Customer``, ``/Order``, ``/Product``, ``/RatingSummary`` and ``/Review``.

The spec says only that each call "starts a new import" of an array of records and answers
400 ``ERROR_INVALID_PARAMETER`` for invalid values. The emulator takes the strict reading: a
request is checked whole before anything is stored, and one bad record rejects the request,
naming the record and field (``customers[3].birthday``), so a client can never believe a
batch landed when part of it did not. Beyond the schema checks every route gets, records are
checked for what JSON Schema alone does not: ``date-time`` and ``int32`` formats, the email
address an account without CRM needs on customers and orders, order items that belong to
their order, and keys that appear once per request.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from email_validator import EmailNotValidError, validate_email
from jsonschema import Draft4Validator, FormatChecker
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..responses import created
from ..routing import OperationTable, body
from ..spec import load_spec, spec_operations
from ..state import Client, EmulatorState
from .store import ENTITIES, Entity, crm_enabled, now, upsert

__all__ = ["check_records", "install_imports"]

_CHECKER = FormatChecker(formats=())


@_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value.upper() and " " not in value:
        raise ValueError("a date-time needs a time, e.g. 2018-08-23T17:23:48Z")
    datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    return True


@_CHECKER.checks("int32")
def _is_int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@cache
def _validator(operation_id: str) -> Draft4Validator:
    body_schema = spec_operations("data")[operation_id].body_schema
    assert body_schema is not None
    # Keep the spec's own definitions at the root so its "#/definitions/..." refs resolve.
    schema = {**body_schema, "definitions": load_spec("data")["definitions"]}
    return Draft4Validator(schema, format_checker=_CHECKER)


def _where(entity: Entity, path: list[Any]) -> str:
    text = entity.name
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _email(entity: Entity, index: int, record: dict[str, Any], required: bool) -> str | None:
    email = record.get("email")
    if not email:
        if required:
            raise ListrakHTTPError.invalid_parameter(
                f"{entity.name}[{index}].email",
                "email is required for accounts that are not CRM enabled.",
            )
        return None
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ListrakHTTPError.invalid_parameter(
            f"{entity.name}[{index}].email", str(exc)
        ) from None
    return str(email).lower()


def _key(entity: Entity, index: int, record: dict[str, Any], crm: bool) -> str:
    if entity.name == "customers":
        email = _email(entity, index, record, required=not crm)
        number = record.get("customerNumber")
        if crm and number:
            return f"number:{number}"
        if email is None:
            raise ListrakHTTPError.invalid_parameter(
                f"customers[{index}]", "A customer needs an email or a customerNumber."
            )
        return f"email:{email}"
    if entity.name == "orders":
        _email(entity, index, record, required=not crm)
        seen: set[str] = set()
        for position, item in enumerate(record.get("items") or []):
            where = f"orders[{index}].items[{position}]"
            if item["orderNumber"] != record["orderNumber"]:
                raise ListrakHTTPError.invalid_parameter(
                    f"{where}.orderNumber", "An order item carries its order's orderNumber."
                )
            if item["sku"] in seen:
                raise ListrakHTTPError.invalid_parameter(
                    f"{where}.sku", "Each sku appears once per order; combine the lines."
                )
            seen.add(item["sku"])
        return str(record["orderNumber"])
    if entity.name == "products":
        return str(record["sku"])
    if entity.name == "ratingSummaries":
        if not record.get("provider") or not record.get("providerProductID"):
            raise ListrakHTTPError.invalid_parameter(
                f"ratingSummaries[{index}]", "provider and providerProductID identify a summary."
            )
        return f"{record['provider']}\x1f{record['providerProductID']}"
    return f"{record['provider']}\x1f{record['providerReviewID']}"


def check_records(state: EmulatorState, entity: Entity, records: Any) -> list[str]:
    """Check a request body; returns each record's natural key, or raises naming the field."""
    if not isinstance(records, list) or not records:
        raise ListrakHTTPError.invalid_parameter(entity.name, "Send an array of one or more.")
    errors = sorted(
        _validator(entity.operation_id).iter_errors(records), key=lambda e: list(e.path)
    )
    if errors:
        raise ListrakHTTPError.invalid_parameter(
            _where(entity, list(errors[0].path)), errors[0].message
        )
    crm = crm_enabled(state)
    keys: dict[str, int] = {}
    for index, record in enumerate(records):
        key = _key(entity, index, record, crm)
        if key in keys:
            raise ListrakHTTPError.invalid_parameter(
                f"{entity.name}[{index}]", f"It repeats the key of {entity.name}[{keys[key]}]."
            )
        keys[key] = index
    return list(keys)


def install_imports(state: EmulatorState, table: OperationTable) -> None:
    for entity in ENTITIES.values():
        table.operation("POST", entity.path, entity.operation_id, "data")(_handler(state, entity))


def _handler(state: EmulatorState, entity: Entity) -> Any:
    async def start_import(request: Request, client: Client) -> Response:
        records = body(request)
        keys = check_records(state, entity, records)
        upsert(state, entity, records, keys, now(state))
        # Recorded: the Data API answers 201 with a null resourceId (the import is kept, with
        # its id, for the admin surface only).
        return created(None)

    return start_import
