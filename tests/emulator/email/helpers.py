"""Shared steps of the email emulator tests: lists, fields and list imports over HTTP."""

from __future__ import annotations

import base64
from typing import Any

import httpx2

from listrak_sync.emulator.email import import_queue
from tests.conftest import Emulator

BASE = "/email/v1"


def make_list(http: httpx2.Client, name: str = "Newsletter") -> int:
    made = http.post(
        f"{BASE}/List",
        json={"listName": name, "bounceHandling": "Standard", "bounceUnsubscribeCount": 3},
    )
    assert made.status_code == 201, made.text
    return int(made.json()["resourceId"])


def make_field(
    http: httpx2.Client,
    list_id: int,
    name: str,
    data_type: str = "Text",
    *,
    group: str = "Customer",
    max_length: int = 100,
) -> int:
    groups = http.get(f"{BASE}/List/{list_id}/SegmentationFieldGroup").json()["data"]
    found = [g for g in groups if g["segmentationFieldGroupName"] == group]
    if found:
        group_id = found[0]["segmentationFieldGroupId"]
    else:
        made = http.post(
            f"{BASE}/List/{list_id}/SegmentationFieldGroup",
            json={"segmentationFieldGroupName": group, "position": 0},
        )
        assert made.status_code == 201, made.text
        group_id = int(made.json()["resourceId"])
    made = http.post(
        f"{BASE}/List/{list_id}/SegmentationFieldGroup/{group_id}/SegmentationField",
        json={
            "segmentationFieldName": name,
            "dataType": data_type,
            "maxLength": max_length,
            "position": 0,
        },
    )
    assert made.status_code == 201, made.text
    return int(made.json()["resourceId"])


def import_body(
    csv_text: str,
    mappings: list[dict[str, Any]],
    *,
    import_type: str = "AddSubscribers",
    segmentation_import_type: str = "Update",
    **options: Any,
) -> dict[str, Any]:
    return {
        "fileName": "contacts.csv",
        "fileStream": base64.b64encode(csv_text.encode()).decode(),
        "fileDelimiter": options.pop("fileDelimiter", ","),
        "fileMappings": mappings,
        "hasColumnNames": options.pop("hasColumnNames", True),
        "importType": import_type,
        "segmentationImportType": segmentation_import_type,
        **options,
    }


def email_column(column: int = 0) -> dict[str, Any]:
    return {"fileColumn": column, "fileColumnType": "Email"}


def field_column(column: int, field_id: int, default: str | None = None) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "fileColumn": column,
        "fileColumnType": "SegmentationField",
        "segmentationFieldId": field_id,
    }
    if default is not None:
        mapping["defaultValue"] = default
    return mapping


def wait_for_imports(emulator: Emulator) -> None:
    import_queue(emulator.server.state).drain()


def run_import(
    emulator: Emulator, http: httpx2.Client, list_id: int, body: dict[str, Any]
) -> tuple[int, dict[str, int]]:
    """Post an import, wait for it, and return its id and summary."""
    posted = http.post(f"{BASE}/List/{list_id}/ListImport", json=body)
    assert posted.status_code == 201, posted.text
    import_id = int(posted.json()["resourceId"])
    wait_for_imports(emulator)
    status = http.get(f"{BASE}/List/{list_id}/ListImport/{import_id}/Status").json()["data"]
    assert status["status"] == "Completed", status
    summary = http.get(f"{BASE}/List/{list_id}/ListImport/{import_id}/Summary").json()["data"]
    return import_id, summary


def results(http: httpx2.Client, list_id: int, import_id: int) -> dict[str, str]:
    """Per-contact results of an import, email -> result (all pages)."""
    out: dict[str, str] = {}
    cursor = "Start"
    while cursor:
        page = http.get(
            f"{BASE}/List/{list_id}/ListImport/{import_id}/Contact",
            params={"cursor": cursor, "count": 2},
        ).json()
        for item in page["data"]:
            out[item["emailAddress"]] = item["importResult"]
        cursor = page.get("nextPageCursor")
    return out


def contact(http: httpx2.Client, list_id: int, identifier: str, **params: Any) -> httpx2.Response:
    return http.get(f"{BASE}/List/{list_id}/Contact/{identifier}", params=params or None)


def all_contacts(http: httpx2.Client, list_id: int, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor: str | None = "Start"
    while cursor:
        page = http.get(f"{BASE}/List/{list_id}/Contact", params={"cursor": cursor, **params})
        assert page.status_code == 200, page.text
        out.extend(page.json()["data"])
        cursor = page.json().get("nextPageCursor")
    return out
