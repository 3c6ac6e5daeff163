"""Create, read and update SMS contacts, with the spec's error codes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SMS_CLIENT, Emulator

from .sandbox import BASE, DOUBLE, MAIN, RETIRED, error, seed

PEOPLE: list[dict[str, Any]] = [
    {"phoneNumber": "2155550101", "subscriptions": [MAIN], "firstName": "Ada"},
    {
        "phoneNumber": "2155550102",
        "subscriptions": [MAIN],
        "optedOut": True,
        "optOutDate": "2026-01-05T10:00:00",
        "optOutReason": "Campaign",
    },
    {
        "phoneNumber": "2155550103",
        "subscriptions": [MAIN],
        "banned": True,
        "optOutDate": "2026-02-01T00:00:00",
    },
    {"phoneNumber": "2155550104", "subscriptions": [MAIN], "suspended": True},
]


@pytest.mark.parametrize(
    "typed", ["(215) 555-0199", "+1 215 555 0199", "12155550199", "001-215-555-0199"]
)
def test_create_normalises_phone_numbers(emulator: Emulator, typed: str) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        made = http.post(
            f"{BASE}/PhoneList/{MAIN}/Contact",
            json={"phoneNumber": typed, "firstName": "Bo", "emailAddress": "bo@example.com"},
        )
        assert made.status_code == 201
        assert made.json()["resourceId"] == "12155550199"
        again = http.post(f"{BASE}/PhoneList/{MAIN}/Contact", json={"phoneNumber": "2155550199"})
        assert again.status_code == 400
        assert error(again) == "ERROR_PHONE_NUMBER_FOUND"
        got = http.get(f"{BASE}/Contact/+12155550199").json()["data"]
        assert got["phoneNumber"] == "12155550199"
        assert got["firstName"] == "Bo"
        assert got["optedOut"] is False
        assert "subscribeDate" in got
        members = http.get(f"{BASE}/PhoneList/{MAIN}/Contact").json()["data"]
        assert [m["phoneNumber"] for m in members] == ["12155550199"]


def test_create_refusals(emulator: Emulator) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        cases = [
            ({"phoneNumber": "555"}, MAIN, "ERROR_INVALID_PHONE_NUMBER"),
            ({"phoneNumber": "5555555555"}, MAIN, "ERROR_INVALID_PHONE_NUMBER"),
            ({}, MAIN, "ERROR_INVALID_PHONE_NUMBER"),
            (
                {"phoneNumber": "2155550150", "emailAddress": "nope"},
                MAIN,
                "ERROR_INVALID_EMAIL_ADDRESS",
            ),
            ({"phoneNumber": "2155550150", "birthday": ""}, MAIN, "ERROR_BIRTHDAY_FIELD_NULL"),
            ({"phoneNumber": "2155550150"}, RETIRED, "ERROR_LIST_INACTIVE"),
            ({"phoneNumber": "2155550150"}, 999, "ERROR_INVALID_LIST_ID"),
            (
                {
                    "phoneNumber": "2155550150",
                    "segmentationFieldValues": [{"segmentationFieldId": 99, "value": "x"}],
                },
                MAIN,
                "ERROR_INVALID_SEGMENTATION_FIELD_ID",
            ),
            (
                {
                    "phoneNumber": "2155550150",
                    "segmentationFieldValues": [{"segmentationFieldId": 14, "value": "x"}],
                },
                MAIN,
                "ERROR_SEGMENTATION_FIELD_DISABLED",
            ),
            (
                {
                    "phoneNumber": "2155550150",
                    "segmentationFieldValues": [{"segmentationFieldId": 11, "value": "platinum+"}],
                },
                MAIN,
                "ERROR_SEGMENTATION_MAX_LENGTH",
            ),
            (
                {
                    "phoneNumber": "2155550150",
                    "segmentationFieldValues": [{"segmentationFieldId": 12, "value": "many"}],
                },
                MAIN,
                "ERROR_INVALID_PARAMETER",
            ),
            ({"phoneNumber": "2155550150", "optedOut": True}, MAIN, "ERROR_INVALID_PARAMETER"),
        ]
        for doc, list_id, code in cases:
            answer = http.post(f"{BASE}/PhoneList/{list_id}/Contact", json=doc)
            assert answer.status_code == 400, (doc, answer.text)
            assert error(answer) == code, (doc, answer.text)
        # Nothing above created the number.
        assert http.get(f"{BASE}/Contact/2155550150").status_code == 404


def test_disabled_sender_code_refuses_writes(emulator: Emulator) -> None:
    emulator.admin.seed(
        {
            "sms": {
                "senderCodes": [
                    {
                        "shortCodeId": 7,
                        "code": "1",
                        "disabled": True,
                        "lists": [{"phoneListId": 70, "phoneListName": "L"}],
                    }
                ]
            }
        }
    )
    with emulator.http(SMS_CLIENT) as http:
        answer = http.post(
            "/sms/v1/ShortCode/7/PhoneList/70/Contact", json={"phoneNumber": "2155550101"}
        )
        assert answer.status_code == 400
        assert error(answer) == "ERROR_SENDER_CODE_DISABLED"
        assert http.get("/sms/v1/ShortCode/7/PhoneList/70").status_code == 200


def test_double_opt_in_list_makes_new_contacts_pending(emulator: Emulator) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        assert (
            http.post(
                f"{BASE}/PhoneList/{DOUBLE}/Contact", json={"phoneNumber": "2155550160"}
            ).status_code
            == 201
        )
        lists = http.get(f"{BASE}/Contact/2155550160/PhoneList").json()["data"]
        assert lists[0]["subscriptionState"] == "Pending"
        assert lists[0]["pendingDoubleOptIn"] is True
        assert "pendingDate" in lists[0]
        assert http.get(f"{BASE}/PhoneList/{DOUBLE}/Contact").json()["data"] == []


def test_update_contact(emulator: Emulator) -> None:
    seed(emulator, PEOPLE)
    with emulator.http(SMS_CLIENT) as http:
        changed = http.put(
            f"{BASE}/Contact",
            json={
                "phoneNumber": "+12155550101",  # absent members are left as they are
                "lastName": "Lovelace",
                "birthday": "1990-12-10T00:00:00",
                "optedOut": False,
                "segmentationFieldValues": [
                    {"segmentationFieldId": 11, "value": "gold"},
                    {"segmentationFieldId": 13, "value": "Yes"},
                    {"segmentationFieldId": 15, "value": "Augusta"},
                ],
            },
        )
        assert changed.status_code == 200
        assert changed.json()["resourceId"] == "12155550101"
        got = http.get(f"{BASE}/Contact/2155550101").json()["data"]
        assert (got["firstName"], got["lastName"]) == ("Augusta", "Lovelace")
        assert got["birthday"] == "1990-12-10T00:00:00"
        assert got["segmentationFieldValues"] == [
            {"segmentationFieldId": 11, "value": "gold"},
            {"segmentationFieldId": 13, "value": "true"},
        ]
        missing = http.put(f"{BASE}/Contact", json={"phoneNumber": "2155550199"})
        assert missing.status_code == 404
        assert error(missing) == "ERROR_PHONE_NUMBER_NOT_FOUND"
        banned = http.put(f"{BASE}/Contact", json={"phoneNumber": "2155550103", "lastName": "X"})
        assert error(banned) == "ERROR_BANNED_PHONE_NUMBER"
        # Opted-out contacts can still have their profile updated.
        assert (
            http.put(
                f"{BASE}/Contact", json={"phoneNumber": "2155550102", "lastName": "Quiet"}
            ).status_code
            == 200
        )


def test_opt_out_through_update_is_one_way(emulator: Emulator) -> None:
    seed(emulator, PEOPLE)
    with emulator.http(SMS_CLIENT) as http:
        assert (
            http.put(
                f"{BASE}/Contact", json={"phoneNumber": "2155550101", "optedOut": True}
            ).status_code
            == 200
        )
        got = http.get(f"{BASE}/Contact/2155550101").json()["data"]
        assert got["optedOut"] is True
        assert "unsubscribeDate" in got
        assert (
            http.put(
                f"{BASE}/Contact", json={"phoneNumber": "2155550101", "optedOut": False}
            ).status_code
            == 200
        )
        assert http.get(f"{BASE}/Contact/2155550101").json()["data"]["optedOut"] is True
        resubscribe = http.post(f"{BASE}/Contact/2155550101/PhoneList/{MAIN}")
        assert resubscribe.status_code == 400
        assert "opted out" in resubscribe.json()["message"]
        opted = http.get(f"{BASE}/PhoneList/{MAIN}/Contact", params={"optedOut": "true"})
        assert [c["phoneNumber"] for c in opted.json()["data"]] == [
            "12155550101",
            "12155550102",
            "12155550103",
        ]
        reasons = {
            o["phoneNumber"]: o["optOutReason"] for o in http.get(f"{BASE}/OptOut").json()["data"]
        }
        assert reasons == {"12155550101": "API", "12155550102": "Campaign", "12155550103": "Admin"}


def test_get_contact_errors(emulator: Emulator) -> None:
    seed(emulator, PEOPLE)
    with emulator.http(SMS_CLIENT) as http:
        invalid = http.get(f"{BASE}/Contact/12")
        assert (invalid.status_code, error(invalid)) == (400, "ERROR_INVALID_PHONE_NUMBER")
        unknown = http.get(f"{BASE}/Contact/2155550177")
        assert (unknown.status_code, error(unknown)) == (404, "ERROR_UNABLE_TO_LOCATE_RESOURCE")
        assert http.get(f"{BASE}/Contact/2155550177/PhoneList").status_code == 404


def test_opt_outs_filter_by_date(emulator: Emulator) -> None:
    seed(emulator, PEOPLE)
    with emulator.http(SMS_CLIENT) as http:
        january = http.get(
            f"{BASE}/OptOut",
            params={"startDate": "2026-01-01T00:00:00", "endDate": "2026-01-31T00:00:00"},
        )
        assert [o["phoneNumber"] for o in january.json()["data"]] == ["12155550102"]
        assert january.json()["data"][0]["optOutDate"] == "2026-01-05T10:00:00"
        assert http.get(f"{BASE}/OptOut", params={"startDate": "soon"}).status_code == 400
