"""One integration's request pipeline: pacing, concurrency limit, token, retries, errors, metrics.

Every API call goes through :meth:`Session.call`. One attempt is: wait for the pacer, take a
concurrency slot, attach the bearer token, send, and turn the answer into JSON or a typed error.
A 401 drops the token and replays the request with a fresh one (a refused token means nothing
was applied), at most twice per attempt: a token can be revoked again between its refresh and
the replay, but a fresh token refused a third time means the integration is refused. stamina
repeats attempts that failed transiently, within the limits of the call's :class:`Replay` class.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import stamina

from ._auth import TokenSource
from ._config import ClientSettings
from ._exceptions import (
    AuthError,
    ListrakApiError,
    ListrakError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
)
from ._metrics import Metrics
from ._pacing import Clock, Pacer

__all__ = ["Body", "Replay", "Session", "parse_retry_after"]

log = logging.getLogger("listrak_sync.listrak")

# Refreshes per attempt on 401 before the refusal is taken as final (see the module doc).
_MAX_REFRESHES_ON_401 = 2

# httpx raises these before a single byte of the request left: always safe to send again.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
# Gateways answer these without reaching the API; 500 and 504 may come after it did work.
_NOT_APPLIED_STATUSES = frozenset({502, 503})


class Replay(enum.Enum):
    """Which failed attempts of a call may be sent again."""

    ALWAYS = "always"
    """Idempotent, or idempotent in effect (GET, PUT, DELETE, upserts): retry every transient
    failure — 429, 5xx, timeouts, dropped connections."""

    IF_NOT_APPLIED = "if_not_applied"
    """Creates something: retry only failures that prove the request did not run (429, 502,
    503, connection never made). A dropped connection or a 500/504 is raised with
    ``maybe_applied=True`` for the caller to reconcile."""


@dataclass(frozen=True)
class Body:
    """A request body that can be produced again for a retry, streamed in chunks."""

    length: int
    chunks: Callable[[], AsyncIterator[bytes]]
    content_type: str = "application/json"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _next_cursor(value: Any) -> str | None:
    # The specs call nextPageCursor the "URI of the next page of data"; Listrak sends a bare
    # cursor. Accept both.
    if not value:
        return None
    text = str(value)
    if "cursor=" in text:
        found = parse_qs(urlsplit(text).query).get("cursor")
        return found[0] if found else None
    return text


class Session:
    """Requests of one integration (email, sms or data) against the API base URL."""

    def __init__(
        self,
        integration: str,
        *,
        http: httpx2.AsyncClient,
        settings: ClientSettings,
        tokens: TokenSource,
        metrics: Metrics,
        pacer: Pacer,
        clock: Clock = time.monotonic,
    ) -> None:
        self.integration = integration
        self.settings = settings
        self.tokens = tokens
        self.metrics = metrics
        self.pacer = pacer
        self._http = http
        self._base = settings.api_url.rstrip("/") + f"/{integration}/v1"
        self._clock = clock
        self._slots = asyncio.Semaphore(settings.max_concurrency)

    def __repr__(self) -> str:
        return f"Session({self.integration!r}, {self._base!r})"

    async def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        body: Body | None = None,
        replay: Replay = Replay.ALWAYS,
    ) -> dict[str, Any]:
        """Send one API call with retries; returns the JSON answer (``{}`` when empty)."""
        if json_body is not None:
            raw = json.dumps(json_body, separators=(",", ":")).encode()
            body = Body(len(raw), _once(raw))
        retry = self.settings.retry
        number = 0
        async for attempt in stamina.retry_context(
            on=_retry_hook(replay, retry.max_retry_after),
            attempts=retry.attempts,
            timeout=retry.timeout,
            wait_initial=retry.wait_initial,
            wait_max=retry.wait_max,
            wait_jitter=retry.wait_jitter,
        ):
            number += 1
            with attempt:
                return await self._attempt(method, path, operation, params, body, number > 1)
        raise AssertionError("unreachable: stamina re-raises the last failure")

    async def pages(
        self,
        path: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Follow ``nextPageCursor`` from ``Start``; yields each non-empty page's ``data``."""
        count = min(page_size or self.settings.page_size, 5000)
        async for data, _ in self.cursor_pages(
            path, operation=operation, params=params, count=count
        ):
            if data:
                yield data

    async def cursor_pages(
        self,
        path: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        start: str = "Start",
        count: int,
    ) -> AsyncIterator[tuple[list[dict[str, Any]], str | None]]:
        """``(data, next cursor)`` of each page from ``start`` (``Start``, or a cursor saved
        to resume a read); the next cursor is None on the last page."""
        cursor: str | None = start
        seen: set[str] = set()
        while cursor is not None:
            query = {**(params or {}), "cursor": cursor, "count": count}
            answer = await self.call("GET", path, operation=operation, params=query)
            data = answer.get("data") or []
            following = _next_cursor(answer.get("nextPageCursor")) if data else None
            if following is not None:
                if following in seen:
                    raise ListrakApiError(
                        "the API returned a page cursor it had returned before",
                        method="GET",
                        path=path,
                        operation=operation,
                    )
                seen.add(following)
            yield data, following
            cursor = following

    async def _attempt(
        self,
        method: str,
        path: str,
        operation: str,
        params: Mapping[str, Any] | None,
        body: Body | None,
        is_retry: bool,
    ) -> dict[str, Any]:
        stats = self.metrics.operation(f"{self.integration}.{operation}")
        if is_retry:
            stats.retries += 1
        context = {"method": method, "path": path, "operation": operation}
        refreshes = 0
        while True:
            sent_at = await self.pacer.acquire()
            async with self._slots:
                token = await self.tokens.get()
                headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
                content: AsyncIterator[bytes] | None = None
                if body is not None:
                    headers["Content-Type"] = body.content_type
                    headers["Content-Length"] = str(body.length)
                    content = body.chunks()
                    stats.bytes_sent += body.length
                stats.requests += 1
                started = self._clock()
                try:
                    response = await self._http.request(
                        method,
                        self._base + path,
                        params=dict(params) if params else None,
                        headers=headers,
                        content=content,
                    )
                except httpx2.TransportError as exc:
                    stats.observe(self._clock() - started)
                    stats.errors += 1
                    kind = type(exc).__name__
                    self.metrics.errors_by_code[f"TRANSPORT_{kind}"] += 1
                    log.debug("%s %s %s: no answer (%s)", self.integration, method, path, kind)
                    raise TransportError(
                        f"no answer from Listrak: {kind}",
                        maybe_applied=not isinstance(exc, _NOT_SENT),
                        **context,
                    ) from None
                stats.observe(self._clock() - started)
                stats.bytes_received += len(response.content)
            status = response.status_code
            if status < 400:
                self.pacer.on_success()
                return _json_object(response)
            code, message = _listrak_error(response)
            stats.errors += 1
            self.metrics.errors_by_code[code] += 1
            log.debug("%s %s %s: %s %s", self.integration, method, path, status, code)
            if status == 401 and refreshes < _MAX_REFRESHES_ON_401:
                # The token expired or was revoked early: a refresh, shared with every other
                # request that saw the same token, then replay (a 401 applied nothing).
                self.tokens.invalidate(token)
                self.metrics.token_refreshes_on_401 += 1
                refreshes += 1
                continue
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                self.metrics.rate_limited += 1
                gate = retry_after
                if gate is not None:
                    # A wait longer than we are willing to retry for fails this call, not the
                    # whole integration.
                    gate = min(gate, self.settings.retry.max_retry_after)
                self.pacer.on_rate_limited(gate, sent_at)
                raise RateLimited(
                    message, retry_after=retry_after, code=code, status=status, **context
                )
            self.pacer.on_success()
            raise _error(status, code, message, context)


async def _chunks(raw: bytes) -> AsyncIterator[bytes]:
    yield raw


def _once(raw: bytes) -> Callable[[], AsyncIterator[bytes]]:
    return lambda: _chunks(raw)


def _retry_hook(replay: Replay, max_retry_after: float) -> Callable[[Exception], bool]:
    def retry(exc: Exception) -> bool:
        if isinstance(exc, RateLimited):
            return exc.retry_after is None or exc.retry_after <= max_retry_after
        if isinstance(exc, TransportError | ServerError):
            return replay is Replay.ALWAYS or not exc.maybe_applied
        return False

    return retry


def _json_object(response: httpx2.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    parsed = response.json()
    return parsed if isinstance(parsed, dict) else {"data": parsed}


def _listrak_error(response: httpx2.Response) -> tuple[str, str]:
    """The ``error`` code and ``message`` of Listrak's error body, or stand-ins."""
    fallback = f"HTTP_{response.status_code}", response.reason_phrase or "error"
    try:
        parsed = response.json()
    except ValueError:
        return fallback
    if not isinstance(parsed, dict):
        return fallback
    code = parsed.get("error") or fallback[0]
    message = parsed.get("message") or parsed.get("error_description") or fallback[1]
    return str(code), str(message)


def _error(status: int, code: str, message: str, context: dict[str, str]) -> ListrakError:
    if status in (401, 403):
        return AuthError(message, code=code, status=status, **context)
    if status == 404:
        return NotFound(message, code=code, status=status, **context)
    if status >= 500:
        return ServerError(
            message,
            maybe_applied=status not in _NOT_APPLIED_STATUSES,
            code=code,
            status=status,
            **context,
        )
    return ListrakApiError(message, code=code, status=status, **context)
