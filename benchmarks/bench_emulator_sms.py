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

``test_emulator_cpu_per_write_in_flight`` measures instead what the emulator's own process
spends (CPU from ``/proc/<pid>/stat``) per Create Contact, per Subscribe and per Unsubscribe
with 8 and 32 requests in flight, as an SMS sync sends them: the emulator in its own process
(``listrak-sync emulator``), once with its batched writes and once without
(``LISTRAK_EMULATOR_BATCH_WRITES=0``, the one-request path), in alternation in the same run.
``BENCH_SMS_WRITES`` sets the writes per measurement (default 2000).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from listrak_sync.emulator import EmulatorServer
from listrak_sync.emulator.admin_client import EmulatorAdmin
from listrak_sync.emulator.sms.batch import BATCH_ENV

pytestmark = pytest.mark.benchmark

CALLS = int(os.environ.get("BENCH_SMS_CALLS", "500"))
WRITES = int(os.environ.get("BENCH_SMS_WRITES", "2000"))
CLI = str(Path(sys.executable).parent / "listrak-sync")
BULK = 100_000
SEED = Path(__file__).parents[1] / "src/listrak_sync/emulator/sample_seed.yml"
CLIENT = ("demo-sms", "demo-sms-secret")
BASE = "/sms/v1/ShortCode/101"
MARKETING, VIP = 5001, 5002  # VIP asks for double opt-in: subscribing makes members pending


def _http(base_url: str) -> httpx2.Client:
    return httpx2.Client(base_url=base_url, headers={"Authorization": f"Bearer {_token(base_url)}"})


def _token(base_url: str) -> str:
    """A bearer token for the benchmark's SMS client."""
    answer = httpx2.post(
        f"{base_url}/OAuth2/Token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT[0],
            "client_secret": CLIENT[1],
        },
    )
    token: str = answer.json()["access_token"]
    return token


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


def _new_contact(phone: str) -> dict[str, Any]:
    """Create Contact's body: a new number with two profile values."""
    return {
        "phoneNumber": phone,
        "firstName": "Bench",
        "segmentationFieldValues": [
            {"segmentationFieldId": 7003, "value": "Gold"},
            {"segmentationFieldId": 7004, "value": "12.50"},
        ],
    }


def _operations(http: httpx2.Client) -> dict[str, Callable[[str], httpx2.Response]]:
    return {
        "Create Contact": lambda phone: http.post(
            f"{BASE}/PhoneList/{MARKETING}/Contact", json=_new_contact(phone)
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


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Emulator:
    """``listrak-sync emulator`` in its own process, seeded with the sample sandbox."""

    def __init__(self, tmp_path: Path, *, batched: bool) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        seed_file = tmp_path / "seed.json"
        seed_file.write_text(json.dumps(yaml.safe_load(SEED.read_text())))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, BATCH_ENV: "1" if batched else "0"}
        self.process = subprocess.Popen(
            [CLI, "emulator", "--port", str(port), "--seed", str(seed_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                with EmulatorAdmin(self.url) as admin:
                    admin.state()
                return
            except Exception:
                assert self.process.poll() is None, "the emulator exited"
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


WRITE_OPERATIONS = ("Create Contact", "Subscribe", "Unsubscribe")


async def _writes(url: str, pid: int, in_flight: int, exchange: str) -> list[float]:
    """Emulator CPU ms per Create Contact, then per Subscribe (to the double opt-in list), then
    per Unsubscribe (from it), for ``WRITES`` new numbers with ``in_flight`` requests at a
    time."""
    token = _token(url)
    phones = [f"1267{exchange}{i:04d}" for i in range(WRITES)]
    limits = httpx2.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx2.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=120
    ) as http:
        operations = _operations_async(http)
        per_write: list[float] = []
        for name in WRITE_OPERATIONS:
            call = operations[name]
            queue = iter(phones)

            async def worker() -> None:
                for phone in queue:  # noqa: B023 - each operation's own queue and call
                    answer = await call(phone)  # noqa: B023
                    assert answer.status_code < 300, (name, phone, answer.text)  # noqa: B023

            before = _process_cpu(pid)
            await asyncio.gather(*(worker() for _ in range(in_flight)))
            per_write.append((_process_cpu(pid) - before) / WRITES * 1000)
    return per_write


def _operations_async(http: httpx2.AsyncClient) -> dict[str, Callable[[str], Any]]:
    return {
        "Create Contact": lambda phone: http.post(
            f"{BASE}/PhoneList/{MARKETING}/Contact", json=_new_contact(phone)
        ),
        "Subscribe": lambda phone: http.post(f"{BASE}/Contact/{phone}/PhoneList/{VIP}"),
        "Unsubscribe": lambda phone: http.delete(
            f"{BASE}/ContactUnsubscribe/{phone}/PhoneList/{VIP}"
        ),
    }


def test_emulator_cpu_per_write_in_flight(tmp_path: Path) -> None:
    load_before = os.getloadavg()[0]
    emulators = {
        "one request at a time": _Emulator(tmp_path / "one", batched=False),
        "batched": _Emulator(tmp_path / "batched", batched=True),
    }
    try:
        figures: dict[tuple[str, int], list[list[float]]] = {}
        for round_ in range(2):  # in alternation, best of two
            for in_flight in (8, 32):
                for number, (name, emulator) in enumerate(emulators.items()):
                    exchange = f"7{round_}{number * 2 + (in_flight == 32)}"
                    figures.setdefault((name, in_flight), []).append(
                        asyncio.run(
                            _writes(emulator.url, emulator.process.pid, in_flight, exchange)
                        )
                    )
    finally:
        for emulator in emulators.values():
            emulator.stop()
    load = os.getloadavg()
    print(
        f"\nemulator CPU per write, {WRITES} writes each, best of two "
        f"(load {load_before:.1f} before, {load[0]:.1f} after)"
    )
    for in_flight in (8, 32):
        base = figures[("one request at a time", in_flight)]
        best_base = [min(run[k] for run in base) for k in range(len(WRITE_OPERATIONS))]
        for name in emulators:
            runs = figures[(name, in_flight)]
            best = [min(run[k] for run in runs) for k in range(len(WRITE_OPERATIONS))]
            print(
                f"  {in_flight:2d} in flight, {name:22s} "
                + "  ".join(
                    f"{operation} {ms:5.2f} ms (x{base_ms / ms:4.1f})"
                    for operation, ms, base_ms in zip(
                        WRITE_OPERATIONS, best, best_base, strict=True
                    )
                )
            )
