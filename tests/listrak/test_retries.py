"""The one retry loop: first contact fails fast, wrong URLs and credentials are named, list
imports outlast a burst without being started twice, and each retry is one masked log line."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from listrak_sync.listrak import (
    AuthError,
    ClientSettings,
    EmailList,
    ImportColumn,
    ListrakClient,
    NotFound,
    RetryPolicy,
    ServerError,
    Unreachable,
)
from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator

from .conftest import FAST_RETRY, MakeClient, RecordingSleep, credentials
from .test_pacing import FakeTime

LOGGER = "listrak_sync.listrak"


def _closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying ")]


async def test_nothing_listening_fails_within_the_first_contact_budget_naming_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    time = FakeTime()
    url = f"http://127.0.0.1:{_closed_port()}"
    async with ListrakClient(
        email=credentials(EMAIL_CLIENT),
        settings=ClientSettings.for_base_url(url),  # the production retry policy
        clock=time.clock,
        sleep=time.sleep,
    ) as client:
        with pytest.raises(Unreachable) as caught:
            await client.email.lists()
    message = str(caught.value)
    assert f"{url}/OAuth2/Token" in message
    assert "connection refused" in message
    assert "is listrak.auth_url right?" in message
    # One retry loop: each attempt asked for a token once (no token retries nested inside).
    assert client.metrics.token_requests == len(time.sleeps) + 1
    assert client.metrics.token_requests < ClientSettings().retry.attempts
    assert sum(time.sleeps) <= ClientSettings().retry.first_contact_timeout
    lines = _retry_lines(caplog)
    assert len(lines) == len(time.sleeps)
    assert lines[0].startswith("retrying POST /OAuth2/Token in ")
    assert lines[0].endswith(": connection refused (attempt 2 of 8)")
    assert not [r for r in caplog.records if "stamina" in r.name or "retry_scheduled" in r.msg]


async def test_api_url_with_nothing_listening_names_the_api_url(emulator: Emulator) -> None:
    time = FakeTime()
    api = f"http://127.0.0.1:{_closed_port()}"
    settings = ClientSettings(auth_url=emulator.base_url, api_url=api)
    async with ListrakClient(
        email=credentials(EMAIL_CLIENT), settings=settings, clock=time.clock, sleep=time.sleep
    ) as client:
        with pytest.raises(Unreachable) as caught:
            await client.email.lists()
    assert f"{api}/email/v1/List" in str(caught.value)
    assert "is listrak.api_url right?" in str(caught.value)
    assert client.metrics.token_requests == 1
    assert sum(time.sleeps) <= settings.retry.first_contact_timeout


async def test_a_server_that_answered_before_gets_the_full_retry_budget(
    emulator: Emulator,
) -> None:
    # Once the API answered, "connection refused" is an outage to wait out, not a wrong URL.
    time = FakeTime()
    retry = RetryPolicy(attempts=6, wait_initial=4, wait_max=8, wait_jitter=0)
    settings = ClientSettings.for_base_url(emulator.base_url, retry=retry)
    async with ListrakClient(
        email=credentials(EMAIL_CLIENT), settings=settings, clock=time.clock, sleep=time.sleep
    ) as client:
        await client.email.lists()
        emulator.admin.add_fault(method="GET", path="/List$", drop_next=5)
        assert await client.email.lists() == []
    assert sum(time.sleeps) > retry.first_contact_timeout
    assert client.metrics.retries_by_reason == {"connection dropped": 5}


async def test_404_from_the_token_url_says_the_url_is_wrong(emulator: Emulator) -> None:
    settings = ClientSettings(
        auth_url=emulator.base_url + "/not-the-auth-host", api_url=emulator.base_url
    )
    async with ListrakClient(email=credentials(EMAIL_CLIENT), settings=settings) as client:
        with pytest.raises(NotFound) as caught:
            await client.email.lists()
    message = str(caught.value)
    assert f"{emulator.base_url}/not-the-auth-host/OAuth2/Token answered 404" in message
    assert "is listrak.auth_url right?" in message
    assert "refused" not in message
    assert client.metrics.token_requests == 1


async def test_an_email_credential_on_the_sms_api_names_the_mismatch(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(sms=credentials(EMAIL_CLIENT))
    with pytest.raises(AuthError) as caught:
        await client.sms.sender_codes()
    message = str(caught.value)
    assert "GET /sms/v1/ShortCode" in message
    assert "an email integration's credential given to an SMS destination" in message
    assert f"client_id {EMAIL_CLIENT[0]!r}" in message


def _import_list(emulator: Emulator) -> int:
    emulator.admin.seed({"email": {"lists": [{"listName": "Newsletter"}]}})
    with emulator.http() as http:
        return int(http.get("/email/v1/List").json()["data"][0]["listId"])


def _imports(emulator: Emulator, list_id: int) -> list[str]:
    with emulator.http() as http:
        answer = http.get(f"/email/v1/List/{list_id}/ListImport").json()
    return [str(item["importFileName"]) for item in answer["data"]]


def _members(emulator: Emulator, list_id: int) -> set[str]:
    with emulator.http() as http:
        page = http.get(f"/email/v1/List/{list_id}/Contact", params={"count": 5000}).json()
    return {c["emailAddress"] for c in page["data"]}


ROWS = [(f"burst{i}@example.com",) for i in range(50)]
COLUMNS = [ImportColumn("email", "Email")]


async def test_import_start_outlasts_a_burst_of_500s_with_backoff(
    emulator: Emulator, make_client: MakeClient
) -> None:
    list_id = _import_list(emulator)
    sleep = RecordingSleep()
    client = make_client(email=credentials(EMAIL_CLIENT), sleep=sleep)
    emulator.admin.add_fault(method="POST", path="/ListImport$", fail_next=6, error_status=500)
    results = await client.email.import_contacts(list_id, ROWS, columns=COLUMNS)
    assert [r.status for r in results] == ["Completed"]
    assert len(_imports(emulator, list_id)) == 1  # started once
    assert _members(emulator, list_id) == {email for (email,) in ROWS}
    assert client.metrics.operations["email.ListImport_PostImportFileResource"].requests == 7
    assert client.metrics.retries_by_reason["HTTP 500"] == 6
    # Every re-send waited, with the policy's growing backoff.
    retry_waits = sleep.calls[:6]
    assert all(wait >= FAST_RETRY.wait_initial for wait in retry_waits)
    assert client.metrics.imports_adopted == 0


async def test_import_start_gives_up_with_the_policy_and_imports_nothing(
    emulator: Emulator, make_client: MakeClient
) -> None:
    list_id = _import_list(emulator)
    sleep = RecordingSleep()
    policy = RetryPolicy(attempts=5, timeout=60, wait_initial=0.01, wait_max=0.05, wait_jitter=0)
    client = make_client(email=credentials(EMAIL_CLIENT), sleep=sleep, retry=policy)
    emulator.admin.add_fault(method="POST", path="/ListImport$", fail_next=50, error_status=500)
    with pytest.raises(ServerError):
        await client.email.import_contacts(list_id, ROWS, columns=COLUMNS)
    posts = client.metrics.operations["email.ListImport_PostImportFileResource"]
    assert posts.requests == policy.attempts
    assert _imports(emulator, list_id) == []
    assert _members(emulator, list_id) == set()


async def test_lost_import_answers_are_adopted_never_imported_twice(
    emulator: Emulator, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    list_id = _import_list(emulator)
    client = make_client(email=credentials(EMAIL_CLIENT))
    # Applied, answer lost; then 500s while the lookup runs; the lookup finds the import.
    emulator.admin.add_fault(method="POST", path="/ListImport$", drop_next=1, drop_after_apply=True)
    emulator.admin.add_fault(method="GET", path="/ListImport$", fail_next=2, error_status=500)
    results = await client.email.import_contacts(list_id, ROWS, columns=COLUMNS)
    assert [r.status for r in results] == ["Completed"]
    assert len(_imports(emulator, list_id)) == 1
    assert emulator.admin.requests()["ListImport_PostImportFileResource"] == 1
    assert _members(emulator, list_id) == {email for (email,) in ROWS}
    assert client.metrics.imports_adopted == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("adopting it, not sending it again" in m for m in messages)
    assert "1 imports adopted after a lost answer" in client.metrics.summary()


async def test_a_create_after_a_failed_token_request_is_retried(
    emulator: Emulator, make_client: MakeClient
) -> None:
    # A 500 from the token endpoint means the create was never sent: safe to try again.
    client = make_client(email=credentials(EMAIL_CLIENT))
    emulator.admin.add_fault(path="/OAuth2/Token$", fail_next=2, error_status=500)
    await client.email.create_list(EmailList(list_name="Spring"))
    assert client.metrics.token_requests == 3
    with emulator.http() as http:
        names = [item["listName"] for item in http.get("/email/v1/List").json()["data"]]
    assert names == ["Spring"]


async def test_retry_lines_name_full_paths_and_mask_phone_numbers(
    emulator: Emulator, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    client = make_client(sms=credentials(SMS_CLIENT))
    emulator.admin.seed({"sms": {"senderCodes": [{"shortCodeId": 501, "code": "12345"}]}})
    emulator.admin.add_fault(method="GET", path="/Contact/", fail_next=2, error_status=503)
    with pytest.raises(NotFound) as caught:
        await client.sms.get_contact(501, "+17205550126")
    lines = _retry_lines(caplog)
    assert lines == [
        "retrying GET /sms/v1/ShortCode/501/Contact/%2B1********26 in "
        f"{line.split(' in ')[1].split(' s:')[0]} s: HTTP 503 (attempt {n} of 10)"
        for n, line in zip((2, 3), lines, strict=True)
    ]
    assert "7205550126" not in " ".join(r.getMessage() for r in caplog.records)
    assert "/sms/v1/ShortCode/501/Contact/%2B1********26" in str(caught.value)
    assert "7205550126" not in str(caught.value)
    assert client.metrics.retries_by_reason == {"HTTP 503": 2}


async def test_blind_429s_pause_the_integration_and_cut_the_rate(
    emulator: Emulator, make_client: MakeClient
) -> None:
    # Real Listrak may answer 429 with neither Retry-After nor an error code.
    sleep = RecordingSleep()
    client = make_client(email=credentials(EMAIL_CLIENT), sleep=sleep, max_concurrency=10)
    emulator.admin.add_fault(client_id=EMAIL_CLIENT[0], rate_per_second=40, burst=5, bare_429=True)
    results = await asyncio.gather(*(client.email.lists() for _ in range(80)))
    assert len(results) == 80
    assert emulator.admin.requests()["List_GetListCollection"] == 80
    metrics = client.metrics
    assert metrics.rate_limited > 0
    assert metrics.errors_by_code["HTTP_429"] == metrics.rate_limited
    assert metrics.retries_by_reason["429 rate limited"] == metrics.rate_limited
    assert client.session("email").pacer.decreases >= 1
    # Paced after the first 429s: the requests queued for a connection slot did not burst out
    # together (they did when the pacer's turn was taken before queueing: 68 of 80 got a 429).
    assert metrics.rate_limited <= 20
