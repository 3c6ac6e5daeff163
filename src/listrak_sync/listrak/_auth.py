"""OAuth2 client-credentials tokens: fetched lazily, cached, refreshed once for everyone.

One :class:`TokenSource` per integration. Concurrent requests that find no valid token wait on
one lock, and only the first fetches; the rest reuse its answer. ``invalidate`` drops a token
only if it is still the cached one, so fifty requests that all got a 401 with the same stale
token cause one refresh, not fifty.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx2
import stamina
from pydantic import SecretStr

from ._config import Credentials, RetryPolicy
from ._exceptions import AuthError, RateLimited, ServerError, TransportError
from ._metrics import Metrics
from ._pacing import Clock

__all__ = ["TOKEN_PATH", "TokenSource"]

log = logging.getLogger("listrak_sync.listrak")

TOKEN_PATH = "/OAuth2/Token"


def _retryable(exc: Exception) -> bool:
    # A token request changes nothing on the server, so any failure without an answer, a 429
    # and any 5xx can be tried again.
    return isinstance(exc, TransportError | RateLimited | ServerError)


class TokenSource:
    def __init__(
        self,
        integration: str,
        credentials: Credentials,
        *,
        http: httpx2.AsyncClient,
        auth_url: str,
        margin: float,
        retry: RetryPolicy,
        metrics: Metrics,
        clock: Clock = time.monotonic,
    ) -> None:
        self.integration = integration
        self._credentials = credentials
        self._http = http
        self._url = auth_url.rstrip("/") + TOKEN_PATH
        self._margin = margin
        self._retry = retry
        self._metrics = metrics
        self._clock = clock
        self._token: SecretStr | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"TokenSource({self.integration!r}, client_id={self._credentials.client_id!r})"

    async def get(self) -> str:
        """A valid access token, fetching one if none is cached or it is about to expire."""
        token = self._valid()
        if token is not None:
            return token
        async with self._lock:
            token = self._valid()
            if token is not None:
                return token
            return await self._fetch()

    def invalidate(self, token: str) -> None:
        """Forget ``token`` if it is still the cached one (a 401 said it no longer works)."""
        if self._token is not None and self._token.get_secret_value() == token:
            self._token = None

    def _valid(self) -> str | None:
        if self._token is None or self._clock() >= self._expires_at:
            return None
        return self._token.get_secret_value()

    async def _fetch(self) -> str:
        async for attempt in stamina.retry_context(
            on=_retryable,
            attempts=self._retry.attempts,
            timeout=self._retry.timeout,
            wait_initial=self._retry.wait_initial,
            wait_max=self._retry.wait_max,
            wait_jitter=self._retry.wait_jitter,
        ):
            with attempt:
                return await self._request_token()
        raise AssertionError("unreachable: stamina re-raises the last failure")

    async def _request_token(self) -> str:
        context: dict[str, Any] = {
            "method": "POST",
            "path": TOKEN_PATH,
            "operation": "OAuth2_Token",
        }
        self._metrics.token_requests += 1
        started = self._clock()
        try:
            response = await self._http.post(
                self._url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._credentials.client_id,
                    "client_secret": self._credentials.client_secret.get_secret_value(),
                },
            )
        except httpx2.TransportError as exc:
            self._metrics.errors_by_code[f"TRANSPORT_{type(exc).__name__}"] += 1
            raise TransportError(
                f"token request for the {self.integration} integration failed: "
                f"{type(exc).__name__}",
                maybe_applied=True,
                **context,
            ) from None
        status = response.status_code
        if status == 200:
            body = response.json()
            token = str(body["access_token"])
            expires_in = float(body.get("expires_in") or 0)
            # Refresh early, but never use up more than half the lifetime on the margin.
            margin = min(self._margin, expires_in / 2)
            self._token = SecretStr(token)
            self._expires_at = started + expires_in - margin
            log.debug("got a token for %s, valid %.0f s", self.integration, expires_in)
            return token
        code, message = _oauth_error(response)
        self._metrics.errors_by_code[code] += 1
        if status == 429:
            raise RateLimited(message, code=code, status=status, **context)
        if status >= 500:
            raise ServerError(message, code=code, status=status, **context)
        raise AuthError(
            f"the token endpoint refused the {self.integration} credentials "
            f"(client_id {self._credentials.client_id!r}): {message}",
            code=code,
            status=status,
            **context,
        )


def _oauth_error(response: httpx2.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP_{response.status_code}", response.reason_phrase
    if not isinstance(body, dict):
        return f"HTTP_{response.status_code}", response.reason_phrase
    code = body.get("error") or f"HTTP_{response.status_code}"
    # Real Listrak answers 400 {"error": "Invalid Credentials"}: the code is the only text.
    message = (
        body.get("error_description")
        or body.get("message")
        or body.get("error")
        or response.reason_phrase
    )
    return str(code), str(message)
