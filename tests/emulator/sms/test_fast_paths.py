"""The per-contact fast paths answer exactly like the paths they shortcut.

The catalog copy must follow seeds and resets, value checks done in Python must agree with the
SQL rules, and blind writes (Create Contact, Subscribe) must fall back to the exact decision
whenever something about the number already exists.
"""

from __future__ import annotations

import duckdb
import pytest

from listrak_sync.emulator.sms.fields import DATA_TYPES, plain_value, value_sql
from tests.conftest import SMS_CLIENT, Emulator

from .sandbox import BASE, DOUBLE, MAIN, SENDER, error, seed

SAMPLES = [
    "12",
    "-3.50",
    "007",
    " 12",
    "1e5",
    "+5",
    "1.",
    ".5",
    "abc",
    "٣",  # an Arabic-Indic digit
    "1234567890123456789012345",
    "yes",
    "Yes",
    "OFF",
    " true ",
    "1",
    "0",
    "tru",
    "2024-05-01",
    "2024-02-30",
    "0999-01-01",
    "2024-5-1",
    "05/01/2024",
    "2024-05-01T10:00:00",
    "\u00a0x",
]


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_plain_values_agree_with_the_sql_rules(data_type: str) -> None:
    valid, normalised = value_sql(data_type, "v")
    with duckdb.connect() as db:
        for value in SAMPLES:
            plain = plain_value(data_type, value)
            if plain is None:
                continue  # left to the SQL rules themselves
            row = db.execute(f"SELECT {valid}, {normalised} FROM (SELECT ? AS v)", [value])
            assert row.fetchall() == [(True, plain)], (data_type, value)


def test_catalog_follows_seeds_and_resets(emulator: Emulator) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        assert http.get("/sms/v1/ShortCode/102").status_code == 404
        assert http.get(f"{BASE}/SegmentationField/21").status_code == 404
        emulator.admin.seed(
            {
                "sms": {
                    "fields": [{"segmentationFieldId": 21, "segmentationFieldName": "Shoe"}],
                    "senderCodes": [
                        {
                            "shortCodeId": 102,
                            "code": "55502",
                            "lists": [{"phoneListId": 401, "phoneListName": "Other"}],
                        }
                    ],
                }
            }
        )
        assert http.get("/sms/v1/ShortCode/102").json()["data"]["code"] == "55502"
        assert http.get("/sms/v1/ShortCode/102/PhoneList/401").status_code == 200
        made = http.post(
            "/sms/v1/ShortCode/102/PhoneList/401/Contact",
            json={
                "phoneNumber": "2155550301",
                "segmentationFieldValues": [{"segmentationFieldId": 21, "value": "42"}],
            },
        )
        assert made.status_code == 201, made.text
        # The list belongs to sender code 102 only.
        wrong = http.post(f"{BASE}/PhoneList/401/Contact", json={"phoneNumber": "2155550302"})
        assert error(wrong) == "ERROR_INVALID_LIST_ID"
        emulator.admin.reset()
        emulator.admin.seed(
            {
                "clients": [
                    {
                        "client_id": SMS_CLIENT[0],
                        "client_secret": SMS_CLIENT[1],
                        "integration": "sms",
                    }
                ]
            }
        )
    with emulator.http(SMS_CLIENT) as http:
        assert http.get("/sms/v1/ShortCode").json()["data"] == []
        assert http.get("/sms/v1/ShortCode/102").status_code == 404


def test_create_for_a_number_known_elsewhere_merges_its_profile(emulator: Emulator) -> None:
    seed(emulator)
    emulator.admin.seed(
        {
            "sms": {
                "senderCodes": [
                    {
                        "shortCodeId": 102,
                        "code": "55502",
                        "contacts": [
                            {
                                "phoneNumber": "2155550401",
                                "firstName": "Ada",
                                "lastName": "Byron",
                                "segmentationFieldValues": [
                                    {"segmentationFieldId": 11, "value": "gold"},
                                    {"segmentationFieldId": 12, "value": "5"},
                                ],
                            }
                        ],
                    }
                ]
            }
        }
    )
    with emulator.http(SMS_CLIENT) as http:
        made = http.post(
            f"{BASE}/PhoneList/{MAIN}/Contact",
            json={
                "phoneNumber": "2155550401",
                "lastName": "Lovelace",
                "segmentationFieldValues": [
                    {"segmentationFieldId": 11, "value": ""},  # clears the stored value
                    {"segmentationFieldId": 13, "value": "no"},
                    {"segmentationFieldId": 13, "value": "Yes"},  # the last one counts
                ],
            },
        )
        assert made.status_code == 201, made.text
        got = http.get(f"{BASE}/Contact/2155550401").json()["data"]
        assert (got["firstName"], got["lastName"]) == ("Ada", "Lovelace")
        assert got["segmentationFieldValues"] == [
            {"segmentationFieldId": 12, "value": "5"},
            {"segmentationFieldId": 13, "value": "true"},
        ]
        lists = http.get(f"{BASE}/Contact/2155550401/PhoneList").json()["data"]
        assert [(s["phoneListId"], s["subscriptionState"]) for s in lists] == [(MAIN, "Subscribed")]
        # The other sender code's contact is untouched by this one's subscription.
        other = http.get("/sms/v1/ShortCode/102/Contact/2155550401/PhoneList").json()
        assert other["data"] == []
        again = http.post(f"{BASE}/PhoneList/{MAIN}/Contact", json={"phoneNumber": "2155550401"})
        assert error(again) == "ERROR_PHONE_NUMBER_FOUND"


def test_resubscribe_and_pending_after_blind_attempts(emulator: Emulator) -> None:
    seed(
        emulator,
        [
            {
                "phoneNumber": "2155550501",
                "subscriptions": [{"phoneListId": MAIN, "state": "Unsubscribed"}],
            },
            {"phoneNumber": "2155550502"},
        ],
    )
    with emulator.http(SMS_CLIENT) as http:
        back = http.post(f"{BASE}/Contact/2155550501/PhoneList/{MAIN}")
        assert back.status_code == 201, back.text
        lists = http.get(f"{BASE}/Contact/2155550501/PhoneList").json()["data"]
        assert lists[0]["subscriptionState"] == "Subscribed"
        assert "unsubscribeDate" not in lists[0]
        pending = http.post(f"{BASE}/Contact/2155550502/PhoneList/{DOUBLE}")
        assert pending.status_code == 201
        lists = http.get(f"{BASE}/Contact/2155550502/PhoneList").json()["data"]
        assert (lists[0]["subscriptionState"], lists[0]["pendingDoubleOptIn"]) == ("Pending", True)
        twice = http.post(f"{BASE}/Contact/2155550502/PhoneList/{DOUBLE}")
        assert error(twice) == "ERROR_PENDING_PHONE_NUMBER"
        state = emulator.admin.state(full=True)["sms"]
        assert {c["phoneNumber"] for c in state["contacts"] if c["senderCodeId"] == SENDER} == {
            "12155550501",
            "12155550502",
        }
