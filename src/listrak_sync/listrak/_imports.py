"""Import plumbing shared by list imports and SMS contact imports.

The import file travels base64-encoded inside a JSON body (``fileStream``). The body is streamed:
the JSON around the file is written once, the file is base64-encoded chunk by chunk as it is
sent, and ``Content-Length`` is computed up front, so a 185 MB file costs 185 MB of memory, not
the 250 MB of its encoded copy on top. The same :class:`Body` can be sent again on a retry.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from ._config import ClientSettings
from ._csv import CsvPart
from ._exceptions import ImportFailed, ImportTimeout, ListrakApiError, NotFound, RequestTooLarge
from ._pacing import Clock, Sleep
from ._session import Body

__all__ = [
    "FAILED_STATUSES",
    "FINISHED_STATUSES",
    "PENDING_STATUSES",
    "file_body",
    "poll_import",
    "poll_until_done",
    "size_refusal",
    "split_part",
    "start_in_pieces",
]

# How many times a refused import file is halved before giving up (1/64 of its size).
MAX_SPLITS = 6

log = logging.getLogger("listrak_sync.listrak")

# The specs give no list of import statuses and no public recording shows one (unverified, see
# docs/reference/emulator.md). These are the words Listrak's UI and similar APIs use. Any other
# value also means "not yet": it is polled until the timeout, with one warning per import so a
# status Listrak renamed shows up in the log instead of as a silent wait.
FINISHED_STATUSES = frozenset({"completed", "complete", "finished", "done", "succeeded", "success"})
FAILED_STATUSES = frozenset({"failed", "failure", "error", "errored", "cancelled", "canceled"})
PENDING_STATUSES = frozenset(
    {"", "queued", "pending", "processing", "importing", "inprogress", "in progress", "running"}
)

_CHUNK = 3 * 1024 * 1024  # a multiple of 3, so chunks encode to base64 without padding

T = TypeVar("T")
F = TypeVar("F")


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
    growth: float = 1.5,
    clock: Clock = time.monotonic,
    sleep: Sleep,
    context: dict[str, Any],
) -> T:
    """Fetch the import's status until it is finished; raise if it failed or took too long."""
    deadline = clock() + limit
    wait = interval
    unknown_seen: set[str] = set()
    while True:
        current = await fetch()
        status = (status_of(current) or "").strip().lower()
        if status in FINISHED_STATUSES:
            return current
        if status not in FAILED_STATUSES | PENDING_STATUSES and not unknown_seen:
            unknown_seen.add(status)
            log.warning(
                "import %s: unknown status %r, taken as not finished yet (polling on for up "
                "to %.0f s)",
                import_file_id,
                status_of(current),
                limit,
            )
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
        wait = min(wait * growth, max_interval)


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
        growth=settings.import_poll_growth,
        sleep=sleep,
        context={"path": path},
    )


def size_refusal(exc: NotFound, size: int) -> RequestTooLarge | None:
    """``exc`` as a :class:`RequestTooLarge` if it is IIS refusing the request for its size.

    Listrak's own 404s carry its error envelope (``ERROR_UNABLE_TO_LOCATE_RESOURCE``); IIS's
    answer past its request size limit is an HTML page, which the session names ``HTTP_404``.
    """
    if exc.code != "HTTP_404":
        return None
    return RequestTooLarge(
        f"Listrak's web server refused a request of {size:,} bytes with a bare 404 (IIS "
        "answers so past an undisclosed request size)",
        size=size,
        code=exc.code,
        status=exc.status,
        method=exc.method,
        path=exc.path,
        operation=exc.operation,
    )


def split_part(part: CsvPart, *, header: bool = True) -> tuple[CsvPart, CsvPart] | None:
    """``part`` as two parts of about half its rows each (None for a single row).

    A record ends at a line break outside quotes: RFC 4180 doubles quotes inside a quoted value,
    so the count of quote characters is even exactly at a record's end.
    """
    if part.rows < 2:
        return None
    lines = part.data.splitlines(keepends=True)
    head = lines[0] if header and lines else b""
    records: list[bytes] = []
    current = b""
    for line in lines[1:] if header else lines:
        current += line
        if current.count(b'"') % 2 == 0:
            records.append(current)
            current = b""
    if current:
        records.append(current)
    if len(records) < 2:
        return None
    middle = len(records) // 2
    return (
        CsvPart(part.index, head + b"".join(records[:middle]), middle, part.first_row),
        CsvPart(
            part.index,
            head + b"".join(records[middle:]),
            len(records) - middle,
            part.first_row + middle,
        ),
    )


async def start_in_pieces(
    part: CsvPart,
    start: Callable[[CsvPart, str], Awaitable[tuple[F, int]]],
    *,
    header: bool = True,
    suffix: str = "",
    depth: int = 0,
) -> list[tuple[CsvPart, F, int]]:
    """Start ``part`` as one import with ``start(part, suffix)``; if Listrak's web server
    refuses it for its size, start each half instead (suffixes ``a``, ``b``, ``aa``, ...),
    up to :data:`MAX_SPLITS` times. Returns ``(part, file, import_file_id)`` of each started."""
    try:
        started, import_file_id = await start(part, suffix)
    except RequestTooLarge as exc:
        halves = split_part(part, header=header) if depth < MAX_SPLITS else None
        if halves is None:
            raise ListrakApiError(
                f"Listrak refused an import file of {len(part.data):,} bytes ({part.rows:,} "
                f"rows from row {part.first_row:,}) with a 404 even after halving it {depth} "
                "time(s): its web server refuses requests past an undisclosed size. Lower "
                "max_import_bytes and try again.",
                code=exc.code,
                status=exc.status,
                method=exc.method,
                path=exc.path,
                operation=exc.operation,
            ) from None
        log.warning(
            "an import file of %s bytes was refused for its size; sending it in two halves",
            f"{len(part.data):,}",
        )
        found: list[tuple[CsvPart, F, int]] = []
        for half, letter in zip(halves, "ab", strict=True):
            found += await start_in_pieces(
                half, start, header=header, suffix=suffix + letter, depth=depth + 1
            )
        return found
    return [(part, started, import_file_id)]
