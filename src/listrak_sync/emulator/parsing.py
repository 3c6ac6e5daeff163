"""Reading requests the way Listrak does: strict content type, strict JSON, typed parameters.

Each failure raises :class:`ListrakHTTPError` with the code the specs list, so every API module
rejects bad input the same way.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request

from .errors import ListrakHTTPError

__all__ = ["json_body", "path_int", "query_bool", "query_datetime", "query_int", "query_str"]


async def json_body(request: Request) -> Any:
    """The request's JSON body; 415 without ``application/json``, 400 when it does not parse."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ListrakHTTPError(
            415,
            "ERROR_UNSUPPORTED_CONTENT_TYPE",
            "The request contained an unsupported Content-Type. "
            "Please use a Content-Type of application/json.",
        )
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ListrakHTTPError(
            400, "ERROR_MALFORMED_REQUEST_BODY", f"The request body is not valid JSON: {exc}."
        ) from None


def path_int(request: Request, name: str) -> int:
    """An int32 path parameter; a non-number is an unknown resource, as on Listrak."""
    raw = request.path_params[name]
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ListrakHTTPError.invalid_parameter(name) from None
    if not -(2**31) <= value < 2**31:
        raise ListrakHTTPError.invalid_parameter(name)
    return value


def query_str(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value if value not in (None, "") else None


def query_int(
    request: Request,
    name: str,
    default: int | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    raw = query_str(request, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ListrakHTTPError.invalid_parameter(name) from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ListrakHTTPError.invalid_parameter(name)
    return value


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    raw = query_str(request, name)
    if raw is None:
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ListrakHTTPError.invalid_parameter(name)


def query_datetime(request: Request, name: str) -> datetime | None:
    raw = query_str(request, name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ListrakHTTPError.invalid_parameter(name) from None
