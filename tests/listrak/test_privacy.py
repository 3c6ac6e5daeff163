"""The Privacy API client: forget requests and their status, within the published rate limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from listrak_sync.emulator.server import EmulatorServer
from listrak_sync.emulator.state import EmulatorState
from listrak_sync.listrak import ClientSettings, ListrakApiError, ListrakClient
from tests.conftest import PRIVACY_CLIENT
from tests.listrak.conftest import credentials


class SharedTime:
    """One fake clock for the emulator and the client; it moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def time() -> SharedTime:
    return SharedTime()


@pytest.fixture
def server(time: SharedTime) -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorState(clock=time.clock)) as running:
        running.seed(
            {
                "clients": [
                    {
                        "client_id": PRIVACY_CLIENT[0],
                        "client_secret": PRIVACY_CLIENT[1],
                        "integration": "privacy",
                    }
                ],
                "privacy": {"processingSeconds": 30},
            }
        )
        yield running


def _client(server: EmulatorServer, time: SharedTime) -> ListrakClient:
    return ListrakClient(
        privacy=credentials(PRIVACY_CLIENT),
        settings=ClientSettings.for_base_url(server.base_url),
        clock=time.clock,
        sleep=time.sleep,
    )


async def test_many_calls_stay_within_the_published_limits_without_configuration(
    server: EmulatorServer, time: SharedTime
) -> None:
    async with _client(server, time) as client:
        request_id = await client.privacy.forget(email_address="ada@example.com")
        statuses = [await client.privacy.forget_status(request_id) for _ in range(70)]
    assert statuses[0].status == "PROCESSING"
    assert statuses[-1].complete
    assert statuses[-1].processed_date is not None
    # Not one 429: the client paced itself at the published rate from the first request.
    assert client.metrics.rate_limited == 0
    assert server.state.request_counts["Forget_GetForgetRequest"] == 70
    assert sum(time.sleeps) >= 69 * 0.99


async def test_a_malformed_address_is_refused_with_listraks_error(
    server: EmulatorServer, time: SharedTime
) -> None:
    async with _client(server, time) as client:
        with pytest.raises(ListrakApiError) as caught:
            await client.privacy.forget(email_address="not-an-address")
    assert caught.value.status == 400
    assert caught.value.code == "ERROR_INVALID_PARAMETER"
