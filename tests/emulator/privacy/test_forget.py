"""The emulated Privacy API: forget requests, their status, their effect and the rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from listrak_sync.emulator.server import EmulatorServer
from listrak_sync.emulator.state import EmulatorState
from tests.conftest import EMAIL_CLIENT, PRIVACY_CLIENT, SMS_CLIENT


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(clock: Clock) -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorState(clock=clock, token_ttl=10**9)) as running:
        running.seed(
            {
                "clients": [
                    {"client_id": c[0], "client_secret": c[1], "integration": api}
                    for api, c in (
                        ("email", EMAIL_CLIENT),
                        ("sms", SMS_CLIENT),
                        ("privacy", PRIVACY_CLIENT),
                    )
                ],
                "privacy": {"processingSeconds": 30},
                "email": {
                    "lists": [
                        {"listId": 1, "listName": "A", "contacts": [{"emailAddress": "ada@x.com"}]},
                        {
                            "listId": 2,
                            "listName": "B",
                            "contacts": [
                                {"emailAddress": "Ada@X.com"},
                                {"emailAddress": "bob@x.com"},
                            ],
                        },
                    ]
                },
                "sms": {
                    "senderCodes": [
                        {
                            "shortCodeId": 301,
                            "code": "55123",
                            "country": "US",
                            "lists": [{"phoneListId": 401, "phoneListName": "Promos"}],
                            "contacts": [
                                {"phoneNumber": "+12155550101", "subscriptions": [401]},
                                {"phoneNumber": "+12155550102", "subscriptions": [401]},
                            ],
                        }
                    ]
                },
            }
        )
        yield running


def _http(server: EmulatorServer, client: tuple[str, str]) -> httpx2.Client:
    token = httpx2.post(
        f"{server.base_url}/OAuth2/Token",
        data={
            "grant_type": "client_credentials",
            "client_id": client[0],
            "client_secret": client[1],
        },
    ).json()["access_token"]
    return httpx2.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_forget_is_processing_then_complete_and_removes_the_contact_everywhere(
    server: EmulatorServer, clock: Clock
) -> None:
    with (
        _http(server, PRIVACY_CLIENT) as privacy,
        _http(server, EMAIL_CLIENT) as email,
        _http(server, SMS_CLIENT) as sms,
    ):
        answer = privacy.post(
            "/privacy/v1/Forget",
            json={"emailAddress": " ADA@x.com", "phoneNumber": "(215) 555-0101"},
        )
        assert answer.status_code == 201, answer.text
        request_id = answer.json()["resourceId"]
        status = privacy.get(f"/privacy/v1/Forget/{request_id}").json()["data"]
        assert status["status"] == "PROCESSING"
        assert "processedDate" not in status
        assert email.get("/email/v1/List/1/Contact/ada@x.com").status_code == 200

        clock.now += 31
        assert email.get("/email/v1/List/1/Contact/ada@x.com").status_code == 404
        assert email.get("/email/v1/List/2/Contact/ada@x.com").status_code == 404
        assert email.get("/email/v1/List/2/Contact/bob@x.com").status_code == 200
        gone = sms.get("/sms/v1/ShortCode/301/Contact/12155550101")
        assert gone.status_code == 404, gone.text
        assert sms.get("/sms/v1/ShortCode/301/Contact/12155550102").status_code == 200
        members = sms.get("/sms/v1/ShortCode/301/PhoneList/401/Contact").json()["data"]
        assert [m["phoneNumber"] for m in members] == ["12155550102"]

        status = privacy.get(f"/privacy/v1/Forget/{request_id}").json()["data"]
        assert status["status"] == "COMPLETE"
        assert status["processedDate"] >= status["submittedDate"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "parameters"),
        ({"emailAddress": "not-an-address"}, "emailAddress"),
        ({"phoneNumber": "12"}, "phoneNumber"),
    ],
)
def test_a_request_needs_a_wellformed_address_or_number(
    server: EmulatorServer, body: dict[str, str], field: str
) -> None:
    with _http(server, PRIVACY_CLIENT) as privacy:
        answer = privacy.post("/privacy/v1/Forget", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "ERROR_INVALID_PARAMETER"
    assert field in answer.json()["message"]


def test_unknown_request_and_other_integrations(server: EmulatorServer) -> None:
    with _http(server, PRIVACY_CLIENT) as privacy, _http(server, EMAIL_CLIENT) as email:
        missing = privacy.get("/privacy/v1/Forget/no-such-request")
        assert missing.status_code == 404
        assert missing.json()["error"] == "ERROR_UNABLE_TO_LOCATE_RESOURCE"
        refused = email.post("/privacy/v1/Forget", json={"emailAddress": "ada@x.com"})
        assert refused.status_code == 401


def test_the_published_limits_are_leaky_buckets(server: EmulatorServer, clock: Clock) -> None:
    with _http(server, PRIVACY_CLIENT) as privacy:

        def status() -> int:
            return privacy.get("/privacy/v1/Forget/unknown").status_code

        assert [status() for _ in range(20)] == [404] * 20
        limited = privacy.get("/privacy/v1/Forget/unknown")
        assert limited.status_code == 429
        assert limited.json()["error"] == "ERROR_TOO_MANY_REQUESTS"
        assert limited.headers["Retry-After"] == "1"
        clock.now += 1  # two requests leak out of the 10-second bucket per second
        assert [status() for _ in range(3)] == [404, 404, 429]
        # The minute bucket: 60 per minute however they are spread.
        sent = 22
        while sent < 60:
            clock.now += 1
            sent += sum(status() == 404 for _ in range(2))
        clock.now += 0.1
        assert status() == 429


def test_a_request_accepted_before_a_restart_completes_after_it(tmp_path: Path) -> None:
    clock = Clock()
    state_file = tmp_path / "emulator.duckdb"
    with EmulatorServer(EmulatorState(clock=clock, state_file=state_file)) as first:
        first.seed(
            {
                "clients": [
                    {"client_id": c[0], "client_secret": c[1], "integration": api}
                    for api, c in (("email", EMAIL_CLIENT), ("privacy", PRIVACY_CLIENT))
                ],
                "privacy": {"processingSeconds": 30},
                "email": {
                    "lists": [
                        {"listId": 1, "listName": "A", "contacts": [{"emailAddress": "ada@x.com"}]}
                    ]
                },
            }
        )
        with _http(first, PRIVACY_CLIENT) as privacy:
            answer = privacy.post("/privacy/v1/Forget", json={"emailAddress": "ada@x.com"})
        request_id = answer.json()["resourceId"]
    first.state.close()
    clock.now += 31
    with EmulatorServer(EmulatorState(clock=clock, state_file=state_file)) as second:
        with _http(second, EMAIL_CLIENT) as email:
            assert email.get("/email/v1/List/1/Contact/ada@x.com").status_code == 404
        with _http(second, PRIVACY_CLIENT) as privacy:
            status = privacy.get(f"/privacy/v1/Forget/{request_id}").json()["data"]
        assert status["status"] == "COMPLETE"
