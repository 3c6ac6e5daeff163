"""The emulator answers each recorded request as real Listrak did, in both realism modes.

The recorded answers are in ``tests/real_traffic.py``; the client's side of the same answers is
``tests/listrak/test_real_traffic.py``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from tests.conftest import DATA_CLIENT, EMAIL_CLIENT, Emulator
from tests.emulator.email.helpers import email_column, import_body
from tests.real_traffic import FACTS, LIST_ID, Recorded, same_shape

MODES = ("strict", "realistic")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest, emulator: Emulator) -> str:
    """The realism mode for this test (the fixture's reset restores the server's own)."""
    emulator.admin.settings(realism=request.param)
    return str(request.param)


def _seed(emulator: Emulator) -> None:
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": LIST_ID,
                        "listName": "Newsletter",
                        "contacts": [
                            {
                                "emailAddress": "ada@example.com",
                                "subscribeDate": "2015-08-31T16:02:41.65",
                                "subscribeMethod": "API",
                            }
                        ],
                    }
                ]
            }
        }
    )


def _send(emulator: Emulator, recorded: Recorded, **options: Any) -> httpx2.Response:
    client = DATA_CLIENT if recorded.path.startswith("/data/") else EMAIL_CLIENT
    with emulator.http(client) as http:
        return http.request(
            recorded.method,
            recorded.path.format(list=LIST_ID),
            json=recorded.request,
            **options,
        )


def _check(answer: httpx2.Response, recorded: Recorded, mode: str) -> None:
    assert answer.status_code == recorded.status, answer.text
    content_type = answer.headers["content-type"]
    if mode == "strict" or recorded.body is None:
        assert content_type.startswith(recorded.content_type), content_type
    else:
        # Realistic: the recorded spellings, or none, at random.
        assert content_type.split(";")[0] == "application/json", content_type
    for name in recorded.absent_headers:
        assert name not in answer.headers
    if recorded.body is not None:
        same_shape(recorded.body, answer.json(), realistic=mode == "realistic")


@pytest.mark.parametrize(
    "name",
    ["upsert existing contact", "upsert new contact", "contact", "list", "last page of contacts"],
)
def test_email_answers_have_the_recorded_shape(emulator: Emulator, mode: str, name: str) -> None:
    _seed(emulator)
    recorded = FACTS[name]
    answer = _send(emulator, recorded)
    _check(answer, recorded, mode)
    if recorded.method == "POST":
        assert answer.json() == recorded.body  # status and the address as resourceId


def test_the_recorded_timestamp_comes_back_as_recorded_when_realistic(
    emulator: Emulator, mode: str
) -> None:
    _seed(emulator)
    data = _send(emulator, FACTS["contact"]).json()["data"]
    expected = "2015-08-31T16:02:41.65" if mode == "realistic" else "2015-08-31T16:02:41"
    assert data["subscribeDate"] == expected


def test_data_import_answers_a_null_resource_id(emulator: Emulator, mode: str) -> None:
    recorded = FACTS["data import"]
    answer = _send(emulator, recorded)
    _check(answer, recorded, mode)
    assert answer.json() == recorded.body


@pytest.mark.parametrize("name", ["token", "token, bad credentials"])
def test_token_endpoint_answers_as_recorded(emulator: Emulator, mode: str, name: str) -> None:
    recorded = FACTS[name]
    secret = EMAIL_CLIENT[1] if name == "token" else "not-the-secret"
    answer = httpx2.post(
        f"{emulator.base_url}/OAuth2/Token",
        data={
            "grant_type": "client_credentials",
            "client_id": EMAIL_CLIENT[0],
            "client_secret": secret,
        },
    )
    assert answer.status_code == recorded.status
    assert answer.headers["content-type"] == recorded.content_type
    same_shape(recorded.body, answer.json(), realistic=True)
    if name == "token":
        assert {k: v for k, v in answer.json().items() if k != "access_token"} == {
            "token_type": "bearer",
            "expires_in": 3599,
        }
    else:
        assert answer.json() == recorded.body


def test_rate_limit_answer(emulator: Emulator, mode: str) -> None:
    _seed(emulator)
    emulator.admin.add_fault(path="^/email/", rate_per_second=0.001, burst=1)
    recorded = FACTS["rate limited"]
    assert _send(emulator, recorded).status_code == 200
    answer = _send(emulator, recorded)
    assert answer.status_code == 429
    if mode == "realistic":
        # Undocumented for Email/SMS/Data: no Listrak code and no Retry-After to rely on.
        assert "retry-after" not in answer.headers
        assert answer.text == recorded.text
    else:
        assert answer.json()["error"] == "ERROR_TOO_MANY_REQUESTS"
        assert int(answer.headers["retry-after"]) >= 1


def test_a_request_past_the_size_limit_gets_iis_404(emulator: Emulator, mode: str) -> None:
    _seed(emulator)
    emulator.admin.settings(max_request_bytes=2_000)
    recorded = FACTS["request too large"]
    file = "EmailAddress\n" + "".join(f"user{i}@example.com\n" for i in range(200))
    body = import_body(file, [email_column()])
    with emulator.http() as http:
        answer = http.post(
            recorded.path.format(list=LIST_ID),
            content=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "404 - File or directory not found." in answer.text
        # The same import under the limit is accepted: it is the size, not the route.
        emulator.admin.settings(max_request_bytes=1_000_000)
        assert http.post(recorded.path.format(list=LIST_ID), json=body).status_code == 201


def test_list_ids_are_never_reused(emulator: Emulator, mode: str) -> None:
    body = {"listName": "A", "bounceHandling": "Standard", "bounceUnsubscribeCount": 3}
    with emulator.http() as http:
        first = int(http.post("/email/v1/List", json=body).json()["resourceId"])
        assert http.delete(f"/email/v1/List/{first}").status_code == 200
        second = int(http.post("/email/v1/List", json=body).json()["resourceId"])
        assert second > first


def test_realistic_json_content_types_vary(emulator: Emulator) -> None:
    _seed(emulator)
    emulator.admin.settings(realism="realistic")
    with emulator.http() as http:
        seen = {http.get(f"/email/v1/List/{LIST_ID}").headers["content-type"] for _ in range(40)}
    assert seen == {
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/json",
    }
