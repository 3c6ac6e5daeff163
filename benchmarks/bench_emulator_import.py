"""Emulator list import: 1,000,000 contacts with two profile fields, end to end over HTTP.

Posts one base64 CSV to ``ListImport`` and waits for the import to complete, then compares with
the naive way to load a list: one ``POST Contact`` per contact, measured on a sample in the same
run and extrapolated.
Run: .venv/bin/pytest -m benchmark benchmarks/bench_emulator_import.py -s
"""

from __future__ import annotations

import base64
import time

import httpx2
import pytest

from listrak_sync.emulator import EmulatorServer

ROWS = 1_000_000
SAMPLE = 2_000
CLIENT = ("bench-email", "bench-email-secret")
SEED = {
    "clients": [{"client_id": CLIENT[0], "client_secret": CLIENT[1], "integration": "email"}],
}
FIELDS = {
    "segmentationFieldGroupName": "Customer",
    "segmentationFieldGroupId": 101,
    "segmentationFields": [
        {"segmentationFieldName": "FirstName", "segmentationFieldId": 11},
        {"segmentationFieldName": "Tier", "segmentationFieldId": 12, "maxLength": 10},
    ],
}


def _csv(rows: int) -> str:
    tiers = ("Gold", "Silver", "Bronze")
    lines = [f"Shopper{i:07d}@Example.com,Name{i},{tiers[i % 3]}" for i in range(rows)]
    return "email,first_name,tier\n" + "\n".join(lines) + "\n"


def _http(base_url: str) -> httpx2.Client:
    token = httpx2.post(
        f"{base_url}/OAuth2/Token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT[0],
            "client_secret": CLIENT[1],
        },
    ).json()["access_token"]
    return httpx2.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=300
    )


def _bulk(http: httpx2.Client) -> tuple[float, float, dict[str, int]]:
    body = {
        "fileName": "bulk.csv",
        "fileStream": base64.b64encode(_csv(ROWS).encode()).decode(),
        "fileDelimiter": ",",
        "hasColumnNames": True,
        "importType": "AddSubscribersAndSegmentationData",
        "segmentationImportType": "Update",
        "fileMappings": [
            {"fileColumn": 0, "fileColumnType": "Email"},
            {"fileColumn": 1, "fileColumnType": "SegmentationField", "segmentationFieldId": 11},
            {"fileColumn": 2, "fileColumnType": "SegmentationField", "segmentationFieldId": 12},
        ],
    }
    started = time.perf_counter()
    posted = http.post("/email/v1/List/1001/ListImport", json=body)
    assert posted.status_code == 201, posted.text
    accepted = time.perf_counter() - started
    import_id = posted.json()["resourceId"]
    while True:
        status = http.get(f"/email/v1/List/1001/ListImport/{import_id}/Status").json()["data"]
        if status["status"] in ("Completed", "Failed"):
            break
        time.sleep(0.05)
    total = time.perf_counter() - started
    assert status["status"] == "Completed", status
    summary = http.get(f"/email/v1/List/1001/ListImport/{import_id}/Summary").json()["data"]
    return accepted, total, summary


def _per_contact(http: httpx2.Client) -> float:
    tiers = ("Gold", "Silver", "Bronze")
    started = time.perf_counter()
    for i in range(SAMPLE):
        answer = http.post(
            "/email/v1/List/1002/Contact",
            json={
                "emailAddress": f"Shopper{i:07d}@Example.com",
                "segmentationFieldValues": [
                    {"segmentationFieldId": 13, "value": f"Name{i}"},
                    {"segmentationFieldId": 14, "value": tiers[i % 3]},
                ],
            },
        )
        assert answer.status_code == 201, answer.text
    return time.perf_counter() - started


@pytest.mark.benchmark
def test_list_import_of_a_million_contacts() -> None:
    seed = SEED | {
        "email": {
            "lists": [
                {"listId": 1001, "listName": "Bulk", "segmentationFieldGroups": [FIELDS]},
                {
                    "listId": 1002,
                    "listName": "Per contact",
                    "segmentationFieldGroups": [
                        {
                            "segmentationFieldGroupName": "Customer",
                            "segmentationFields": [
                                {"segmentationFieldName": "FirstName", "segmentationFieldId": 13},
                                {
                                    "segmentationFieldName": "Tier",
                                    "segmentationFieldId": 14,
                                    "maxLength": 10,
                                },
                            ],
                        }
                    ],
                },
            ]
        }
    }
    with EmulatorServer() as server:
        server.seed(seed)
        with _http(server.base_url) as http:
            accepted, total, summary = _bulk(http)
            naive = _per_contact(http)
            count = http.get("/email/v1/List/1001/Contact", params={"count": 1}).json()
    assert summary["subscribedCount"] == ROWS
    assert summary["processedCount"] == ROWS
    assert count["nextPageCursor"]
    bulk_rate = ROWS / total
    naive_rate = SAMPLE / naive
    print(
        f"\nlist import, {ROWS:,} rows x 2 profile fields, end to end over HTTP:"
        f"\n  POST accepted (upload, base64, CSV parse) {accepted:6.2f} s"
        f"\n  completed                                 {total:6.2f} s  ({bulk_rate:,.0f} rows/s)"
        f"\nnaive: one POST Contact per contact, {SAMPLE:,}-contact sample:"
        f"\n  {naive:6.2f} s  ({naive_rate:,.0f} rows/s, {ROWS / naive_rate:,.0f} s for {ROWS:,})"
        f"\nratio: list import is {bulk_rate / naive_rate:,.0f}x faster"
    )
