"""Messages and their engagement: collections, filters, summary, links, clickers, seeding."""

from __future__ import annotations

from typing import Any

import pytest

from listrak_sync.emulator.admin_client import EmulatorAdminError
from tests.conftest import Emulator
from tests.emulator.email.helpers import BASE

LIST = 7101


def _seed(emulator: Emulator) -> None:
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": LIST,
                        "listName": "Engaged",
                        "messages": [
                            {
                                "messageId": 9001,
                                "subject": "Spring sale",
                                "sendDate": "2026-03-01T10:00:00",
                                "campaignId": 12,
                                "links": [
                                    {
                                        "linkUrl": "https://shop.example/sale",
                                        "linkDescription": "Sale",
                                    },
                                    {"linkUrl": "https://shop.example/new"},
                                ],
                                "activity": [
                                    {"emailAddress": "a@example.com"},
                                    {
                                        "emailAddress": "b@example.com",
                                        "open": True,
                                        "activityDate": "2026-03-02T08:00:00",
                                    },
                                    {
                                        "emailAddress": "c@example.com",
                                        "clicks": [
                                            {
                                                "linkUrl": "https://shop.example/sale",
                                                "clickDate": "2026-03-03T09:00:00",
                                            },
                                            {"linkId": 2, "clickDate": "2026-03-03T09:05:00"},
                                        ],
                                        "orderTotal": 40.5,
                                    },
                                    {
                                        "emailAddress": "d@example.com",
                                        "bounce": True,
                                        "bounceReason": "Mailbox full",
                                    },
                                    {"emailAddress": "e@example.com", "unsubscribe": True},
                                ],
                            },
                            {
                                "subject": "Test send",
                                "sendDate": "2026-03-05T10:00:00",
                                "test": True,
                            },
                            {"subject": "Later", "sendDate": "2026-04-01T10:00:00"},
                        ],
                    }
                ]
            }
        }
    )


def _data(emulator: Emulator, path: str, **query: Any) -> list[dict[str, Any]]:
    with emulator.http() as http:
        answer = http.get(f"{BASE}/List/{LIST}{path}", params=query)
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def test_message_collection_filters_dates_and_test_sends(emulator: Emulator) -> None:
    _seed(emulator)
    subjects = [m["subject"] for m in _data(emulator, "/Message")]
    assert subjects == ["Spring sale", "Later"]
    with_tests = _data(emulator, "/Message", includeTestMessages="true")
    assert len(with_tests) == 3
    since = _data(emulator, "/Message", startDate="2026-03-15")
    assert [m["subject"] for m in since] == ["Later"]
    until = _data(emulator, "/Message", endDate="2026-03-01")
    assert [m["messageId"] for m in until] == [9001]
    one = _data(emulator, "/Message", count="1")
    assert len(one) == 1


def test_message_resource_has_extended_members(emulator: Emulator) -> None:
    _seed(emulator)
    with emulator.http() as http:
        doc = http.get(f"{BASE}/List/{LIST}/Message/9001").json()["data"]
        missing = http.get(f"{BASE}/List/{LIST}/Message/1")
    assert doc["subject"] == "Spring sale"
    assert doc["messageStatus"] == "Sent"
    assert doc["fromEmail"]
    assert doc["fromName"]
    assert missing.status_code == 404
    assert missing.json()["error"] == "ERROR_UNABLE_TO_LOCATE_RESOURCE"


def test_activity_rows_flags_and_filters(emulator: Emulator) -> None:
    _seed(emulator)
    rows = {r["emailAddress"]: r for r in _data(emulator, "/Message/9001/Activity")}
    assert set(rows) == {f"{c}@example.com" for c in "abcde"}
    assert rows["a@example.com"]["open"] is False
    assert "activityDate" not in rows["a@example.com"]
    assert rows["b@example.com"]["open"] is True
    assert rows["c@example.com"]["click"] is True
    assert rows["c@example.com"]["clickCount"] == 2
    assert rows["c@example.com"]["open"] is True  # a click implies an open
    assert rows["d@example.com"]["bounceReason"] == "Mailbox full"
    assert rows["e@example.com"]["unsubscribe"] is True
    clicks = _data(emulator, "/Message/9001/Activity", activityType="click")
    assert [r["emailAddress"] for r in clicks] == ["c@example.com"]
    recent = _data(
        emulator, "/Message/9001/Activity", dateType="Activity", startDate="2026-03-02T12:00:00"
    )
    assert [r["emailAddress"] for r in recent] == ["c@example.com"]
    one = _data(emulator, "/Message/9001/Activity", emailAddress="B@example.com")
    assert [r["emailAddress"] for r in one] == ["b@example.com"]
    with emulator.http() as http:
        bad = http.get(f"{BASE}/List/{LIST}/Message/9001/Activity", params={"activityType": "x"})
    assert bad.status_code == 400
    assert "activityType" in bad.json()["message"]


def test_activity_pages_without_repeats(emulator: Emulator) -> None:
    _seed(emulator)
    seen: list[str] = []
    cursor = "Start"
    with emulator.http() as http:
        while cursor:
            page = http.get(
                f"{BASE}/List/{LIST}/Message/9001/Activity", params={"cursor": cursor, "count": 2}
            ).json()
            seen += [r["emailAddress"] for r in page["data"]]
            cursor = page.get("nextPageCursor")
    assert sorted(seen) == sorted(set(seen))
    assert len(seen) == 5


def test_summary_links_and_clickers_agree(emulator: Emulator) -> None:
    _seed(emulator)
    with emulator.http() as http:
        summary = http.get(f"{BASE}/List/{LIST}/Message/9001/Summary").json()["data"]
        status = http.get(f"{BASE}/List/{LIST}/Message/9001/Status").json()["data"]
        link = http.get(f"{BASE}/List/{LIST}/Message/9001/Link/1").json()["data"]
    assert summary["sentCount"] == 5
    assert summary["openCount"] == 2
    assert summary["clickCount"] == 2
    assert summary["bounceCount"] == 1
    assert summary["unsubscribeCount"] == 1
    assert summary["revenue"] == 40.5
    assert summary["conversionCount"] == 1
    assert status["sendCount"] == 5
    assert status["status"] == "Completed"
    links = _data(emulator, "/Message/9001/Link")
    assert [(x["linkId"], x["clickCount"]) for x in links] == [(1, 1), (2, 1)]
    assert link["linkUrl"] == "https://shop.example/sale"
    clickers = _data(emulator, "/Message/9001/Link/2/Clicker")
    assert clickers == [{"emailAddress": "c@example.com", "clickDate": "2026-03-03T09:05:00"}]


def test_seeding_more_activity_replaces_a_contacts_row(emulator: Emulator) -> None:
    _seed(emulator)
    emulator.admin.seed(
        {
            "email": {
                "messages": [
                    {
                        "listId": LIST,
                        "messageId": 9001,
                        "activity": [
                            {"emailAddress": "a@example.com", "open": True},
                            {"emailAddress": "f@example.com"},
                        ],
                    }
                ]
            }
        }
    )
    rows = {r["emailAddress"]: r for r in _data(emulator, "/Message/9001/Activity")}
    assert len(rows) == 6
    assert rows["a@example.com"]["open"] is True
    with pytest.raises(EmulatorAdminError, match=r"email.messages\[0\]: no list"):
        emulator.admin.seed({"email": {"messages": [{"listId": 1, "subject": "x"}]}})
    with pytest.raises(EmulatorAdminError, match=r"activity\[0\]: 'nope' is not a valid"):
        emulator.admin.seed(
            {
                "email": {
                    "messages": [
                        {"listId": LIST, "messageId": 9001, "activity": [{"emailAddress": "nope"}]}
                    ]
                }
            }
        )
