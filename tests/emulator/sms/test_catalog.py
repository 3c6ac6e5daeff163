"""Sender codes, SMS lists and profile fields, read as Listrak serves them."""

from __future__ import annotations

from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator

from .sandbox import BASE, DOUBLE, MAIN, RETIRED, SENDER, error, seed


def test_sender_codes(emulator: Emulator) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        codes = http.get("/sms/v1/ShortCode").json()["data"]
        assert codes == [
            {"shortCodeId": SENDER, "code": "55501", "country": "US", "merchantName": "Tests"}
        ]
        assert http.get(BASE).json()["data"]["code"] == "55501"
        missing = http.get("/sms/v1/ShortCode/999")
        assert missing.status_code == 404
        assert error(missing) == "ERROR_UNABLE_TO_LOCATE_RESOURCE"
    with emulator.http(EMAIL_CLIENT) as email:
        # An email integration has no access to the SMS API.
        assert email.get("/sms/v1/ShortCode").status_code == 401


def test_lists_by_status_and_by_id(emulator: Emulator) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        active = http.get(f"{BASE}/PhoneList").json()["data"]
        assert [entry["phoneListId"] for entry in active] == [MAIN, DOUBLE]
        assert active[1]["requireDoubleOptIn"] is True
        inactive = http.get(f"{BASE}/PhoneList", params={"status": "inactive"}).json()["data"]
        assert [entry["phoneListId"] for entry in inactive] == [RETIRED]
        assert inactive[0]["status"] == "Inactive"
        first = http.get(f"{BASE}/PhoneList", params={"count": 1}).json()
        second = http.get(
            f"{BASE}/PhoneList", params={"count": 1, "cursor": first["nextPageCursor"]}
        ).json()
        assert [first["data"][0]["phoneListId"], second["data"][0]["phoneListId"]] == [MAIN, DOUBLE]
        assert second["nextPageCursor"] is None  # the spec's example, and real clients
        bad = http.get(f"{BASE}/PhoneList", params={"status": "archived"})
        assert bad.status_code == 400
        assert "status" in bad.json()["message"]
        one = http.get(f"{BASE}/PhoneList/{MAIN}").json()
        # The spec's schema is the bare PhoneList; the envelope's data is there too.
        assert one["phoneListId"] == MAIN
        assert one["status"] == "Active"
        assert one["data"]["phoneListName"] == "Main"
        assert http.get(f"{BASE}/PhoneList/999").status_code == 404


def test_profile_fields(emulator: Emulator) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        fields = http.get(f"{BASE}/SegmentationField").json()["data"]
        assert [f["segmentationFieldId"] for f in fields] == [11, 12, 13, 14, 15]
        assert fields[0] == {
            "segmentationFieldId": 11,
            "segmentationFieldName": "Tier",
            "dataType": "Text",
            "maxLength": 8,
            "statusFlag": "Active",
        }
        assert http.get(f"{BASE}/SegmentationField/14").json()["data"]["statusFlag"] == "Disabled"
        missing = http.get(f"{BASE}/SegmentationField/99")
        assert missing.status_code == 404
        assert error(missing) == "ERROR_UNABLE_TO_LOCATE_RESOURCE"
