"""One integration's request pipeline: pacing, concurrency limit, token, retries, errors, metrics.

Every API call goes through :meth:`Session.call`, the client's one retry loop. One attempt is:
wait for the pacer, take a concurrency slot, get the bearer token, send, and turn the answer into
JSON or a typed error. A 401 drops the token and replays the request with a fresh one (a refused
token means nothing was applied), at most twice per attempt: a token can be revoked again between
its refresh and the replay, but a fresh token refused a third time means the integration is
refused. The loop repeats attempts that failed transiently, within the call's :class:`Replay`
class and the :class:`RetryPolicy`; a failed token request is one of those failures, retried by
the same loop (never by a loop of its own). Each retry logs one line saying what, when, why and
which attempt, with personal data masked.

A create that may have been applied (its answer was lost) can be given a ``reconcile`` lookup:
after the wait, the loop asks it whether the first attempt took effect and returns what it found
instead of sending the request again; only if it found nothing is the request re-sent. List
imports start this way, so they back off and last exactly as long as every other call, and a
file is never imported twice.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from yarl import URL

from ..masking import mask_text
from ._aiohttp import AiohttpTransport, Answer
from ._auth import TOKEN_PATH, TokenSource
from ._config import ClientSettings
from ._exceptions import (
    AuthError,
    ListrakApiError,
    ListrakError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    Unreachable,
)
from ._metrics import Metrics
from ._pacing import Clock, Pacer, Sleep
from ._transport import CONNECT_FAILURES, origin, transport_reason

__all__ = ["Body", "Reconcile", "Replay", "Session", "parse_retry_after"]

log = logging.getLogger("listrak_sync.listrak")

# Parsed URLs kept per session (see Session._url).
_URL_CACHE_SIZE = 64
# Merged header lists kept per session: a few methods and body kinds per token (Session._headers).
_HEADER_CACHE_SIZE = 16
# Hop-by-hop and framing headers aiohttp writes itself (see _aiohttp._DROPPED).
_FRAMING = frozenset({"host", "connection", "transfer-encoding", "content-length"})

# Refreshes per attempt on 401 before the refusal is taken as final (see the module doc).
_MAX_REFRESHES_ON_401 = 2

# httpx raises these before a single byte of the request left: always safe to send again.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
# Gateways answer these without reaching the API; 500 and 504 may come after it did work.
_NOT_APPLIED_STATUSES = frozenset({502, 503})

Reconcile = Callable[[], Awaitable[dict[str, Any] | None]]
"""Looks for the effect of a create whose answer was lost: the answer to return, or None."""


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
    """A request body that can be produced again for a retry, streamed in chunks, or held
    whole (``data``: a JSON body, sent as one buffer)."""

    length: int
    chunks: Callable[[], AsyncIterator[bytes]]
    content_type: str = "application/json"
    data: bytes | None = None


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
        sleep: Sleep = asyncio.sleep,
        wire: AiohttpTransport | None = None,
    ) -> None:
        """``wire`` is ``http``'s own transport when it is the client's aiohttp one: API calls
        then go to it directly (see ``_aiohttp``'s module doc); without it they go through
        ``http``."""
        self.integration = integration
        self.settings = settings
        self.tokens = tokens
        self.metrics = metrics
        self.pacer = pacer
        self._http = http
        self._prefix = f"/{integration}/v1"
        self._base = settings.api_url.rstrip("/") + self._prefix
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        self._urls: dict[str, httpx2.URL] = {}
        self._origin = origin(self._base)
        self._wire = wire
        self._wire_urls: dict[str, URL] = {}
        self._wire_timeout = wire.timeout(http.timeout.as_dict()) if wire is not None else None
        self._header_lists: dict[tuple[str, str, str | None], list[tuple[str, str]]] = {}

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
        reconcile: Reconcile | None = None,
    ) -> dict[str, Any]:
        """Send one API call with retries; returns the JSON answer (``{}`` when empty).

        ``reconcile`` (with ``Replay.IF_NOT_APPLIED``) makes a failure that may have been
        applied retryable: before sending again, the loop asks it for the effect of the lost
        attempt (see the module doc)."""
        if json_body is not None:
            raw = json.dumps(json_body, separators=(",", ":")).encode()
            body = Body(len(raw), _once(raw), data=raw)
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(method, path, operation, params, body, attempt > 1)
            except ListrakError as exc:
                failure = exc
            wait = self._retry_wait(failure, replay, reconcile, attempt, started)
            await self._sleep(wait)
            if reconcile is not None and getattr(failure, "maybe_applied", False):
                found = await reconcile()
                if found is not None:
                    self.metrics.imports_adopted += 1
                    log.info(
                        "%s %s: the lost attempt was applied after all; adopting it, not "
                        "sending it again",
                        method,
                        mask_text(self._prefix + path),
                        extra={"kind": "adopted", "method": method, "operation": operation},
                    )
                    return found

    def _retry_wait(
        self,
        exc: ListrakError,
        replay: Replay,
        reconcile: Reconcile | None,
        attempt: int,
        started: float,
    ) -> float:
        """Seconds to wait before attempt ``attempt + 1``, after logging the retry line; raises
        ``exc`` (or :class:`Unreachable`) when the call should not be tried again."""
        policy = self.settings.retry
        if not _retryable(exc, replay, reconcile is not None, policy.max_retry_after):
            raise exc
        elapsed = self._clock() - started
        wait = min(policy.wait_max, policy.wait_initial * 2.0 ** (attempt - 1))
        wait += random.uniform(0, policy.wait_jitter) if policy.wait_jitter else 0.0
        if isinstance(exc, RateLimited):
            # The pacer holds the integration until Retry-After (or the blind pause) has passed.
            wait = max(wait, self.pacer.resume_at - self._clock())
        if self._never_answered(exc) and (
            attempt >= policy.attempts or elapsed + wait > policy.first_contact_timeout
        ):
            # More likely not started or a wrong URL than an outage: fail fast and say so.
            assert isinstance(exc, TransportError)
            raise self._unreachable(exc, exc.url or self._base, attempt, elapsed) from None
        if attempt >= policy.attempts or (policy.timeout is not None and elapsed >= policy.timeout):
            raise exc
        if policy.timeout is not None:
            wait = min(wait, policy.timeout - elapsed)
        reason = retry_reason(exc)
        self.metrics.retries_by_reason[reason] += 1
        log.info(
            "retrying %s %s in %.1f s: %s (attempt %d of %d)",
            exc.method,
            mask_text(exc.path or ""),
            wait,
            reason,
            attempt + 1,
            policy.attempts,
            extra={
                "kind": "retry",
                "integration": self.integration,
                "method": exc.method,
                "operation": exc.operation,
                "reason": reason,
                "wait": round(wait, 3),
                "attempt": attempt + 1,
                "attempts": policy.attempts,
            },
        )
        return wait

    def _never_answered(self, exc: ListrakError) -> bool:
        """No connection could be made to a URL that never answered in this process."""
        return (
            isinstance(exc, TransportError)
            and exc.reason in CONNECT_FAILURES
            and origin(exc.url or self._base) not in self.metrics.answered
        )

    def _unreachable(
        self, exc: TransportError, url: str, attempts: int, elapsed: float
    ) -> Unreachable:
        setting = "listrak.auth_url" if exc.path == TOKEN_PATH else "listrak.api_url"
        return Unreachable(
            f"cannot reach {url}: {exc.reason} ({attempts} attempts in {elapsed:.1f} s); is the "
            f"emulator (or the network to Listrak) up? is {setting} right?",
            maybe_applied=False,
            reason=exc.reason,
            url=url,
            method=exc.method,
            path=exc.path,
            operation=exc.operation,
        )

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
                        path=self._prefix + path,
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
        full_path = self._prefix + path
        context = {"method": method, "path": full_path, "operation": operation}
        refreshes = 0
        while True:
            async with self._slots:
                # The pacer's turn is taken inside the slot, right before sending: a turn taken
                # while queueing for a slot would let a queue of requests burst out together,
                # unpaced, after a 429 had cut the rate.
                sent_at = await self.pacer.acquire()
                token = await self.tokens.get()
                if body is not None:
                    stats.bytes_sent += body.length
                stats.requests += 1
                started = self._clock()
                try:
                    answer = await self._send(method, path, params, token, body)
                except httpx2.TransportError as exc:
                    stats.observe(self._clock() - started)
                    stats.errors += 1
                    kind = type(exc).__name__
                    self.metrics.errors_by_code[f"TRANSPORT_{kind}"] += 1
                    reason = transport_reason(exc)
                    log.debug("%s %s: no answer (%s)", method, mask_text(full_path), kind)
                    raise TransportError(
                        f"no answer from Listrak: {reason}",
                        maybe_applied=not isinstance(exc, _NOT_SENT),
                        reason=reason,
                        url=self._base + path,
                        **context,
                    ) from None
                self.metrics.answered.add(self._origin)
                stats.observe(self._clock() - started)
                stats.bytes_received += len(answer.content)
            status = answer.status
            if status < 400:
                self.pacer.on_success()
                return _json_object(answer)
            code, message = _listrak_error(answer)
            stats.errors += 1
            self.metrics.errors_by_code[code] += 1
            log.debug("%s %s: %s %s", method, mask_text(full_path), status, code)
            if status == 401 and refreshes < _MAX_REFRESHES_ON_401:
                # The token expired or was revoked early: a refresh, shared with every other
                # request that saw the same token, then replay (a 401 applied nothing).
                self.tokens.invalidate(token, why=f"401 {code} on {method} {mask_text(full_path)}")
                self.metrics.token_refreshes_on_401 += 1
                refreshes += 1
                continue
            if status == 429:
                retry_after = parse_retry_after(answer.headers.get("Retry-After"))
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
            if status == 401:
                raise self._refused(code, message, context)
            raise _error(status, code, message, context)

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        token: str,
        body: Body | None,
    ) -> Answer:
        """One exchange: straight over the client's aiohttp wire, else through httpx2.

        Both send the same bytes: the wire's headers are the ones httpx2 would merge (its
        defaults, then this call's), built by httpx2 once per token, method and body kind.
        Cookies (recorded Listrak traffic has none; a gateway might set one) are httpx2's to
        keep: once its jar holds any, calls go through httpx2, which sends them back."""
        content: AsyncIterator[bytes] | bytes | None = None
        if body is not None:
            # Whole bytes go as one buffer, without an async iteration per request.
            content = body.data if body.data is not None else body.chunks()
        wire = self._wire
        if wire is None or self._wire_timeout is None or self._http.cookies:
            response = await self._http.request(
                method,
                self._url(path) if not params else self._base + path,
                params=dict(params) if params else None,
                headers=self._own_headers(token, body),
                content=content,
            )
            return Answer.of(response)
        url = self._wire_url(path, params)
        headers = self._headers(method, token, body)
        if body is not None:
            headers = [*headers, ("Content-Length", str(body.length))]
        answer = await wire.exchange(method, url, headers, content, self._wire_timeout)
        if "set-cookie" in answer.headers:
            request = httpx2.Request(method, str(url))
            self._http.cookies.extract_cookies(answer.response(request))
            return answer.decoded(request)
        return answer.decoded()

    @staticmethod
    def _own_headers(token: str, body: Body | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = body.content_type
            if body.data is None:
                headers["Content-Length"] = str(body.length)
        return headers

    def _headers(self, method: str, token: str, body: Body | None) -> list[tuple[str, str]]:
        """The headers httpx2 would send with this call, but for ``Host``, ``Connection`` and
        the body's framing (aiohttp's to write); a call without a body keeps httpx2's
        ``Content-Length: 0`` (POST, PUT, PATCH). Merged once per token, method and body kind:
        merging them per request (httpx2's ``build_request``) cost more than a third of a
        request's CPU."""
        content_type = body.content_type if body is not None else None
        key = (method, token, content_type)
        found = self._header_lists.get(key)
        if found is None:
            if len(self._header_lists) >= _HEADER_CACHE_SIZE:
                self._header_lists.clear()
            own = self._own_headers(token, body)
            own.pop("Content-Length", None)
            sample = self._http.build_request(method, self._base, headers=own)
            found = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in sample.headers.raw
                if name.decode("latin-1").lower() not in _FRAMING
                or (body is None and name.lower() == b"content-length")
            ]
            self._header_lists[key] = found
        return found

    def _wire_url(self, path: str, params: Mapping[str, Any] | None) -> URL:
        """The URL httpx2 would send to (its parsing and normalising, then aiohttp's)."""
        if params:
            return URL(str(httpx2.URL(self._base + path, params=dict(params))))
        url = self._wire_urls.get(path)
        if url is None:
            if len(self._wire_urls) >= _URL_CACHE_SIZE:
                self._wire_urls.clear()
            url = self._wire_urls[path] = URL(str(self._url(path)))
        return url

    def _url(self, path: str) -> httpx2.URL:
        """The parsed URL of ``path``: calls to a fixed path (Create Contact on one list, an
        import's status) reuse it instead of having httpx2 parse the same string per request.
        Paths with a phone number or an email in them are each used about once: when the cache
        is full it starts over, so a hot path is back in it after one parse."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            url = self._urls[path] = httpx2.URL(self._base + path)
        return url

    def _refused(self, code: str, message: str, context: dict[str, str]) -> AuthError:
        """The API refused fresh tokens of credentials the token endpoint accepts."""
        expected = {"email": "an Email", "sms": "an SMS", "data": "a Data"}.get(
            self.integration, f"a {self.integration}"
        )
        return AuthError(
            f"{message} The {self.integration} API refuses the tokens of client_id "
            f"{self.tokens.client_id!r} although the token endpoint accepts its credentials: "
            f"the credential belongs to another kind of integration (an email integration's "
            f"credential given to an SMS destination, say) or lacks access to this area. Give "
            f"this destination the credential of {expected} integration.",
            code=code,
            status=401,
            **context,
        )


async def _chunks(raw: bytes) -> AsyncIterator[bytes]:
    yield raw


def _once(raw: bytes) -> Callable[[], AsyncIterator[bytes]]:
    return lambda: _chunks(raw)


def _retryable(
    exc: ListrakError, replay: Replay, reconcilable: bool, max_retry_after: float
) -> bool:
    if isinstance(exc, RateLimited):
        return exc.retry_after is None or exc.retry_after <= max_retry_after
    if isinstance(exc, TransportError | ServerError):
        return replay is Replay.ALWAYS or not exc.maybe_applied or reconcilable
    return False


def retry_reason(exc: ListrakError) -> str:
    """Why a call is retried, in a few words (the key of ``Metrics.retries_by_reason``)."""
    if isinstance(exc, RateLimited):
        return "429 rate limited"
    if isinstance(exc, TransportError):
        return exc.reason
    if exc.status is not None:
        return f"HTTP {exc.status}"
    return type(exc).__name__


def _json_object(answer: Answer) -> dict[str, Any]:
    if not answer.content:
        return {}
    parsed = json.loads(answer.content)
    return parsed if isinstance(parsed, dict) else {"data": parsed}


def _listrak_error(answer: Answer) -> tuple[str, str]:
    """The ``error`` code and ``message`` of Listrak's error body, or stand-ins."""
    fallback = f"HTTP_{answer.status}", answer.reason or "error"
    try:
        parsed = json.loads(answer.content)
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
