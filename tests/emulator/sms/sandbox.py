"""A small SMS account for the SMS API tests: one sender code, three lists, five fields."""

from __future__ import annotations

import time
from typing import Any

import httpx2

from tests.conftest import Emulator

SENDER = 101
MAIN = 301  # active, single opt-in
DOUBLE = 302  # active, double opt-in
RETIRED = 303  # inactive
BASE = f"/sms/v1/ShortCode/{SENDER}"

FIELDS: list[dict[str, Any]] = [
    {
        "segmentationFieldId": 11,
        "segmentationFieldName": "Tier",
        "dataType": "Text",
        "maxLength": 8,
    },
    {"segmentationFieldId": 12, "segmentationFieldName": "Points", "dataType": "Number"},
    {"segmentationFieldId": 13, "segmentationFieldName": "VIP", "dataType": "Checkbox"},
    {"segmentationFieldId": 14, "segmentationFieldName": "Old", "statusFlag": "Disabled"},
    {
        "segmentationFieldId": 15,
        "segmentationFieldName": "First Name",
        "dataType": "Text",
        "systemField": "firstName",
    },
]


def seed(emulator: Emulator, contacts: list[dict[str, Any]] | None = None, **sms: Any) -> None:
    emulator.admin.seed(
        {
            "sms": {
                "fields": FIELDS,
                "senderCodes": [
                    {
                        "shortCodeId": SENDER,
                        "code": "55501",
                        "country": "US",
                        "merchantName": "Tests",
                        "lists": [
                            {"phoneListId": MAIN, "phoneListName": "Main"},
                            {
                                "phoneListId": DOUBLE,
                                "phoneListName": "Double",
                                "requireDoubleOptIn": True,
                            },
                            {"phoneListId": RETIRED, "phoneListName": "Old", "status": "Inactive"},
                        ],
                        "contacts": contacts or [],
                    }
                ],
                **sms,
            }
        }
    )


def error(response: httpx2.Response) -> str:
    code: str = response.json()["error"]
    return code


def wait_for_import(http: httpx2.Client, import_id: str) -> dict[str, Any]:
    """Poll an import until it is done (bounded by the number of polls, not the clock)."""
    for _ in range(2000):
        data: dict[str, Any] = http.get(f"{BASE}/ContactImport/{import_id}").json()["data"]
        if data["status"] in ("Completed", "Failed"):
            return data
        time.sleep(0.01)
    raise AssertionError(f"import {import_id} did not finish")
