"""Retries against the emulator's faults: 5xx bursts, dropped connections, 429 storms."""

from __future__ import annotations

import asyncio

import pytest

from listrak_sync.listrak import EmailList, RateLimited, ServerError, TransportError
from tests.conftest import EMAIL_CLIENT, Emulator

from .conftest import MakeClient, RecordingSleep, credentials


def _list_names(emulator: Emulator) -> list[str]:
    with emulator.http() as http:
        return [item["listName"] for item in http.get("/email/v1/List").json()["data"]]


async def test_5xx_burst_on_reads_is_retried(emulator: Emulator, make_client: MakeClient) -> None:
    client = make_client(email=credentials(EMAIL_CLIENT))
    emulator.admin.add_fault(path="/email/v1/List$", fail_next=4, error_status=500)
    assert await client.email.lists() == []
    stats = client.metrics.operations["email.List_GetListCollection"]
    assert (stats.requests, stats.retries, stats.errors) == (5, 4, 4)
    assert client.metrics.errors_by_code["ERROR_UNHANDLED_EXCEPTION"] == 4
    snapshot = client.metrics.snapshot()
    assert snapshot["requests"] == 5
    assert snapshot["operations"]["email.List_GetListCollection"]["latency_p50"] is not None
    assert snapshot["bytes_received"] > 0
    assert snapshot["token_requests"] == 1


async def test_503_on_a_create_is_retried_and_applied_once(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(email=credentials(EMAIL_CLIENT))
    emulator.admin.add_fault(method="POST", path="/List$", fail_next=3, error_status=503)
    list_id = await client.email.create_list(EmailList(list_name="Spring"))
    assert _list_names(emulator) == ["Spring"]
    assert (await client.email.get_list(list_id)).list_name == "Spring"


async def test_500_on_a_create_is_not_replayed(emulator: Emulator, make_client: MakeClient) -> None:
    # A 500 may come after the API did the work; sending a create again could make two lists.
    client = make_client(email=credentials(EMAIL_CLIENT))
    emulator.admin.add_fault(method="POST", path="/List$", fail_next=1, error_status=500)
    with pytest.raises(ServerError) as caught:
        await client.email.create_list(EmailList(list_name="Spring"))
    assert caught.value.maybe_applied
    assert client.metrics.operations["email.List_PostListResource"].requests == 1


async def test_dropped_connections_on_reads_are_retried(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(email=credentials(EMAIL_CLIENT))
    emulator.admin.add_fault(method="GET", path="/List$", drop_next=3)
    assert await client.email.lists() == []
    assert client.metrics.retries == 3
    assert sum(v for k, v in client.metrics.errors_by_code.items() if k.startswith("TRANSPORT_"))


async def test_dropped_answer_after_a_create_is_not_applied_twice(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(email=credentials(EMAIL_CLIENT))
    emulator.admin.add_fault(method="POST", path="/List$", drop_next=1, drop_after_apply=True)
    with pytest.raises(TransportError) as caught:
        await client.email.create_list(EmailList(list_name="Spring"))
    assert caught.value.maybe_applied
    assert _list_names(emulator) == ["Spring"]  # applied once, never replayed blindly


async def test_puts_are_retried_after_a_dropped_answer(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(email=credentials(EMAIL_CLIENT))
    list_id = await client.email.create_list(EmailList(list_name="Spring"))
    emulator.admin.add_fault(method="PUT", drop_next=2, drop_after_apply=True)
    await client.email.update_list(EmailList(list_id=list_id, list_name="Summer"))
    assert _list_names(emulator) == ["Summer"]


async def test_429_storm_slows_down_honours_retry_after_and_finishes(
    emulator: Emulator, make_client: MakeClient, realism: str
) -> None:
    sleep = RecordingSleep()
    client = make_client(email=credentials(EMAIL_CLIENT), sleep=sleep, max_concurrency=10)
    emulator.admin.add_fault(client_id=EMAIL_CLIENT[0], rate_per_second=40, burst=5)
    results = await asyncio.gather(*(client.email.lists() for _ in range(80)))
    assert len(results) == 80
    assert emulator.admin.requests()["List_GetListCollection"] == 80  # each answered once
    metrics = client.metrics
    assert metrics.rate_limited > 0
    pacer = client.session("email").pacer
    assert pacer.decreases >= 1
    if realism == "realistic":
        # Real Listrak's 429 carries no code and no Retry-After: backoff and pacing, blind.
        assert metrics.errors_by_code["HTTP_429"] == metrics.rate_limited
        return
    assert metrics.errors_by_code["ERROR_TOO_MANY_REQUESTS"] == metrics.rate_limited
    # The emulator answers Retry-After: 1; the whole integration waited for it.
    assert max(sleep.calls) >= 0.9


async def test_retry_after_longer_than_allowed_is_raised_not_waited(
    emulator: Emulator, make_client: MakeClient, realism: str
) -> None:
    from listrak_sync.listrak import RetryPolicy

    if realism == "realistic":
        pytest.skip("needs a Retry-After, which only the strict emulator sends")

    client = make_client(
        email=credentials(EMAIL_CLIENT),
        retry=RetryPolicy(attempts=5, wait_initial=0.01, wait_max=0.01, max_retry_after=5),
    )
    # Retry-After will be 20 s: more than the 5 s this client agrees to wait.
    emulator.admin.add_fault(client_id=EMAIL_CLIENT[0], rate_per_second=0.05, burst=1)
    await client.email.lists()
    with pytest.raises(RateLimited) as caught:
        await client.email.lists()
    assert caught.value.code == "ERROR_TOO_MANY_REQUESTS"
    assert caught.value.retry_after == 20
    assert client.metrics.operations["email.List_GetListCollection"].requests == 2
