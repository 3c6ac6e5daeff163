"""Fixtures: Listrak clients pointed at the test emulator, with fast retries and observed sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from listrak_sync.listrak import ClientSettings, Credentials, ListrakClient, RetryPolicy
from tests.conftest import DATA_CLIENT, EMAIL_CLIENT, SMS_CLIENT, Emulator

FAST_RETRY = RetryPolicy(
    attempts=10, timeout=60, wait_initial=0.01, wait_max=0.05, wait_jitter=0.01
)


def credentials(pair: tuple[str, str]) -> Credentials:
    return Credentials(client_id=pair[0], client_secret=pair[1])  # type: ignore[arg-type]


class RecordingSleep:
    """``asyncio.sleep`` that remembers every wait it was asked for."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(seconds)


MakeClient = Callable[..., ListrakClient]


@pytest.fixture
async def make_client(emulator: Emulator) -> AsyncIterator[MakeClient]:
    """Build clients for the emulator; ``settings`` changes go through ``for_base_url``."""
    made: list[ListrakClient] = []

    def make(
        *,
        email: Credentials | None = None,
        sms: Credentials | None = None,
        data: Credentials | None = None,
        sleep: Any = None,
        clock: Any = None,
        **changes: Any,
    ) -> ListrakClient:
        changes.setdefault("retry", FAST_RETRY)
        changes.setdefault("import_poll_interval", 0.02)
        changes.setdefault("import_poll_max_interval", 0.1)
        extra: dict[str, Any] = {}
        if sleep is not None:
            extra["sleep"] = sleep
        if clock is not None:
            extra["clock"] = clock
        if email is None and sms is None and data is None:
            email, sms = credentials(EMAIL_CLIENT), credentials(SMS_CLIENT)
            data = credentials(DATA_CLIENT)
        client = ListrakClient(
            email=email,
            sms=sms,
            data=data,
            settings=ClientSettings.for_base_url(emulator.base_url, **changes),
            **extra,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
