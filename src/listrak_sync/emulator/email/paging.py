"""Cursor paging as Listrak pages: ``cursor`` (``Start`` first) and ``count`` (1–5000, 1000).

Cursors are keyset cursors: an opaque token holding the last key of the page, so the next page
starts strictly after it. Rows added while a client pages get larger keys and show up at the
end; no row is ever returned twice or skipped because an earlier page changed size.
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request

from ..errors import ListrakHTTPError
from ..parsing import query_int, query_str

__all__ = ["DEFAULT_COUNT", "MAX_COUNT", "encode_cursor", "page_after", "page_count"]

DEFAULT_COUNT = 1000
MAX_COUNT = 5000
_PREFIX = "k:"


def page_count(request: Request) -> int:
    count = query_int(request, "count", DEFAULT_COUNT, minimum=1, maximum=MAX_COUNT)
    assert count is not None
    return count


def page_after(request: Request) -> int:
    """The key the requested page starts after: 0 for ``Start`` (keys are positive)."""
    raw = query_str(request, "cursor")
    if raw is None or raw == "Start":
        return 0
    try:
        text = base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(text)
        key = int(text[len(_PREFIX) :])
    except (ValueError, UnicodeError, binascii.Error):
        raise ListrakHTTPError.invalid_parameter("cursor") from None
    if key < 0:
        raise ListrakHTTPError.invalid_parameter("cursor")
    return key


def encode_cursor(last_key: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_key}".encode()).decode().rstrip("=")
