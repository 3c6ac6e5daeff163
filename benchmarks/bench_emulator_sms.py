"""Emulator SMS per-contact calls: requests/s and ms per request, sequentially over HTTP.

The emulator must never be the bottleneck of a benchmark. This measures what it costs per
request for the calls an SMS sync makes one contact at a time (Create Contact, Get Contact,
Update Contact, Subscribe, Get Contact Lists, Unsubscribe), against the sample sandbox and
again once the tables hold a 100,000-contact sender code, so a cost that grows with the tables
shows. The reference is the cheapest SMS route (``GET ShortCode/{id}``, no DuckDB statement),
measured in the same run: what HTTP, routing, auth and the client cost by themselves.
Client and emulator share this process, as in the other benchmarks.
Run: .venv/bin/pytest -m benchmark benchmarks/bench_emulator_sms.py -s
(``BENCH_SMS_CALLS`` sets the calls per operation, default 500).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from listrak_sync.emulator import EmulatorServer

pytestmark = pytest.mark.benchmark

CALLS = int(os.environ.get("BENCH_SMS_CALLS", "500"))
BULK = 100_000
SEED = Path(__file__).parents[1] / "src/listrak_sync/emulator/sample_seed.yml"
CLIENT = ("demo-sms", "demo-sms-secret")
BASE = "/sms/v1/ShortCode/101"
MARKETING, VIP = 5001, 5002  # VIP asks for double opt-in: subscribing makes members pending


def _http(base_url: str) -> httpx2.Client:
    token = httpx2.post(
        f"{base_url}/OAuth2/Token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT[0],
            "client_secret": CLIENT[1],
        },
    ).json()["access_token"]
    return httpx2.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"})


def _bulk_sender_code() -> dict[str, Any]:
    """A second sender code whose contacts fill every per-contact table."""
    contacts = [
        {
            "phoneNumber": f"1215{2_000_000 + (i * 7_919) % 8_000_000:07d}",  # not in key order
            "firstName": f"Bulk{i}",
            "subscriptions": [6001],
            "segmentationFieldValues": [{"segmentationFieldId": 7003, "value": "Gold"}],
        }
        for i in range(BULK)
    ]
    return {
        "shortCodeId": 102,
        "code": "55502",
        "lists": [{"phoneListId": 6001, "phoneListName": "Bulk"}],
        "contacts": contacts,
    }


def _operations(http: httpx2.Client) -> dict[str, Callable[[str], httpx2.Response]]:
    return {
        "Create Contact": lambda phone: http.post(
            f"{BASE}/PhoneList/{MARKETING}/Contact",
            json={
                "phoneNumber": phone,
                "firstName": "Bench",
                "segmentationFieldValues": [
                    {"segmentationFieldId": 7003, "value": "Gold"},
                    {"segmentationFieldId": 7004, "value": "12.50"},
                ],
            },
        ),
        "Get Contact": lambda phone: http.get(f"{BASE}/Contact/{phone}"),
        "Update Contact": lambda phone: http.put(
            f"{BASE}/Contact",
            json={
                "phoneNumber": phone,
                "lastName": "Marks",
                "segmentationFieldValues": [{"segmentationFieldId": 7005, "value": "yes"}],
            },
        ),
        "Subscribe": lambda phone: http.post(f"{BASE}/Contact/{phone}/PhoneList/{VIP}"),
        "Get Contact Lists": lambda phone: http.get(f"{BASE}/Contact/{phone}/PhoneList"),
        "Unsubscribe": lambda phone: http.delete(
            f"{BASE}/ContactUnsubscribe/{phone}/PhoneList/{MARKETING}"
        ),
        "reference: Get Sender Code": lambda phone: http.get(BASE),
    }


def _measure(http: httpx2.Client, phones: list[str]) -> dict[str, float]:
    """Seconds per request for each operation, run over ``phones`` in order."""
    seconds: dict[str, float] = {}
    for name, call in _operations(http).items():
        started = time.perf_counter()
        for phone in phones:
            answer = call(phone)
            assert answer.status_code < 300, (name, phone, answer.text)
        seconds[name] = (time.perf_counter() - started) / len(phones)
    # Every call did what it should: members of neither list any more but pending on VIP.
    last = http.get(f"{BASE}/Contact/{phones[-1]}/PhoneList").json()["data"]
    assert [(s["phoneListId"], s["subscriptionState"]) for s in last] == [
        (MARKETING, "Unsubscribed"),
        (VIP, "Pending"),
    ]
    return seconds


def _report(title: str, seconds: dict[str, float]) -> None:
    floor = seconds["reference: Get Sender Code"]
    print(f"\n{title}: {CALLS} sequential calls each")
    for name, per_call in seconds.items():
        print(
            f"  {name:28s} {1 / per_call:7.0f} req/s  {per_call * 1000:6.2f} ms/req"
            f"  ({per_call / floor:4.1f}x the reference)"
        )


def test_sms_per_contact_calls() -> None:
    seed = yaml.safe_load(SEED.read_text())
    with EmulatorServer() as server:
        server.seed(seed)
        with _http(server.base_url) as http:
            small = _measure(http, [f"1267555{i:04d}" for i in range(CALLS)])
            started = time.perf_counter()
            server.seed({"sms": {"senderCodes": [_bulk_sender_code()]}})
            seeded = time.perf_counter() - started
            large = _measure(http, [f"1267556{i:04d}" for i in range(CALLS)])
            counts = http.get("/sms/v1/ShortCode/102/PhoneList/6001/Contact", params={"count": 1})
            assert counts.json()["nextPageCursor"]
    _report("sample sandbox (15 contacts)", small)
    _report(f"with a {BULK:,}-contact sender code (seeded in {seeded:.1f} s)", large)
