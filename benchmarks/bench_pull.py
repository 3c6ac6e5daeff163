"""Contacts pulled per second at 20 ms of added latency: ``pull`` against a naive loop.

Run with ``.venv/bin/pytest -m benchmark benchmarks/bench_pull.py -s``. ``pull`` reads at the
maximum page size (5,000), overlaps each page's request with the previous page's Arrow batch
and warehouse write, and reads the subscribed and unsubscribed contacts concurrently. The
baseline, in the same run, is what a first attempt looks like: 100-contact pages, one model per
contact, rows inserted into DuckDB page by page.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from tests.conftest import EMAIL_CLIENT, Emulator, emulator, emulator_server

from listrak_sync.config.sources import EmailSource
from listrak_sync.listrak import ClientSettings, Credentials, ListrakClient
from listrak_sync.source import Puller, PullOptions
from listrak_sync.source.sinks import Outbox
from listrak_sync.state import SnapshotStore, StateStore
from listrak_sync.warehouse import connect

__all__ = ["emulator", "emulator_server"]  # fixtures used here

pytestmark = pytest.mark.benchmark

LIST_ID = 5001
CONTACTS = 50_000
START = datetime(2026, 1, 1)


def _seed(emulator: Emulator) -> None:
    fields = [
        {"segmentationFieldName": n, "segmentationFieldId": i}
        for i, n in ((101, "FirstName"), (102, "City"), (103, "CustomerId"))
    ]
    contacts = [
        {
            "emailAddress": f"person{i}@example.com",
            "subscriptionState": "Unsubscribed" if i % 10 == 0 else "Subscribed",
            "subscribeDate": (START + timedelta(seconds=i)).isoformat(),
            "segmentationFieldValues": {
                "FirstName": f"F{i}",
                "City": "Denver",
                "CustomerId": f"C{i}",
            },
        }
        for i in range(1, CONTACTS + 1)
    ]
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": LIST_ID,
                        "listName": "Bench",
                        "segmentationFieldGroups": [
                            {"segmentationFieldGroupName": "P", "segmentationFields": fields}
                        ],
                        "contacts": contacts,
                    }
                ]
            }
        }
    )


def _client(emulator: Emulator) -> ListrakClient:
    return ListrakClient(
        email=Credentials(client_id=EMAIL_CLIENT[0], client_secret=EMAIL_CLIENT[1]),  # type: ignore[arg-type]
        settings=ClientSettings.for_base_url(emulator.base_url),
    )


async def _pull(emulator: Emulator, folder: Path) -> float:
    source = EmailSource(
        type="listrak_email", credential="x", list_id=LIST_ID, fields=[101, 102, 103]
    )
    with (
        connect(str(folder / "warehouse.duckdb")) as warehouse,
        StateStore(folder / "state.sqlite") as store,
        Outbox(folder / "outbox.sqlite") as outbox,
    ):
        puller = Puller(warehouse, store, SnapshotStore(folder / "snap"), outbox, folder / "work")
        async with _client(emulator) as client:
            started = time.perf_counter()
            result = await puller.pull("bench", source, client, PullOptions(full=True))
            seconds = time.perf_counter() - started
        rows = warehouse.query("SELECT count(*) AS n FROM listrak_bench_contacts")
    assert result.status == "succeeded"
    assert rows.column("n")[0].as_py() == CONTACTS
    return CONTACTS / seconds


async def _naive(emulator: Emulator, folder: Path) -> float:
    db = duckdb.connect(str(folder / "naive.duckdb"))
    db.execute(
        "CREATE TABLE contacts (email VARCHAR, state VARCHAR, subscribe_date TIMESTAMP,"
        " first_name VARCHAR, city VARCHAR, customer_id VARCHAR)"
    )
    count = 0
    started = time.perf_counter()
    async with _client(emulator) as client:
        for state in ("Subscribed", "Unsubscribed"):
            page: list[tuple[object, ...]] = []
            async for contact in client.email.contacts(
                LIST_ID,
                subscription_state=state,
                segmentation_field_ids=[101, 102, 103],
                page_size=100,
            ):
                values = {
                    v.segmentation_field_id: v.value for v in contact.segmentation_field_values
                }
                page.append(
                    (
                        contact.email_address,
                        contact.subscription_state,
                        contact.subscribe_date,
                        values.get(101),
                        values.get(102),
                        values.get(103),
                    )
                )
                if len(page) == 100:
                    db.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)", page)
                    count += len(page)
                    page = []
            if page:
                db.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)", page)
                count += len(page)
    seconds = time.perf_counter() - started
    db.close()
    assert count == CONTACTS
    return CONTACTS / seconds


async def test_contacts_pulled_per_second_at_20ms(emulator: Emulator, tmp_path: Path) -> None:
    _seed(emulator)
    emulator.admin.add_fault(latency_ms=20)
    naive = await _naive(emulator, tmp_path)
    pulled = await _pull(emulator, tmp_path)
    print(
        f"\n{CONTACTS:,} contacts, 20 ms added latency:"
        f" pull {pulled:,.0f} contacts/s, naive (100 per page) {naive:,.0f} contacts/s,"
        f" ratio {pulled / naive:.1f}x"
    )
    assert pulled > naive
