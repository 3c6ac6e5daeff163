"""Event destination throughput: events/s accepted and delivered, intake latency, vs one call per
event.

Run with ``.venv/bin/pytest -m benchmark benchmarks/bench_events.py -s``
(``BENCH_EVENTS_TOTAL=N`` sends N events through ``/v1/batch``, 100,000 by default;
``BENCH_EVENTS_PROFILE=FILE`` runs ``serve`` under cProfile and writes its stats to FILE;
``BENCH_EVENTS_LOG=FILE`` runs it at log level info, its log lines (one per batch delivered)
written to FILE). The
emulator answers every request 20 ms late and runs in this process; ``listrak-sync serve``
runs as its own process, and so does the load generator (``benchmarks/events_load.py``), so
that neither the senders nor the emulator hold back serve. The naive baseline, measured in the
same run, sends one Listrak call per event (``POST /List/{id}/Contact`` with the field, 16 in
flight).

Delivery is reported twice: over the whole run (first request until the last import
finished, so it includes the tail after the last request: the imports then in flight and the
next ones of the same contacts), and over a steady window in the middle of intake, from the
updates-delivered counter of ``/metrics`` sampled every 0.2 s. In steady state delivery keeps
up with intake when the backlog (accepted minus delivered) does not grow across the window.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
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
TOTAL = int(os.environ.get("BENCH_EVENTS_TOTAL", "100000"))
SAMPLE_SECONDS = 0.2
# The steady window: this share of intake time, cut from the start (delivery getting going)
# and from the end (the last senders finishing).
WINDOW = (0.2, 0.9)
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
    log_file = os.environ.get("BENCH_EVENTS_LOG")
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
         "--port", str(port), "--log-level", "info" if log_file else "warning"],
        env={**os.environ, "BENCH_EMAIL_SECRET": EMAIL_CLIENT[1]},
        stderr=open(log_file, "wb") if log_file else None,  # noqa: SIM115 (the child owns it)
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


@dataclass
class _Load:
    started: float  # perf_counter when "go" was given
    seconds: float  # from then until every request was answered
    latencies: list[float]  # of each request
    answered: list[float]  # perf_counter when each request was answered
    cpu: float  # the load generator's CPU seconds
    serve_cpu: float  # CPU seconds serve had used at "go"


async def _load(
    url: str, serve: int, endpoint: str, tag: str, count: int, concurrency: int
) -> _Load:
    """Runs the load generator (``benchmarks/events_load.py``) in its own process."""
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
    return _Load(
        started,
        result["seconds"],
        result["latencies"],
        result["answered"],
        result["cpu"],
        serve_cpu,
    )


async def _sample_delivered(url: str, samples: list[tuple[float, float]]) -> None:
    """Appends ``(perf_counter, updates delivered so far)`` every SAMPLE_SECONDS until
    cancelled (serve's ``/metrics``, every route summed)."""
    async with httpx2.AsyncClient(base_url=url, timeout=30) as http:
        while True:
            samples.append((time.perf_counter(), await _delivered_count(http)))
            await asyncio.sleep(SAMPLE_SECONDS)


async def _delivered_count(http: httpx2.AsyncClient) -> float:
    # No line until the first batch was delivered (a labelled counter has no series yet).
    return (await _metrics(http)).get("listrak_events_updates_delivered_total", 0.0)


async def _metrics(http: httpx2.AsyncClient) -> dict[str, float]:
    """serve's metrics, each name's series summed over their labels."""
    sums: dict[str, float] = {}
    for line in (await http.get("/metrics")).text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("{", 1)[0].split(" ", 1)[0], line.rsplit(" ", 1)[1]
            sums[name] = sums.get(name, 0.0) + float(value)
    return sums


def _phases(log: str | None, since: str) -> str:
    """Medians of the "batch delivered" log lines' step seconds (serve's log, if kept), for
    batches logged after ISO time ``since``."""
    if not log:
        return ""
    lines = [json.loads(line) for line in Path(log).read_text().splitlines() if line[:1] == "{"]
    batches = [x for x in lines if x.get("event") == "batch delivered" and x["timestamp"] > since]
    steps = ("start", "import", "results")
    medians = {
        step: statistics.median(x.get(f"{step}_seconds", 0.0) for x in batches) for step in steps
    }
    return "; median per batch: " + ", ".join(
        f"{step} {seconds * 1000:.0f} ms" for step, seconds in medians.items()
    )


def _at(samples: list[tuple[float, float]], moment: float) -> float:
    """The sampled count at ``moment``, interpolated linearly."""
    for (t0, v0), (t1, v1) in itertools.pairwise(samples):
        if t0 <= moment <= t1:
            return v0 + (v1 - v0) * (moment - t0) / (t1 - t0)
    raise ValueError("moment outside the samples")


def _steady(
    load: _Load, samples: list[tuple[float, float]], batch_size: int, before: float
) -> tuple[float, float, float, float, float]:
    """Over the steady window of intake: its seconds, events/s accepted and delivered, and
    the backlog (accepted but not yet delivered) at its start and end. ``before`` is the
    delivered count when the load started."""
    start = load.started + WINDOW[0] * load.seconds
    end = load.started + WINDOW[1] * load.seconds
    answered = sorted(load.answered)

    def accepted(moment: float) -> float:
        return batch_size * bisect.bisect_right(answered, moment)

    def delivered(moment: float) -> float:
        return _at(samples, moment) - before

    seconds = end - start
    return (
        seconds,
        (accepted(end) - accepted(start)) / seconds,
        (delivered(end) - delivered(start)) / seconds,
        accepted(start) - delivered(start),
        accepted(end) - delivered(end),
    )


async def _delivered(url: str, count: float) -> float:
    """Waits until serve has delivered ``count`` updates since it started (its counter grows
    once an import finished and its rows left the queue); returns that moment
    (``perf_counter``, to 20 ms). /healthz's queue depth is not used: it is as of serve's
    last queue scan, once a second, which made runs end up to a second late."""
    async with httpx2.AsyncClient(base_url=url, timeout=30) as http:
        while await _delivered_count(http) < count:  # noqa: ASYNC110 (another process)
            await asyncio.sleep(0.02)
    return time.perf_counter()


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _import_turnaround(emulator: Emulator, since: float) -> tuple[int, float, float]:
    """The emulator's list imports started after ``since`` (its clock, seconds): how many,
    and the median seconds each waited in its import queue and was processed (Listrak, and
    the emulator, run a list's imports one at a time in the order they were posted)."""
    with emulator.server.state.cursor() as cur:
        rows = cur.execute(
            "SELECT epoch(start_date) - epoch(import_date), epoch(end_date) - epoch(start_date)"
            " FROM email_import WHERE epoch(import_date) >= ? AND end_date IS NOT NULL",
            [since],
        ).fetchall()
    if not rows:
        return 0, 0.0, 0.0
    return (
        len(rows),
        statistics.median(r[0] for r in rows),
        statistics.median(r[1] for r in rows),
    )


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
    samples: list[tuple[float, float]] = []
    try:
        # 0. Warm-up: the first batch delivered makes serve's client connect and load the
        # list's fields (one-time work, e.g. building a TLS context, not CPU per event).
        await _load(url, process.pid, "/v1/batch", "w", 100, 1)
        await _delivered(url, 100)
        # 1. Batches of 100 (what Segment and the analytics libraries send), 8 senders.
        total = TOTAL
        load = os.getloadavg()[0]
        own_cpu = time.process_time()
        async with httpx2.AsyncClient(base_url=url, timeout=30) as http:
            metrics_before = await _metrics(http)
        before = metrics_before["listrak_events_updates_delivered_total"]
        log_since = datetime.now(UTC).isoformat()
        emulator_since = emulator.server.state.clock()
        sampler = asyncio.create_task(_sample_delivered(url, samples))
        batch = await _load(url, process.pid, "/v1/batch", "b", total, 8)
        intake_cpu = _cpu(process.pid) - batch.serve_cpu
        finished = await _delivered(url, before + total)
        delivered = finished - batch.started
        await asyncio.sleep(SAMPLE_SECONDS * 1.5)  # one sample after the end
        sampler.cancel()
        async with httpx2.AsyncClient(base_url=url, timeout=30) as http:
            metrics_after = await _metrics(http)
        batches = {
            name: metrics_after[name] - metrics_before.get(name, 0.0)
            for name in (
                "listrak_events_batch_seconds_count",
                "listrak_events_batch_seconds_sum",
                "listrak_events_batch_contacts_sum",
            )
        }
        serve_cpu, own_cpu = _cpu(process.pid) - batch.serve_cpu, time.process_time() - own_cpu
        imports, queued_seconds, processing_seconds = _import_turnaround(emulator, emulator_since)
        window, window_accepted, window_delivered, backlog_start, backlog_end = _steady(
            batch, samples, 100, before
        )
        # 2. Single track calls, 16 senders: intake latency.
        singles = 3_000
        track = await _load(url, process.pid, "/v1/track", "s", singles, 16)
        track_delivered = await _delivered(url, before + total + singles) - track.started
        track_serve_cpu = _cpu(process.pid) - track.serve_cpu
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
    last_answer = max(batch.answered)
    print(f"\nevent destination, emulator +{LATENCY_MS} ms per request; load average {load:.1f}")
    print(
        f"batch intake: {total:,} events in {total // 100:,} requests, 8 senders: accepted "
        f"{total / batch.seconds:,.0f} events/s ({batch.seconds:.1f} s); intake latency "
        f"(request answered, its events fsync'd) p50 "
        f"{statistics.median(batch.latencies) * 1000:.1f} ms, "
        f"p99 {_quantile(batch.latencies, 0.99) * 1000:.1f} ms"
    )
    print(
        f"delivered, whole run: {rate:,.0f} events/s (all {total:,} in Listrak {delivered:.1f} s "
        f"after the first request, {finished - last_answer:.2f} s after the last was answered)"
    )
    print(
        f"delivered, steady window ({WINDOW[0]:.0%}-{WINDOW[1]:.0%} of intake, {window:.1f} s): "
        f"{window_delivered:,.0f} events/s while {window_accepted:,.0f} events/s were accepted; "
        f"backlog {backlog_start:,.0f} -> {backlog_end:,.0f} events"
    )
    count = batches["listrak_events_batch_seconds_count"]
    print(
        f"delivery batches: {count:.0f}, on average {total / count:,.0f} events coalesced into "
        f"{batches['listrak_events_batch_contacts_sum'] / count:,.0f} contacts, "
        f"{batches['listrak_events_batch_seconds_sum'] / count:.2f} s from cut to import "
        f"finished and results read{_phases(os.environ.get('BENCH_EVENTS_LOG'), log_since)}"
    )
    print(
        f"emulator list imports: {imports}, median {queued_seconds * 1000:.0f} ms queued and "
        f"{processing_seconds * 1000:.0f} ms processing each"
    )
    print(
        f"serve process CPU: {intake_cpu:.2f} s until accepted, {serve_cpu:.2f} s until delivered"
        f" ({serve_cpu / total * 1e6:.0f} µs per event: {total / serve_cpu:,.0f} events/s per "
        f"core); load generator {batch.cpu:.2f} s; test process (emulator) "
        f"{own_cpu:.2f} s"
    )
    print(
        f"track intake: {singles} calls, 16 senders: accepted {singles / track.seconds:,.0f} "
        f"events/s, delivered {singles / track_delivered:,.0f} events/s; intake latency p50 "
        f"{statistics.median(track.latencies) * 1000:.1f} ms, "
        f"p99 {_quantile(track.latencies, 0.99) * 1000:.1f} ms; serve CPU "
        f"{track_serve_cpu / singles * 1e6:.0f} µs per event, load generator "
        f"{track.cpu:.2f} s"
    )
    print(
        f"naive (one upsert per event, 16 in flight): {naive_rate:,.0f} events/s over "
        f"{naive_events} events; batched delivery is x{rate / naive_rate:,.1f}"
    )
