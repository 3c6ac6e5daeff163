"""With ``--state FILE``, SMS and Data API resources survive a restart, imports included."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx2

from listrak_sync.emulator import EmulatorServer
from listrak_sync.emulator.admin_client import EmulatorAdmin
from tests.conftest import DATA_CLIENT, SMS_CLIENT

from .sandbox import BASE, FIELDS, MAIN

CLIENTS = [
    {"client_id": SMS_CLIENT[0], "client_secret": SMS_CLIENT[1], "integration": "sms"},
    {"client_id": DATA_CLIENT[0], "client_secret": DATA_CLIENT[1], "integration": "data"},
]


def _http(server: EmulatorServer, client: tuple[str, str]) -> httpx2.Client:
    token = httpx2.post(
        f"{server.base_url}/OAuth2/Token",
        data={
            "grant_type": "client_credentials",
            "client_id": client[0],
            "client_secret": client[1],
        },
    ).json()["access_token"]
    return httpx2.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"})


def test_sms_and_data_survive_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.duckdb"
    seed = {
        "clients": CLIENTS,
        "sms": {
            "fields": FIELDS,
            "importsPaused": True,
            "senderCodes": [
                {
                    "shortCodeId": 101,
                    "code": "55501",
                    "lists": [{"phoneListId": MAIN, "phoneListName": "Main"}],
                    "contacts": [
                        {"phoneNumber": "2155550401", "optedOut": True, "subscriptions": [MAIN]}
                    ],
                }
            ],
        },
    }
    csv = base64.b64encode(b"2155550402,gold\n").decode()
    with EmulatorServer(state_file=state_file) as first, EmulatorAdmin(first.base_url) as admin:
        admin.seed(seed)
        with _http(first, SMS_CLIENT) as http:
            assert (
                http.post(
                    f"{BASE}/PhoneList/{MAIN}/Contact", json={"phoneNumber": "2155550402"}
                ).status_code
                == 201
            )
            import_id = http.post(
                f"{BASE}/ContactImport",
                json={
                    "fileName": "f.csv",
                    "fileStream": csv,
                    "importType": "UpdateSubscribers",
                    "hasColumnNames": False,
                    "textQualifier": "",
                    "fileMappings": [
                        {"fileColumnType": "Phone", "segmentationFieldId": 0, "fileColumn": 0},
                        {
                            "fileColumnType": "SegmentationField",
                            "segmentationFieldId": 11,
                            "fileColumn": 1,
                        },
                    ],
                },
            ).json()["resourceId"]
        with _http(first, DATA_CLIENT) as http:
            assert http.post("/data/v1/Product", json=[{"sku": "kept"}]).status_code == 201
    first.state.close()
    with EmulatorServer(state_file=state_file) as second, EmulatorAdmin(second.base_url) as admin:
        # The held import is still queued; releasing it after the restart processes it.
        admin.seed({"sms": {"importsPaused": False}})
        with _http(second, SMS_CLIENT) as http:
            for _ in range(2000):
                status = http.get(f"{BASE}/ContactImport/{import_id}").json()["data"]["status"]
                if status == "Completed":
                    break
                time.sleep(0.01)
            assert status == "Completed"
            got = http.get(f"{BASE}/Contact/2155550402").json()["data"]
            assert got["segmentationFieldValues"] == [{"segmentationFieldId": 11, "value": "gold"}]
            assert http.get(f"{BASE}/Contact/2155550401").json()["data"]["optedOut"] is True
        state = admin.state(full=True)
    assert state["data"]["products"] == [{"sku": "kept"}]
    assert [c["phoneNumber"] for c in state["sms"]["contacts"]] == ["12155550401", "12155550402"]
