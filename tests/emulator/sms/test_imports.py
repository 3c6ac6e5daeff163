"""The contact update import: request checks, status transitions, and what it changes."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import SMS_CLIENT, Emulator

from .sandbox import BASE, MAIN, error, seed, wait_for_import

PEOPLE: list[dict[str, Any]] = [
    {
        "phoneNumber": "2155550301",
        "subscriptions": [MAIN],
        "firstName": "Ann",
        "segmentationFieldValues": [{"segmentationFieldId": 11, "value": "bronze"}],
    },
    {"phoneNumber": "2155550302", "optedOut": True, "subscriptions": [MAIN]},
    {"phoneNumber": "2155550303", "banned": True},
    {"phoneNumber": "2155550304", "subscriptions": [MAIN]},
]
MAPPINGS = [
    {"fileColumnType": "Phone", "segmentationFieldId": 0, "fileColumn": 0},
    {"fileColumnType": "SegmentationField", "segmentationFieldId": 11, "fileColumn": 1},
    {
        "fileColumnType": "SegmentationField",
        "segmentationFieldId": 12,
        "fileColumn": 2,
        "defaultValue": "0",
    },
    {"fileColumnType": "SegmentationField", "segmentationFieldId": 15, "fileColumn": 3},
]


def _request(csv: str, **changes: Any) -> dict[str, Any]:
    return {
        "fileName": "updates.csv",
        "fileStream": base64.b64encode(csv.encode()).decode(),
        "importType": "UpdateSubscribers",
        "hasColumnNames": True,
        "textQualifier": '"',
        "fileMappings": MAPPINGS,
        **changes,
    }


def _values(http: Any, phone: str) -> dict[int, str]:
    got = http.get(f"{BASE}/Contact/{phone}").json()["data"]
    return {v["segmentationFieldId"]: v["value"] for v in got["segmentationFieldValues"]}


def test_import_updates_profiles_and_never_opt_status(emulator: Emulator) -> None:
    seed(emulator, PEOPLE, importsPaused=True)
    csv = (
        "phone,tier,points,first\n"
        '(215) 555-0301,gold,12,"Ann, Jr."\n'
        "+1 215 555 0302,silver,,Bo\n"  # opted out: updated, still opted out
        "2155550303,gold,1,Banned\n"  # banned: skipped
        "2155550399,gold,1,Nobody\n"  # not on the sender code: not created
        "12,gold,1,Short\n"  # not a phone number
        "2155550304,gold,5,Cy\n"
        "2155550304,far-too-long-tier,many,Cy\n"  # the later row wins; both values refused
    )
    with emulator.http(SMS_CLIENT) as http:
        started = http.post(f"{BASE}/ContactImport", json=_request(csv))
        assert started.status_code == 201
        import_id = started.json()["resourceId"]
        queued = http.get(f"{BASE}/ContactImport/{import_id}").json()["data"]
        assert queued["status"] == "Queued"
        assert "startDate" not in queued
        emulator.admin.seed({"sms": {"importsPaused": False}})
        done = wait_for_import(http, import_id)
        assert done["status"] == "Completed"
        assert done["fileName"] == "updates.csv"
        assert done["startDate"] <= done["endDate"]
        assert _values(http, "2155550301") == {11: "gold", 12: "12"}
        assert http.get(f"{BASE}/Contact/2155550301").json()["data"]["firstName"] == "Ann, Jr."
        assert _values(http, "2155550302") == {11: "silver", 12: "0"}  # default for empty cell
        assert http.get(f"{BASE}/Contact/2155550302").json()["data"]["optedOut"] is True
        assert _values(http, "2155550304") == {}
        assert http.get(f"{BASE}/Contact/2155550304").json()["data"]["firstName"] == "Cy"
        assert http.get(f"{BASE}/Contact/2155550399").status_code == 404
        members = http.get(f"{BASE}/PhoneList/{MAIN}/Contact").json()["data"]
        assert [m["phoneNumber"] for m in members] == ["12155550301", "12155550304"]
    summary = emulator.admin.state()["sms"]["imports"][0]["summary"]
    assert summary == {
        "rows": 7,
        "updated": 3,
        "duplicates": 1,
        "notFound": 1,
        "invalidPhone": 1,
        "banned": 1,
        "invalidValues": 2,
        "malformedRows": 0,
    }


def test_large_import_is_set_based(emulator: Emulator) -> None:
    rows = 30_000
    contacts = [{"phoneNumber": f"+1610{3000000 + n:07d}"} for n in range(rows)]
    seed(emulator, contacts)
    lines = ["phone,tier,points,first"] + [
        f"610{3000000 + n:07d},t{n % 7},{n},P{n}" for n in range(rows)
    ]
    with emulator.http(SMS_CLIENT) as http:
        import_id = http.post(f"{BASE}/ContactImport", json=_request("\n".join(lines))).json()[
            "resourceId"
        ]
        assert wait_for_import(http, import_id)["status"] == "Completed"
        assert _values(http, f"610{3000000 + 12345:07d}") == {11: "t4", 12: "12345"}
    summary = emulator.admin.state()["sms"]["imports"][0]["summary"]
    assert (summary["rows"], summary["updated"]) == (rows, rows)


@pytest.mark.parametrize(
    ("changes", "code", "named"),
    [
        ({"importType": "AddSubscribers"}, "ERROR_INVALID_PARAMETER", "importType"),
        ({"textQualifier": "|"}, "ERROR_INVALID_PARAMETER", "textQualifier"),
        ({"fileStream": "not base64!"}, "ERROR_INVALID_PARAMETER", "fileStream"),
        ({"fileMappings": MAPPINGS[1:]}, "ERROR_INVALID_PARAMETER", "fileMappings"),
        (
            {
                "fileMappings": [
                    *MAPPINGS,
                    {"fileColumnType": "Phone", "segmentationFieldId": 0, "fileColumn": 1},
                ]
            },
            "ERROR_INVALID_PARAMETER",
            "fileMappings",
        ),
        (
            {"fileMappings": [{**MAPPINGS[0], "fileColumn": 9}]},
            "ERROR_INVALID_PARAMETER",
            "fileMappings[0].fileColumn",
        ),
        (
            {"fileMappings": [{**MAPPINGS[0], "segmentationFieldId": 11}]},
            "ERROR_INVALID_PARAMETER",
            "fileMappings[0].segmentationFieldId",
        ),
        (
            {"fileMappings": [MAPPINGS[0], {**MAPPINGS[1], "segmentationFieldId": 99}]},
            "ERROR_INVALID_SEGMENTATION_FIELD_ID",
            "fileMappings[1]",
        ),
        (
            {"fileMappings": [MAPPINGS[0], {**MAPPINGS[1], "segmentationFieldId": 14}]},
            "ERROR_SEGMENTATION_FIELD_DISABLED",
            "14",
        ),
        (
            {"fileMappings": [MAPPINGS[0], {**MAPPINGS[1], "fileColumnType": "Email"}]},
            "ERROR_INVALID_PARAMETER",
            "fileColumnType",
        ),
    ],
)
def test_import_request_checks(
    emulator: Emulator, changes: dict[str, Any], code: str, named: str
) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        answer = http.post(f"{BASE}/ContactImport", json=_request("a,b,c,d\n1,2,3,4\n", **changes))
        assert answer.status_code == 400, answer.text
        assert error(answer) == code
        assert named in answer.json()["message"]


def test_unknown_import_and_sender_code(emulator: Emulator) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        missing = http.get(f"{BASE}/ContactImport/123")
        assert (missing.status_code, error(missing)) == (404, "ERROR_UNABLE_TO_LOCATE_RESOURCE")
        nowhere = http.post("/sms/v1/ShortCode/999/ContactImport", json=_request("a\n"))
        assert nowhere.status_code == 404


def test_files_with_bare_carriage_returns_are_read_like_any_other(emulator: Emulator) -> None:
    # Old Mac line endings: a bare \r ends a line for Listrak's importer as for Arrow's reader.
    seed(emulator, PEOPLE)
    csv = "phone,tier,points,first\r2155550301,gold,12,Ann\r2155550304,silver,5,Cy\r"
    with emulator.http(SMS_CLIENT) as http:
        started = http.post(f"{BASE}/ContactImport", json=_request(csv))
        assert started.status_code == 201, started.text
        done = wait_for_import(http, started.json()["resourceId"])
        assert done["status"] == "Completed"
        assert _values(http, "2155550301") == {11: "gold", 12: "12"}
        assert _values(http, "2155550304") == {11: "silver", 12: "5"}
