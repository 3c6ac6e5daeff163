"""Tokens against the emulator: lazy, cached, shared under concurrency, refreshed on 401."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from listrak_sync.listrak import AuthError, ClientSettings, Credentials, ListrakClient
from tests.conftest import EMAIL_CLIENT, Emulator

from .conftest import FAST_RETRY, MakeClient, credentials


async def test_token_is_fetched_lazily_and_once_for_concurrent_calls(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(email=credentials(EMAIL_CLIENT))
    assert emulator.admin.requests() == {}
    await asyncio.gather(*(client.email.lists() for _ in range(20)))
    counts = emulator.admin.requests()
    assert counts["OAuth2_Token"] == 1
    assert counts["List_GetListCollection"] == 20
    assert client.metrics.token_requests == 1


async def test_expired_tokens_mid_run_are_refreshed_once_and_calls_replayed(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(email=credentials(EMAIL_CLIENT))
    await client.email.lists()
    assert emulator.admin.expire_tokens(EMAIL_CLIENT[0]) == 1
    results = await asyncio.gather(*(client.email.lists() for _ in range(30)))
    assert len(results) == 30
    counts = emulator.admin.requests()
    assert counts["OAuth2_Token"] == 2  # one refresh shared by every request that saw a 401
    assert client.metrics.token_refreshes_on_401 >= 1
    assert client.metrics.retries == 0  # a 401 replay is not a retry


async def test_token_is_renewed_shortly_before_it_expires(
    emulator: Emulator, make_client: MakeClient
) -> None:
    emulator.admin.set_client(EMAIL_CLIENT[0], token_ttl=100)
    now = [1000.0]
    client = make_client(
        email=credentials(EMAIL_CLIENT), clock=lambda: now[0], token_refresh_margin=10
    )
    await client.email.lists()
    now[0] += 88  # still more than the margin left (Listrak gives 99 s of the 100)
    await client.email.lists()
    assert emulator.admin.requests()["OAuth2_Token"] == 1
    now[0] += 2  # inside the margin: renewed before Listrak would refuse it
    await client.email.lists()
    assert emulator.admin.requests()["OAuth2_Token"] == 2
    assert client.metrics.token_refreshes_on_401 == 0


async def test_wrong_secret_is_an_auth_error_and_not_retried(
    emulator: Emulator, make_client: MakeClient
) -> None:
    wrong = Credentials(client_id=EMAIL_CLIENT[0], client_secret="not-the-secret")  # type: ignore[arg-type]
    client = make_client(email=wrong)
    with pytest.raises(AuthError) as caught:
        await client.email.lists()
    # Recorded: 400 {"error": "Invalid Credentials"}; the error names the credential, not the
    # secret.
    assert caught.value.code == "Invalid Credentials"
    assert caught.value.status == 400
    assert "test-email" in str(caught.value)
    assert "Invalid Credentials" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)
    assert emulator.admin.requests()["OAuth2_Token"] == 1


async def test_paused_integration_fails_with_auth_error_after_one_refresh(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(email=credentials(EMAIL_CLIENT))
    await client.email.lists()
    emulator.admin.set_client(EMAIL_CLIENT[0], paused=True)
    with pytest.raises(AuthError) as caught:
        await client.email.lists()
    assert caught.value.code == "invalid_client"  # the refresh itself was refused
    assert client.metrics.errors_by_code["ERROR_UNAUTHORIZED"] == 1
    assert client.metrics.token_refreshes_on_401 == 1


class _ExpireFreshTokens(httpx2.AsyncBaseTransport):
    """Expires the next ``times`` tokens the moment the emulator issues them."""

    def __init__(self, emulator: Emulator, times: int) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._emulator = emulator
        self.times = times

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        if request.url.path == "/OAuth2/Token" and self.times > 0:
            self.times -= 1
            await asyncio.to_thread(self._emulator.admin.expire_tokens, EMAIL_CLIENT[0])
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_token_revoked_again_right_after_its_refresh_is_refreshed_once_more(
    emulator: Emulator,
) -> None:
    transport = _ExpireFreshTokens(emulator, times=2)
    settings = ClientSettings.for_base_url(emulator.base_url, retry=FAST_RETRY)
    async with ListrakClient(
        email=credentials(EMAIL_CLIENT), settings=settings, transport=transport
    ) as client:
        assert await client.email.lists() == []
        assert client.metrics.token_refreshes_on_401 == 2


async def test_fresh_tokens_refused_three_times_are_an_auth_error(emulator: Emulator) -> None:
    transport = _ExpireFreshTokens(emulator, times=3)
    settings = ClientSettings.for_base_url(emulator.base_url, retry=FAST_RETRY)
    async with ListrakClient(
        email=credentials(EMAIL_CLIENT), settings=settings, transport=transport
    ) as client:
        with pytest.raises(AuthError) as caught:
            await client.email.lists()
        assert caught.value.code == "ERROR_UNAUTHORIZED"
        assert client.metrics.token_refreshes_on_401 == 2
