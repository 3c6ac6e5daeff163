"""Profile field groups and fields: CRUD, data types, uniqueness, limits and dependencies."""

from __future__ import annotations

from typing import Any

from listrak_sync.emulator.email.fields import MAX_GROUPS_PER_LIST
from tests.conftest import Emulator
from tests.emulator.email.helpers import BASE, make_list


def _field(
    name: str, data_type: str = "Text", max_length: int = 50, position: int = 0
) -> dict[str, Any]:
    return {
        "segmentationFieldName": name,
        "dataType": data_type,
        "maxLength": max_length,
        "position": position,
    }


def test_group_and_field_crud(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        groups = f"{BASE}/List/{list_id}/SegmentationFieldGroup"
        made = http.post(groups, json={"segmentationFieldGroupName": "Customer", "position": 1})
        assert made.status_code == 201
        group_id = int(made.json()["resourceId"])
        group = http.get(f"{groups}/{group_id}").json()["data"]
        assert group == {
            "segmentationFieldGroupId": group_id,
            "segmentationFieldGroupName": "Customer",
            "position": 1,
        }
        renamed = http.put(
            f"{groups}/{group_id}", json={"segmentationFieldGroupName": "Shopper", "position": 2}
        )
        assert renamed.json() == {"status": 200, "resourceId": str(group_id)}
        assert [g["segmentationFieldGroupName"] for g in http.get(groups).json()["data"]] == [
            "Shopper"
        ]
        fields = f"{groups}/{group_id}/SegmentationField"
        field_id = int(http.post(fields, json=_field("Birthday", "Date", 10)).json()["resourceId"])
        got = http.get(f"{fields}/{field_id}").json()["data"]
        assert got == {
            "segmentationFieldId": field_id,
            "segmentationFieldName": "Birthday",
            "segmentationFieldGroupId": group_id,
            "dataType": "Date",
            "maxLength": 10,
            "position": 0,
        }
        assert (
            http.put(f"{fields}/{field_id}", json=_field("BirthDate", "Date", 12)).status_code
            == 200
        )
        assert [f["segmentationFieldName"] for f in http.get(fields).json()["data"]] == [
            "BirthDate"
        ]
        busy = http.delete(f"{groups}/{group_id}")
        assert busy.status_code == 400
        assert busy.json()["error"] == "ERROR_RESOURCE_DEPENDENCY"
        assert http.delete(f"{fields}/{field_id}").json() == {"status": 200}
        assert http.get(f"{fields}/{field_id}").status_code == 404
        assert http.delete(f"{groups}/{group_id}").status_code == 200
        missing = http.get(f"{groups}/{group_id}")
        assert missing.status_code == 404
        assert "segmentationFieldGroupId" in missing.json()["message"]


def test_names_are_unique_per_list_and_values_checked(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        groups = f"{BASE}/List/{list_id}/SegmentationFieldGroup"
        a = http.post(groups, json={"segmentationFieldGroupName": "A", "position": 0}).json()
        b = http.post(groups, json={"segmentationFieldGroupName": "B", "position": 1}).json()
        twin = http.post(groups, json={"segmentationFieldGroupName": "a", "position": 2})
        assert twin.json()["error"] == "ERROR_INVALID_PARAMETER"
        assert "segmentationFieldGroupName" in twin.json()["message"]
        in_a = f"{groups}/{a['resourceId']}/SegmentationField"
        in_b = f"{groups}/{b['resourceId']}/SegmentationField"
        assert http.post(in_a, json=_field("Tier")).status_code == 201
        duplicate = http.post(in_b, json=_field("TIER"))
        assert duplicate.json()["error"] == "ERROR_INVALID_PARAMETER"
        assert "segmentationFieldName" in duplicate.json()["message"]
        for bad, member in (
            (_field("X", "Boolean"), "dataType"),
            (_field("X", max_length=0), "maxLength"),
            (_field("X", max_length=4001), "maxLength"),
            (_field(" "), "segmentationFieldName"),
            (_field("X" * 101), "segmentationFieldName"),
            (_field("X", position=-1), "position"),
            ({"segmentationFieldName": "X", "dataType": "Text", "position": 0}, "maxLength"),
        ):
            answer = http.post(in_a, json=bad)
            assert answer.status_code == 400, bad
            assert member in answer.json()["message"], (bad, answer.json())
        assert http.post(f"{groups}/999/SegmentationField", json=_field("X")).status_code == 404
        assert http.get(f"{BASE}/List/999/SegmentationFieldGroup").status_code == 404


def test_every_data_type_can_be_created(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        groups = f"{BASE}/List/{list_id}/SegmentationFieldGroup"
        group = http.post(groups, json={"segmentationFieldGroupName": "G", "position": 0}).json()
        fields = f"{groups}/{group['resourceId']}/SegmentationField"
        kinds = [
            "Text",
            "Numeric",
            "RadioButton",
            "CheckBox",
            "CommentArea",
            "Date",
            "ContentBlock",
        ]
        for position, kind in enumerate(kinds):
            assert http.post(fields, json=_field(kind, kind, position=position)).status_code == 201
        assert [f["dataType"] for f in http.get(fields).json()["data"]] == kinds


def test_group_limit(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        groups = f"{BASE}/List/{list_id}/SegmentationFieldGroup"
        for i in range(MAX_GROUPS_PER_LIST):
            made = http.post(groups, json={"segmentationFieldGroupName": f"G{i}", "position": i})
            assert made.status_code == 201
        over = http.post(groups, json={"segmentationFieldGroupName": "one more", "position": 0})
        assert over.status_code == 400
        assert over.json()["error"] == "ERROR_SEGMENTATION_FIELD_GROUP_LIMIT_MET"


def test_field_type_cannot_change_while_it_holds_values(emulator: Emulator) -> None:
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": 3001,
                        "listName": "L",
                        "bounceHandling": "Standard",
                        "bounceUnsubscribeCount": 3,
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "G",
                                "segmentationFieldGroupId": 301,
                                "segmentationFields": [
                                    {"segmentationFieldName": "Code", "segmentationFieldId": 31}
                                ],
                            }
                        ],
                        "contacts": [
                            {
                                "emailAddress": "a@example.com",
                                "segmentationFieldValues": {"Code": "ABCDEF"},
                            }
                        ],
                    }
                ]
            }
        }
    )
    with emulator.http() as http:
        url = f"{BASE}/List/3001/SegmentationFieldGroup/301/SegmentationField/31"
        retype = http.put(url, json=_field("Code", "Numeric", 255))
        assert "dataType" in retype.json()["message"]
        shrink = http.put(url, json=_field("Code", "Text", 3))
        assert "maxLength" in shrink.json()["message"]
        assert http.put(url, json=_field("Code", "Text", 6)).status_code == 200
