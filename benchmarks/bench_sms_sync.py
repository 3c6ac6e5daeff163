"""SMS list sync at 20 ms latency: a 100,000-member initial sync and a 5% churn sync.

Run with ``.venv/bin/pytest -m benchmark benchmarks/bench_sms_sync.py -s`` (``BENCH_SMS_MEMBERS``
changes the size). The emulator runs in its own process (``listrak-sync emulator``) with 20 ms
added to every SMS request, so client and server do not share one interpreter. The baseline is
the seed connector's approach — Get Contact, then Subscribe or Create, one contact at a time —
measured in the same run on a sample and scaled to the same number of changes. The floor is what
the requests cost at the added latency with the client's concurrency: requests × latency /
concurrency.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from tests.conftest import SMS_CLIENT

from listrak_sync.emulator.admin_client import EmulatorAdmin
from listrak_sync.listrak import (
    ClientSettings,
    Credentials,
    ListrakClient,
    ListrakError,
    SmsContact,
)
from listrak_sync.project.loader import load_project
from listrak_sync.sync import SyncOptions, sync_campaign

pytestmark = pytest.mark.benchmark

MEMBERS = int(os.environ.get("BENCH_SMS_MEMBERS", "100000"))
EXISTING_SHARE = 0.1  # of the audience already on the sender code (left the list before)
CHURN = 0.05
LATENCY_MS = 20
CONCURRENCY = 32
SAMPLE = 200
SENDER, LIST, BASELINE_LIST = 101, 5001, 5002
SECRET_ENV = "BENCH_SMS_SECRET"
WRITES = (
    "Contact_PostContactListResource",
    "Contact_PostImportFileResource",
    "ContactListSubscription_PostContactListSubscription",
    "ContactListSubscription_DeleteUnsubscribeContactListSubscription",
)
CLI = str(Path(sys.executable).parent / "listrak-sync")


def _phone(i: int) -> str:
    return f"+1215{2_000_000 + i}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[tuple[str, int]]:
    existing = int(MEMBERS * EXISTING_SHARE)
    seed = {
        "clients": [
            {"client_id": SMS_CLIENT[0], "client_secret": SMS_CLIENT[1], "integration": "sms"}
        ],
        "sms": {
            "fields": [
                {
                    "segmentationFieldId": 7001,
                    "segmentationFieldName": "First Name",
                    "dataType": "Text",
                    "maxLength": 50,
                    "systemField": "firstName",
                },
                {
                    "segmentationFieldId": 7003,
                    "segmentationFieldName": "Loyalty Tier",
                    "dataType": "Text",
                    "maxLength": 20,
                },
            ],
            "senderCodes": [
                {
                    "shortCodeId": SENDER,
                    "code": "55501",
                    "country": "US",
                    "lists": [
                        {"phoneListId": LIST, "phoneListName": "Marketing"},
                        {"phoneListId": BASELINE_LIST, "phoneListName": "Baseline"},
                    ],
                    # Every tenth audience member left the list once: it exists on the sender
                    # code, so the sync subscribes it instead of creating it.
                    "contacts": [
                        {
                            "phoneNumber": _phone(i * 10),
                            "subscriptions": [{"phoneListId": LIST, "state": "Unsubscribed"}],
                        }
                        for i in range(existing)
                    ],
                }
            ],
        },
    }
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [CLI, "emulator", "--port", str(port), "--seed", str(seed_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with EmulatorAdmin(url) as admin:
                    admin.state()
                break
            except Exception:
                assert process.poll() is None, "the emulator exited"
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _project(root: Path, url: str) -> None:
    config = {
        "version": 1,
        "warehouse": {"connection": "warehouse.duckdb"},
        "listrak": {"api_url": url, "auth_url": url},
        "credentials": {
            "sms": {
                "type": "listrak",
                "client_id": SMS_CLIENT[0],
                "client_secret": {"env": SECRET_ENV},
            }
        },
        "destinations": {
            "sms": {
                "type": "listrak_sms",
                "credential": "sms",
                "sender_code_id": SENDER,
                "list_id": LIST,
                "attributes": [
                    {"column": "first_name", "field": "First Name"},
                    {"column": "loyalty_tier", "field": "Loyalty Tier"},
                ],
            }
        },
        "segments": {"audience": {"sql": "SELECT customer_id FROM customer_360 WHERE in_audience"}},
        "campaigns": {
            "texts": {
                "segment": "audience",
                "groups": [{"name": "all", "percent": 100, "destinations": ["sms"]}],
            }
        },
    }
    (root / "listrak-sync.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def _people(root: Path, churned: bool) -> None:
    """MEMBERS customers; with ``churned``, the first 5% leave and 5% new ones join."""
    leave = int(MEMBERS * CHURN)
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE merged_customers AS
            SELECT i AS customer_id, '+1215' || (2000000 + i)::VARCHAR AS phone,
                   'First' || i::VARCHAR AS first_name,
                   CASE i % 3 WHEN 0 THEN 'Gold' WHEN 1 THEN 'Silver' ELSE 'Bronze' END
                       AS loyalty_tier
            FROM range({MEMBERS + leave}) t(i)
            """
        )
        low, high = (leave, MEMBERS + leave) if churned else (0, MEMBERS)
        con.execute(
            "CREATE OR REPLACE TABLE customer_360 AS SELECT customer_id, "
            f"customer_id >= {low} AND customer_id < {high} AS in_audience FROM merged_customers"
        )
        con.execute(
            "CREATE OR REPLACE TABLE sms_opt_status AS SELECT phone, 'opted_in' AS status "
            "FROM merged_customers"
        )


def _writes(admin: EmulatorAdmin) -> tuple[dict[str, int], int]:
    counts = admin.requests()
    writes = {k: v for k, v in counts.items() if k in WRITES and v}
    return writes, sum(counts.values())


def _sync(
    root: Path, label: str, changes: int, admin: EmulatorAdmin, emulator_pid: int
) -> dict[str, Any]:
    admin.clear_requests()
    options = SyncOptions(
        client={
            "max_concurrency": CONCURRENCY,
            "import_poll_interval": 0.2,
            "import_poll_max_interval": 1.0,
        },
    )
    project = load_project(root)
    emulator_cpu, client_cpu = _process_cpu(emulator_pid), time.process_time()
    started = time.perf_counter()
    outcome = sync_campaign(project, "texts", options)[0]
    seconds = time.perf_counter() - started
    emulator_cpu = _process_cpu(emulator_pid) - emulator_cpu
    client_cpu = time.process_time() - client_cpu
    assert outcome.status == "succeeded", outcome.error
    writes, total = _writes(admin)
    per_contact = sum(v for k, v in writes.items() if k != "Contact_PostImportFileResource")
    floor = per_contact * LATENCY_MS / 1000 / CONCURRENCY
    return {
        "label": label,
        "changes": changes,
        "seconds": seconds,
        "writes": writes,
        "requests": total,
        "writes_per_change": sum(writes.values()) / changes,
        "requests_per_change": total / changes,
        "floor": floor,
        "emulator_cpu": emulator_cpu,
        "client_cpu": client_cpu,
        "load": os.getloadavg()[0],
    }


async def _seed_approach(url: str, sample: int) -> tuple[float, int]:
    """The seed connector: Get Contact, then Subscribe or Create, one contact at a time."""
    settings = ClientSettings.for_base_url(url, max_concurrency=1)
    credentials = Credentials(client_id=SMS_CLIENT[0], client_secret=SMS_CLIENT[1])  # type: ignore[arg-type]
    requests = 0
    async with ListrakClient(sms=credentials, settings=settings) as client:
        sms = client.sms
        await sms.get_sender_code(SENDER)  # token outside the timing
        started = time.perf_counter()
        for i in range(sample):
            # Same mix as the audience: one in ten exists on the sender code.
            phone = _phone(i * 10 if i % 10 == 0 else MEMBERS * 2 + i)
            requests += 2
            try:
                await sms.get_contact(SENDER, phone)
            except ListrakError:
                await sms.create_contact(SENDER, BASELINE_LIST, SmsContact(phone_number=phone))
            else:
                await sms.subscribe(SENDER, phone, BASELINE_LIST)
        return time.perf_counter() - started, requests


@pytest.mark.timeout(4 * 3600)
def test_sms_sync_initial_and_churn(tmp_path: Path, emulator_process: tuple[str, int]) -> None:
    url, pid = emulator_process
    os.environ[SECRET_ENV] = SMS_CLIENT[1]
    root = tmp_path / "project"
    root.mkdir()
    _project(root, url)
    _people(root, churned=False)
    with EmulatorAdmin(url) as admin:
        admin.add_fault(path="/sms/v1/", latency_ms=LATENCY_MS)
        baseline_seconds, baseline_requests = asyncio.run(_seed_approach(url, SAMPLE))
        per_change = baseline_seconds / SAMPLE
        initial = _sync(root, "initial", MEMBERS, admin, pid)
        _people(root, churned=True)
        leave = int(MEMBERS * CHURN)
        churn = _sync(root, "5% churn", 2 * leave, admin, pid)
    print()
    print(
        f"seed approach: {SAMPLE} additions in {baseline_seconds:.1f} s "
        f"({per_change * 1000:.1f} ms and {baseline_requests / SAMPLE:.0f} requests per change)"
    )
    for run in (initial, churn):
        seed_estimate = per_change * run["changes"]
        print(
            f"{run['label']}: {run['changes']:,} changes in {run['seconds']:.1f} s; "
            f"writes {run['writes']}; {run['writes_per_change']:.3f} writes and "
            f"{run['requests_per_change']:.3f} requests per change; "
            f"floor {run['floor']:.1f} s ({run['seconds'] / run['floor']:.1f}x the floor); "
            f"seed approach ≈ {seed_estimate:.0f} s → {seed_estimate / run['seconds']:.1f}x faster"
        )
        per_write = run["emulator_cpu"] / sum(run["writes"].values()) * 1000
        print(
            f"  CPU: emulator {run['emulator_cpu']:.1f} s ({per_write:.2f} ms per write), "
            f"sync {run['client_cpu']:.1f} s "
            f"({run['client_cpu'] / run['changes'] * 1000:.2f} ms per change); "
            f"load average at the end {run['load']:.1f}"
        )
