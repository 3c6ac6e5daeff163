"""Import plumbing shared by list imports and SMS contact imports.

The import file travels base64-encoded inside a JSON body (``fileStream``). The body is streamed:
the JSON around the file is written once, the file is base64-encoded chunk by chunk as it is
sent, and ``Content-Length`` is computed up front, so a 185 MB file costs 185 MB of memory, not
the 250 MB of its encoded copy on top. The same :class:`Body` can be sent again on a retry.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from ._config import ClientSettings
from ._exceptions import ImportFailed, ImportTimeout
from ._pacing import Clock, Sleep
from ._session import Body

__all__ = [
    "FAILED_STATUSES",
    "FINISHED_STATUSES",
    "file_body",
    "poll_import",
    "poll_until_done",
]

# The specs give no list of import statuses. These are the words Listrak's UI and similar APIs
# use; anything else (Queued, Pending, Processing, Importing, ...) means "not yet".
FINISHED_STATUSES = frozenset({"completed", "complete", "finished", "done", "succeeded", "success"})
FAILED_STATUSES = frozenset({"failed", "failure", "error", "errored", "cancelled", "canceled"})

_CHUNK = 3 * 1024 * 1024  # a multiple of 3, so chunks encode to base64 without padding

T = TypeVar("T")


def file_body(metadata: dict[str, Any], data: bytes) -> Body:
    """A JSON body: ``metadata`` plus ``"fileStream": base64(data)``, streamed."""
    rest = {key: value for key, value in metadata.items() if key != "fileStream"}
    prefix = b'{"fileStream":"'
    suffix = b'"' + (b"," + json.dumps(rest, separators=(",", ":")).encode()[1:] if rest else b"}")
    length = len(prefix) + 4 * math.ceil(len(data) / 3) + len(suffix)

    async def chunks() -> AsyncIterator[bytes]:
        yield prefix
        view = memoryview(data)
        for start in range(0, len(data), _CHUNK):
            yield base64.b64encode(view[start : start + _CHUNK])
        yield suffix

    return Body(length, chunks)


async def poll_until_done(
    fetch: Callable[[], Awaitable[T]],
    status_of: Callable[[T], str | None],
    *,
    import_file_id: int,
    interval: float,
    max_interval: float,
    limit: float,
    clock: Clock = time.monotonic,
    sleep: Sleep,
    context: dict[str, Any],
) -> T:
    """Fetch the import's status until it is finished; raise if it failed or took too long."""
    deadline = clock() + limit
    wait = interval
    while True:
        current = await fetch()
        status = (status_of(current) or "").strip().lower()
        if status in FINISHED_STATUSES:
            return current
        if status in FAILED_STATUSES:
            raise ImportFailed(
                f"import {import_file_id} ended with status {status_of(current)!r}",
                import_file_id=import_file_id,
                **context,
            )
        remaining = deadline - clock()
        if remaining <= 0:
            raise ImportTimeout(
                f"import {import_file_id} still {status_of(current)!r} after {limit:.0f} s",
                import_file_id=import_file_id,
                **context,
            )
        await sleep(min(wait, remaining))
        wait = min(wait * 1.5, max_interval)


async def poll_import(
    fetch: Callable[[], Awaitable[T]],
    status_of: Callable[[T], str | None],
    *,
    import_file_id: int,
    settings: ClientSettings,
    sleep: Sleep,
    path: str,
) -> T:
    """:func:`poll_until_done` at the client's poll interval and timeout; ``path`` (the
    status resource) goes into the error raised."""
    return await poll_until_done(
        fetch,
        status_of,
        import_file_id=import_file_id,
        interval=settings.import_poll_interval,
        max_interval=settings.import_poll_max_interval,
        limit=settings.import_timeout,
        sleep=sleep,
        context={"path": path},
    )
