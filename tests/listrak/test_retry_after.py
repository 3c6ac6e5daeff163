"""Retry-After semantics, observed on a fake clock through the injectable transport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx2
import pytest

from listrak_sync.listrak import ClientSettings, Credentials, ListrakClient
from listrak_sync.listrak._session import parse_retry_after

from .conftest import FAST_RETRY
from .test_pacing import FakeTime


def _listrak(
    answers: list[httpx2.Response], sent: list[float], time: FakeTime
) -> httpx2.MockTransport:
    def handle(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/OAuth2/Token":
            return httpx2.Response(200, json={"access_token": "tok", "expires_in": 3600})
        sent.append(time.now)
        return answers.pop(0)

    return httpx2.MockTransport(handle)


def _client(transport: httpx2.MockTransport, time: FakeTime) -> ListrakClient:
    return ListrakClient(
        email=Credentials(client_id="id", client_secret="s3cret"),  # type: ignore[arg-type]
        settings=ClientSettings(retry=FAST_RETRY),
        transport=transport,
        clock=time.clock,
        sleep=time.sleep,
    )


def _too_many(retry_after: str) -> httpx2.Response:
    body = {"status": 429, "error": "ERROR_TOO_MANY_REQUESTS", "message": "slow down"}
    return httpx2.Response(429, json=body, headers={"Retry-After": retry_after})


async def test_retry_waits_for_retry_after_seconds() -> None:
    time, sent = FakeTime(), []
    answers = [_too_many("7"), httpx2.Response(200, json={"status": 200, "data": []})]
    async with _client(_listrak(answers, sent, time), time) as client:
        assert await client.email.lists() == []
    assert sent[1] - sent[0] >= 7
    assert 7.0 in [round(s, 6) for s in time.sleeps]
    assert client.metrics.retries == 1


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30)
    assert parse_retry_after("12") == 12
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
