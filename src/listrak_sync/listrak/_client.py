"""``ListrakClient``: one async client for the email, SMS and data integrations."""

from __future__ import annotations

import asyncio
import logging
import time
from types import TracebackType

import httpx2

from ._aiohttp import AiohttpTransport
from ._auth import TokenSource
from ._config import ClientSettings, Credentials, PacingPolicy
from ._data import DataApi
from ._email import EmailApi
from ._exceptions import ConfigurationError
from ._metrics import Metrics
from ._pacing import Clock, Pacer, Sleep
from ._privacy import PRIVACY_RATE, PrivacyApi
from ._session import Session
from ._sms import SmsApi

__all__ = ["ListrakClient"]

log = logging.getLogger("listrak_sync.listrak")


def _summary(metrics: Metrics) -> dict[str, object]:
    eventful = (
        metrics.retries
        or metrics.rate_limited
        or metrics.imports_adopted
        or metrics.token_refreshes
    )
    return {
        "eventful": bool(eventful),
        "requests": metrics.requests,
        "retries": metrics.retries,
        "retries_by_reason": dict(metrics.retries_by_reason),
        "rate_limited": metrics.rate_limited,
        "imports_adopted": metrics.imports_adopted,
        "token_refreshes": metrics.token_refreshes,
    }


class _DropDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


# hpack logs encoded HTTP/2 header blocks at DEBUG, bearer tokens included.
for _name in ("hpack", "hpack.hpack", "hpack.table"):
    logging.getLogger(_name).addFilter(_DropDebug())


def _pacing(policy: PacingPolicy, integration: str) -> PacingPolicy:
    """The Privacy API's published limit caps its session unless a lower cap is configured."""
    if integration != "privacy":
        return policy
    cap = min(policy.rate_limit or PRIVACY_RATE, PRIVACY_RATE)
    return policy.model_copy(update={"rate_limit": cap})


class ListrakClient:
    """Async Listrak client. Use as ``async with ListrakClient(email=...) as client:``.

    Each integration (email, sms, data, privacy) has its own credentials, token, concurrency
    limit and pacer; they share one connection pool and one :class:`Metrics`. ``transport``
    replaces the network (an ``httpx2.ASGITransport`` or ``MockTransport`` in tests);
    ``clock`` and ``sleep`` drive pacing waits and import polling, so tests can observe them.
    """

    def __init__(
        self,
        *,
        email: Credentials | None = None,
        sms: Credentials | None = None,
        data: Credentials | None = None,
        privacy: Credentials | None = None,
        settings: ClientSettings | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings or ClientSettings()
        self.metrics = Metrics()
        s = self.settings
        # Every request goes over aiohttp's keep-alive pool (see _aiohttp.py); a test's
        # ``transport`` stands in for the network itself.
        wire = transport or AiohttpTransport(max_connections=3 * s.max_concurrency + 2)
        self._http = httpx2.AsyncClient(
            transport=wire,
            timeout=httpx2.Timeout(s.timeout, connect=s.connect_timeout),
            follow_redirects=False,
            # Proxies from the environment are aiohttp's to use (trust_env there); httpx2 would
            # mount its own proxy transports around ours.
            trust_env=False,
        )
        self._sessions: dict[str, Session] = {}
        for integration, credentials in (
            ("email", email),
            ("sms", sms),
            ("data", data),
            ("privacy", privacy),
        ):
            if credentials is None:
                continue
            tokens = TokenSource(
                integration,
                credentials,
                http=self._http,
                auth_url=s.auth_url,
                margin=s.token_refresh_margin,
                metrics=self.metrics,
                clock=clock,
            )
            self._sessions[integration] = Session(
                integration,
                http=self._http,
                settings=s,
                tokens=tokens,
                metrics=self.metrics,
                pacer=Pacer(_pacing(s.pacing, integration), clock=clock, sleep=sleep),
                clock=clock,
                sleep=sleep,
                # API calls go to the aiohttp wire directly, a test's transport through httpx2.
                wire=wire if isinstance(wire, AiohttpTransport) else None,
            )
        self._email = EmailApi(self._sessions["email"], sleep=sleep) if email else None
        self._sms = SmsApi(self._sessions["sms"], sleep=sleep) if sms else None
        self._data = DataApi(self._sessions["data"]) if data else None
        self._privacy = PrivacyApi(self._sessions["privacy"]) if privacy else None

    def __repr__(self) -> str:
        names = sorted(self._sessions)
        return f"ListrakClient(integrations={names}, api_url={self.settings.api_url!r})"

    @property
    def email(self) -> EmailApi:
        if self._email is None:
            raise ConfigurationError("no email credentials were given to this client")
        return self._email

    @property
    def sms(self) -> SmsApi:
        if self._sms is None:
            raise ConfigurationError("no SMS credentials were given to this client")
        return self._sms

    @property
    def data(self) -> DataApi:
        if self._data is None:
            raise ConfigurationError("no data credentials were given to this client")
        return self._data

    @property
    def privacy(self) -> PrivacyApi:
        if self._privacy is None:
            raise ConfigurationError("no privacy credentials were given to this client")
        return self._privacy

    def session(self, integration: str) -> Session:
        """The request pipeline of one integration (its pacer, token source, settings)."""
        try:
            return self._sessions[integration]
        except KeyError:
            raise ConfigurationError(f"no {integration} credentials were given") from None

    async def aclose(self) -> None:
        """Close the connections, and log the closing summary of the client's requests."""
        await self._http.aclose()
        if self.metrics.requests or self.metrics.token_requests:
            names = "/".join(sorted(self._sessions))
            log.info(
                "Listrak (%s): %s",
                names,
                self.metrics.summary(),
                extra={"kind": "summary", "integration": names, **_summary(self.metrics)},
            )

    async def __aenter__(self) -> ListrakClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
