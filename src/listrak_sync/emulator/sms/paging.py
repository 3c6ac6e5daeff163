"""Cursor paging as the SMS API describes it: ``cursor`` (default ``Start``) and ``count``.

Cursors are keyset positions (the last key of the page, opaque to the caller), so a client
walking a list while it changes still sees every unchanged member exactly once.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from starlette.requests import Request

from ..errors import ListrakHTTPError
from ..parsing import query_str

__all__ = ["DEFAULT_COUNT", "MAX_COUNT", "Page", "encode_cursor", "page_request"]

DEFAULT_COUNT = 1000
MAX_COUNT = 5000


@dataclass(frozen=True)
class Page:
    after: str | None  # the last key of the previous page; None for the first page
    count: int


def encode_cursor(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        key = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        text = key.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise ListrakHTTPError.invalid_parameter("cursor") from None
    if not text:
        raise ListrakHTTPError.invalid_parameter("cursor")
    return text


def page_request(request: Request) -> Page:
    """The page a request asks for; ``count`` must be 1–5000, ``cursor`` one we issued."""
    raw_count = query_str(request, "count")
    count = DEFAULT_COUNT
    if raw_count is not None:
        try:
            count = int(raw_count)
        except ValueError:
            raise ListrakHTTPError.invalid_parameter("count") from None
        if not 1 <= count <= MAX_COUNT:
            raise ListrakHTTPError.invalid_parameter("count", f"The maximum value is {MAX_COUNT}.")
    cursor = query_str(request, "cursor")
    after = None if cursor is None or cursor.lower() == "start" else _decode_cursor(cursor)
    return Page(after, count)
