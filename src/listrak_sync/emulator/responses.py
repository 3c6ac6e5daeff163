"""Listrak's response envelopes, one function each, so every API answers in the same shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

from .realism import realistic

__all__ = [
    "collection",
    "compact",
    "created",
    "deleted",
    "listrak_time",
    "paged",
    "resource",
    "updated",
]


def compact(value: Any) -> Any:
    """Drop null members: the specs type fields without ``x-nullable``, so absent beats null.

    A realistic emulator keeps them: real Listrak answers explicit nulls.
    """
    if realistic():
        return value
    if isinstance(value, dict):
        return {key: compact(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [compact(item) for item in value]
    return value


def resource(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"status": status, "data": compact(data)}, status_code=status)


def collection(data: list[Any]) -> JSONResponse:
    return JSONResponse({"status": 200, "data": compact(data)})


def paged(data: list[Any], next_page_cursor: str | None) -> JSONResponse:
    # nextPageCursor is null on the last page in both modes: the spec's own example and every
    # public client read it that way (docs/reference/emulator.md).
    return JSONResponse({"status": 200, "nextPageCursor": next_page_cursor, "data": compact(data)})


def created(resource_id: Any) -> JSONResponse:
    """201 with ``resourceId`` as a string; None stays null (the Data API answers null)."""
    rid = None if resource_id is None else str(resource_id)
    return JSONResponse({"status": 201, "resourceId": rid}, status_code=201)


def updated(resource_id: Any) -> JSONResponse:
    return JSONResponse({"status": 200, "resourceId": str(resource_id)})


def deleted() -> JSONResponse:
    return JSONResponse({"status": 200})


def listrak_time(value: datetime | None) -> str | None:
    """Listrak's timestamp style: ISO 8601 without offset, in UTC (``2024-05-01T13:45:00``).

    Realistic: the fraction of a second when it is not zero, trailing zeros cut as .NET writes
    it (recorded: ``2015-08-31T16:02:41.65``); the emulator's clock supplies the fractions.
    """
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if realistic() and value.microsecond:
        return value.isoformat(timespec="microseconds").rstrip("0")
    return value.isoformat(timespec="seconds")
