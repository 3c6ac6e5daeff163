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
from pydantic import SecretStr

from ._config import Credentials
from ._exceptions import AuthError, NotFound, RateLimited, ServerError, TransportError
from ._metrics import Metrics
from ._pacing import Clock
from ._transport import origin, transport_reason

__all__ = ["TOKEN_PATH", "TokenSource"]

log = logging.getLogger("listrak_sync.listrak")

TOKEN_PATH = "/OAuth2/Token"


class TokenSource:
    def __init__(
        self,
        integration: str,
        credentials: Credentials,
        *,
        http: httpx2.AsyncClient,
        auth_url: str,
        margin: float,
        metrics: Metrics,
        clock: Clock = time.monotonic,
    ) -> None:
        self.integration = integration
        self._credentials = credentials
        self._http = http
        self._url = auth_url.rstrip("/") + TOKEN_PATH
        self._margin = margin
        self._metrics = metrics
        self._clock = clock
        self._token: SecretStr | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self._fetched = 0
        self._refused: str | None = None  # why the last refresh was asked for

    @property
    def client_id(self) -> str:
        return self._credentials.client_id

    @property
    def url(self) -> str:
        return self._url

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

    def invalidate(self, token: str, *, why: str = "") -> None:
        """Forget ``token`` if it is still the cached one (a 401 said it no longer works)."""
        if self._token is not None and self._token.get_secret_value() == token:
            self._token = None
            self._refused = why

    def _valid(self) -> str | None:
        if self._token is None or self._clock() >= self._expires_at:
            return None
        return self._token.get_secret_value()

    async def _fetch(self) -> str:
        if self._fetched:
            why = self._refused or "it is about to expire"
            log.info(
                "refreshing the %s integration's token: %s",
                self.integration,
                why,
                extra={"kind": "token_refresh", "integration": self.integration},
            )
        token = await self._request_token()
        if self._fetched:
            self._metrics.token_refreshes += 1
        self._fetched += 1
        self._refused = None
        return token

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
            reason = transport_reason(exc)
            # maybe_applied=False: whatever became of it, the API request that needed this
            # token was not sent, so even a create may be retried.
            raise TransportError(
                f"no answer from {self._url} to the {self.integration} token request: {reason}",
                maybe_applied=False,
                reason=reason,
                url=self._url,
                **context,
            ) from None
        self._metrics.answered.add(origin(self._url))
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
            raise ServerError(message, maybe_applied=False, code=code, status=status, **context)
        if status in (404, 405):
            # Not a refusal of the credentials: nothing that issues tokens lives at this URL.
            raise NotFound(
                f"{self._url} answered {status} {response.reason_phrase}: there is no token "
                "endpoint at this URL; is listrak.auth_url right? (the host only, e.g. "
                "https://auth.listrak.com)",
                code=code,
                status=status,
                **context,
            )
        if self._fetched:
            raise AuthError(
                f"the token endpoint now refuses the {self.integration} credentials "
                f"(client_id {self._credentials.client_id!r}) it accepted earlier in this run: "
                f"{message} (the integration was paused or its secret changed in Listrak)",
                code=code,
                status=status,
                **context,
            )
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
    message = body.get("error_description") or body.get("message") or response.reason_phrase
    return str(code), str(message)
