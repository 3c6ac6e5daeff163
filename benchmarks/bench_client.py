"""Listrak client throughput against the emulator: per-contact calls and bulk imports.

Run with ``.venv/bin/pytest -m benchmark benchmarks/bench_client.py -s``. Every figure is compared
with a sequential loop measured in the same run, so the ratio means something on any machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pyarrow as pa
import pytest
from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator, emulator, emulator_server

from listrak_sync.listrak import (
    ClientSettings,
    Contact,
    Credentials,
    ImportColumn,
    ListrakClient,
    SegmentationFieldValue,
)

__all__ = ["emulator", "emulator_server"]  # fixtures used here

pytestmark = pytest.mark.benchmark

SENDER, LIST = 501, 601
CONTACTS = 1_000


def _client(emulator: Emulator, concurrency: int) -> ListrakClient:
    return ListrakClient(
        email=Credentials(client_id=EMAIL_CLIENT[0], client_secret=EMAIL_CLIENT[1]),  # type: ignore[arg-type]
        sms=Credentials(client_id=SMS_CLIENT[0], client_secret=SMS_CLIENT[1]),  # type: ignore[arg-type]
        settings=ClientSettings.for_base_url(
            emulator.base_url, max_concurrency=concurrency, import_poll_interval=0.05
        ),
    )


def _phone(i: int) -> str:
    return f"1215555{i % CONTACTS:04d}"


async def _rate(n: int, call: Callable[[int], Awaitable[object]], concurrent: bool) -> float:
    started = time.perf_counter()
    if concurrent:
        await asyncio.gather(*(call(i) for i in range(n)))
    else:
        for i in range(n):
            await call(i)
    return n / (time.perf_counter() - started)


@pytest.mark.parametrize("latency_ms", [0, 20])
async def test_per_contact_calls_per_second(emulator: Emulator, latency_ms: int) -> None:
    emulator.admin.seed(
        {
            "sms": {
                "senderCodes": [
                    {
                        "shortCodeId": SENDER,
                        "lists": [{"phoneListId": LIST, "phoneListName": "Promos"}],
                        "contacts": [
                            {"phoneNumber": _phone(i), "subscriptions": [LIST]}
                            for i in range(CONTACTS)
                        ],
                    }
                ]
            }
        }
    )
    if latency_ms:
        emulator.admin.add_fault(latency_ms=latency_ms)
    n = 300 if latency_ms == 0 else 150
    print(f"\nper-contact GET Contact, {latency_ms} ms added latency, {n} calls")
    async with _client(emulator, 1) as client:
        await client.sms.get_contact(SENDER, _phone(0))  # token and connection
        sequential = await _rate(n, lambda i: client.sms.get_contact(SENDER, _phone(i)), False)
    with emulator.http(SMS_CLIENT) as http:  # the same loop without the client: its overhead
        path = f"/sms/v1/ShortCode/{SENDER}/Contact/"
        started = time.perf_counter()
        for i in range(n):
            http.get(path + _phone(i)).raise_for_status()
        raw = n / (time.perf_counter() - started)
    print(f"  raw httpx2 loop        {raw:8.1f} req/s")
    print(f"  sequential loop        {sequential:8.1f} req/s")
    for concurrency in (4, 16, 64):
        async with _client(emulator, concurrency) as client:
            await client.sms.get_contact(SENDER, _phone(0))
            rate = await _rate(n, lambda i: client.sms.get_contact(SENDER, _phone(i)), True)
            assert client.metrics.errors == 0
        print(
            f"  concurrency {concurrency:3d}        {rate:8.1f} req/s   "
            f"x{rate / sequential:5.1f} vs sequential"
        )
    async with _client(emulator, 16) as client:
        rate = await _rate(n, lambda i: client.sms.subscribe(SENDER, _phone(i), LIST), True)
    print(f"  subscribe, conc. 16    {rate:8.1f} req/s   x{rate / sequential:5.1f} vs sequential")


async def test_bulk_import_rows_per_second(emulator: Emulator) -> None:
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listName": "Bench",
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "Sync",
                                "segmentationFields": [{"segmentationFieldName": "first_name"}],
                            }
                        ],
                    }
                ]
            }
        }
    )
    with emulator.http() as http:
        list_id = http.get("/email/v1/List").json()["data"][0]["listId"]
        group = http.get(f"/email/v1/List/{list_id}/SegmentationFieldGroup").json()["data"][0]
        fields = http.get(
            f"/email/v1/List/{list_id}/SegmentationFieldGroup/"
            f"{group['segmentationFieldGroupId']}/SegmentationField"
        ).json()["data"]
    field_id = fields[0]["segmentationFieldId"]
    columns = [
        ImportColumn("email", "Email"),
        ImportColumn("first_name", "SegmentationField", field_id),
    ]
    rows = 200_000
    batches = [
        pa.record_batch(
            {
                "email": [f"bulk{i}@example.com" for i in range(start, start + 50_000)],
                "first_name": [f"F{i}" for i in range(start, start + 50_000)],
            }
        )
        for start in range(0, rows, 50_000)
    ]
    async with _client(emulator, 16) as client:
        sample = 300
        started = time.perf_counter()
        await asyncio.gather(
            *(
                client.email.upsert_contact(
                    list_id,
                    Contact(
                        email_address=f"one{i}@example.com",
                        segmentation_field_values=[
                            SegmentationFieldValue(segmentation_field_id=field_id, value=f"F{i}")
                        ],
                    ),
                )
                for i in range(sample)
            )
        )
        per_contact = sample / (time.perf_counter() - started)
        for limit, label in ((None, "one file"), (2_000_000, "2 MB files")):
            started = time.perf_counter()
            results = await client.email.import_contacts(
                list_id, batches, columns=columns, max_file_bytes=limit
            )
            elapsed = time.perf_counter() - started
            assert sum(r.rows for r in results) == rows
            bulk = rows / elapsed
            print(
                f"\nbulk list import ({label}, {len(results)} imports): {rows} rows in "
                f"{elapsed:.2f} s = {bulk:,.0f} rows/s; per-contact upsert at concurrency 16: "
                f"{per_contact:,.0f} rows/s; ratio x{bulk / per_contact:,.0f}"
            )
