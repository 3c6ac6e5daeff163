"""Event destination throughput: events/s accepted and delivered, intake latency, vs one call per
event.

Run with ``.venv/bin/pytest -m benchmark benchmarks/bench_events.py -s``
(``BENCH_EVENTS_PROFILE=FILE`` runs ``serve`` under cProfile and writes its stats to FILE). The
emulator answers every request 20 ms late and runs in this process; ``listrak-sync serve``
runs as its own process, and so does the load generator (``benchmarks/events_load.py``), so
that neither the senders nor the emulator hold back serve. The naive baseline, measured in the
same run, sends one Listrak call per event (``POST /List/{id}/Contact`` with the field, 16 in
flight).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
import yaml
from tests.conftest import EMAIL_CLIENT, Emulator, emulator, emulator_server, realism

from benchmarks.events_load import CONTACTS
from benchmarks.events_load import email as _email
from listrak_sync.listrak import (
    ClientSettings,
    Contact,
    Credentials,
    ListrakClient,
    SegmentationFieldValue,
)

__all__ = ["emulator", "emulator_server", "realism"]  # fixtures used here

pytestmark = pytest.mark.benchmark

LIST, FIELD = 7001, 9701
KEY = "bench-write-key"
LATENCY_MS = 20
# BENCH_EVENTS_PROFILE=FILE: run `serve` under cProfile, its stats written to FILE at exit.
PROFILE = (
    ["-m", "cProfile", "-o", os.environ["BENCH_EVENTS_PROFILE"]]
    if os.environ.get("BENCH_EVENTS_PROFILE")
    else []
)


def _seed(emulator: Emulator) -> None:
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": LIST,
                        "listName": "Bench",
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "G",
                                "segmentationFields": [
                                    {"segmentationFieldId": FIELD, "segmentationFieldName": "tier"}
                                ],
                            }
                        ],
                        "contacts": [{"emailAddress": _email(i)} for i in range(CONTACTS)],
                    }
                ]
            }
        }
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(tmp_path: Path, emulator: Emulator) -> tuple[subprocess.Popen[bytes], str]:
    config = {
        "listrak": {"api_url": emulator.base_url, "auth_url": emulator.base_url},
        "credentials": {
            "email": {
                "type": "listrak",
                "client_id": EMAIL_CLIENT[0],
                "client_secret": {"env": "BENCH_EMAIL_SECRET"},
            }
        },
        "destinations": {
            "events": {
                "type": "listrak_events",
                "credential": "email",
                "write_keys": ["sha256:" + hashlib.sha256(KEY.encode()).hexdigest()],
                "batch": {"max_contacts": 1000, "max_wait_seconds": 0.5},
                "mappings": {
                    "tier": {
                        "trigger": {"event": "Tier Changed"},
                        "action": {"list_id": LIST, "fields": {FIELD: "$.properties.tier"}},
                    }
                },
            }
        },
    }
    path = tmp_path / "events.yml"
    path.write_text(yaml.safe_dump(config), "utf-8")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, *PROFILE, "-m", "listrak_sync.cli", "serve", "--config", str(path),
         "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "BENCH_EMAIL_SECRET": EMAIL_CLIENT[1]},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx2.get(url + "/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("serve did not start")
        time.sleep(0.1)


async def _load(
    url: str, serve: int, endpoint: str, tag: str, count: int, concurrency: int
) -> tuple[float, float, list[float], float, float]:
    """Runs the load generator (``benchmarks/events_load.py``) in its own process: returns
    when "go" was given (``perf_counter``), the seconds from then until every request was
    answered, each request's latency, the generator's CPU seconds, and the CPU seconds
    process ``serve`` had used at "go"."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.events_load", url, KEY, endpoint, tag, str(count),
        str(concurrency), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert child.stdin is not None
    assert child.stdout is not None
    # The bodies are encoded and the interpreter warm before the clock starts.
    assert (await child.stdout.readline()).strip() == b"ready"
    serve_cpu, started = _cpu(serve), time.perf_counter()
    child.stdin.write(b"go\n")
    await child.stdin.drain()
    output, _ = await child.communicate()
    assert child.returncode == 0, output
    result = json.loads(output.splitlines()[-1])
    return started, result["seconds"], result["latencies"], result["cpu"], serve_cpu


async def _drained(url: str) -> None:
    async with httpx2.AsyncClient(base_url=url, timeout=30) as http:
        while True:
            health = (await http.get("/healthz")).json()
            if health["queue_depth"] == 0 and health["batches_in_flight"] == 0:
                return
            await asyncio.sleep(0.05)


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _naive(emulator: Emulator, events: int) -> float:
    """One upsert per event, 16 in flight: events/s."""
    creds = Credentials(client_id=EMAIL_CLIENT[0], client_secret=EMAIL_CLIENT[1])  # type: ignore[arg-type]
    settings = ClientSettings.for_base_url(emulator.base_url, max_concurrency=16)
    async with ListrakClient(email=creds, settings=settings) as client:
        started = time.perf_counter()

        async def one(i: int) -> None:
            contact = Contact(
                email_address=_email(i),
                segmentation_field_values=[
                    SegmentationFieldValue(segmentation_field_id=FIELD, value=f"n{i}")
                ],
            )
            await client.email.upsert_contact(LIST, contact)

        await asyncio.gather(*(one(i) for i in range(events)))
        return events / (time.perf_counter() - started)


async def test_event_throughput_and_latency(emulator: Emulator, tmp_path: Path) -> None:
    _seed(emulator)
    emulator.admin.add_fault(latency_ms=LATENCY_MS)
    process, url = _start(tmp_path, emulator)
    try:
        # 0. Warm-up: the first batch delivered makes serve's client connect and load the
        # list's fields (one-time work, e.g. building a TLS context, not CPU per event).
        await _load(url, process.pid, "/v1/batch", "w", 100, 1)
        await _drained(url)
        # 1. Batches of 100 (what Segment and the analytics libraries send), 8 senders.
        total = 20_000
        load = os.getloadavg()[0]
        own_cpu = time.process_time()
        started, accepted, batch_latency, batch_sender_cpu, serve_cpu = await _load(
            url, process.pid, "/v1/batch", "b", total, 8
        )
        intake_cpu = _cpu(process.pid) - serve_cpu
        await _drained(url)
        delivered = time.perf_counter() - started
        serve_cpu, own_cpu = _cpu(process.pid) - serve_cpu, time.process_time() - own_cpu
        # 2. Single track calls, 16 senders: intake latency.
        singles = 3_000
        started, track_accepted, track_latency, track_sender_cpu, track_serve_cpu = await _load(
            url, process.pid, "/v1/track", "s", singles, 16
        )
        await _drained(url)
        track_delivered = time.perf_counter() - started
        track_serve_cpu = _cpu(process.pid) - track_serve_cpu
        # Everything arrived: the last value of each contact is in Listrak.
        async with httpx2.AsyncClient(base_url=emulator.base_url, timeout=60) as http:
            token = emulator.token()
            page = await http.get(
                f"/email/v1/List/{LIST}/Contact",
                params={"count": 5000, "segmentationFieldIds": str(FIELD)},
                headers={"Authorization": f"Bearer {token}"},
            )
        values = {
            c["emailAddress"]: c["segmentationFieldValues"][0]["value"] for c in page.json()["data"]
        }
        last = {_email(i): f"b{i}" for i in range(total)}
        last.update({_email(i): f"s{i}" for i in range(singles)})  # sent after the batches
        assert {e: values[e] for e in last} == last
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    naive_events = 600
    naive_rate = await _naive(emulator, naive_events)
    rate = total / delivered
    print(f"\nevent destination, emulator +{LATENCY_MS} ms per request; load average {load:.1f}")
    print(
        f"batch intake: {total} events in {total // 100} requests, 8 senders: accepted "
        f"{total / accepted:,.0f} events/s, delivered {rate:,.0f} events/s "
        f"({delivered:.1f} s); request p50 {statistics.median(batch_latency) * 1000:.1f} ms, "
        f"p99 {_quantile(batch_latency, 0.99) * 1000:.1f} ms"
    )
    print(
        f"serve process CPU: {intake_cpu:.2f} s until accepted, {serve_cpu:.2f} s until delivered"
        f" ({serve_cpu / total * 1e6:.0f} µs per event: {total / serve_cpu:,.0f} events/s per "
        f"core); load generator {batch_sender_cpu:.2f} s; test process (emulator) "
        f"{own_cpu:.2f} s"
    )
    print(
        f"track intake: {singles} calls, 16 senders: accepted {singles / track_accepted:,.0f} "
        f"events/s, delivered {singles / track_delivered:,.0f} events/s; p50 "
        f"{statistics.median(track_latency) * 1000:.1f} ms, "
        f"p99 {_quantile(track_latency, 0.99) * 1000:.1f} ms; serve CPU "
        f"{track_serve_cpu / singles * 1e6:.0f} µs per event, load generator "
        f"{track_sender_cpu:.2f} s"
    )
    print(
        f"naive (one upsert per event, 16 in flight): {naive_rate:,.0f} events/s over "
        f"{naive_events} events; batched delivery is x{rate / naive_rate:,.1f}"
    )
