"""The SMS sync's own CPU per change, against a canned upstream in its own process.

Run with ``.venv/bin/pytest -m benchmark benchmarks/bench_sms_client_cpu.py -s``
(``BENCH_SMS_CPU_MEMBERS`` sets the larger audience, default 20,000; ``BENCH_SMS_CPU_PROFILE=1``
prints the top of a cProfile of the larger sync). The upstream (``benchmarks/canned_sms.py``)
answers every request with a fixed byte string after 20 ms, so the sync process's CPU time
(``time.process_time``: every thread, DuckDB's included) is the client's alone. Two initial syncs
of new members (one Create Contact each, with two attributes) are measured, of 10% and 100% of
the size: the difference of their CPU over the difference of their changes is the cost per
change without the fixed start (warehouse query, plan, snapshot).

Each is measured twice: over plain HTTP/1.1 (a pool of keep-alive connections) and over
HTTP/1.1 with TLS on loopback (a self-signed certificate made by the benchmark and trusted
through ``SSL_CERT_FILE``), which is what production's client (httpx2's types over aiohttp)
speaks to Listrak's servers.

The baselines, in the same run, post the same JSON bodies with the same 32 requests in flight
over the same protocol: a raw ``httpx2.AsyncClient`` loop (the client's cost before it went to
aiohttp) and a raw ``aiohttp.ClientSession`` loop (the least its wire can spend). The floor is
requests × latency ÷ concurrency.

``BENCH_SMS_CPU_WALL=1`` is the wall-time run for a quiet machine: one sync of 100,000 members
(or ``BENCH_SMS_CPU_MEMBERS``) over HTTP/1.1 + TLS, its wall time against the floor and against
the raw aiohttp loop's wall for the same requests.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import os
import pstats
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import duckdb
import httpx2
import pytest
import yaml
from tests.loopback_tls import loopback_tls

from listrak_sync.project.loader import load_project
from listrak_sync.sync import SyncOptions, sync_campaign

pytestmark = pytest.mark.benchmark

WALL = os.environ.get("BENCH_SMS_CPU_WALL") == "1"
MEMBERS = int(os.environ.get("BENCH_SMS_CPU_MEMBERS", "100000" if WALL else "20000"))
PROFILE = os.environ.get("BENCH_SMS_CPU_PROFILE") == "1"
LATENCY_MS = 20
CONCURRENCY = 32
SECRET_ENV = "BENCH_SMS_CPU_SECRET"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Upstream:
    url: str
    protocol: str  # "HTTP/1.1" or "HTTP/2 + TLS"
    verify: ssl.SSLContext | bool


@pytest.fixture(params=[p for p in ("h1", "tls") if not WALL or p == "tls"])
def upstream(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Upstream]:
    port = _free_port()
    tls: list[str] = []
    verify: ssl.SSLContext | bool = True
    scheme = "http"
    if request.param == "tls":
        made = loopback_tls(tmp_path, "canned")
        tls = ["--cert", str(made.cert_file), "--key", str(made.key_file), "--http1"]
        verify = made.client_context()
        scheme = "https"
        # The sync's own client trusts what the environment says, as in production behind a
        # corporate proxy: the benchmark's certificate only.
        monkeypatch.setenv("SSL_CERT_FILE", str(made.ca_file))
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "benchmarks.canned_sms"),
            *("--port", str(port), "--latency-ms", str(LATENCY_MS), *tls),
        ],
        cwd=Path(__file__).parent.parent,
    )
    url = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _counts(Upstream(url, "", verify))
                break
            except httpx2.TransportError:
                assert process.poll() is None, "the canned upstream exited"
                assert time.monotonic() < deadline, "the canned upstream did not start"
                time.sleep(0.1)
        yield Upstream(url, "HTTP/1.1 + TLS" if tls else "HTTP/1.1", verify)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _project(root: Path, url: str, members: int) -> None:
    config = {
        "version": 1,
        "warehouse": {"connection": "warehouse.duckdb"},
        "listrak": {"api_url": url, "auth_url": url},
        "credentials": {
            "sms": {"type": "listrak", "client_id": "bench", "client_secret": {"env": SECRET_ENV}}
        },
        "destinations": {
            "sms": {
                "type": "listrak_sms",
                "credential": "sms",
                "sender_code_id": 101,
                "list_id": 5001,
                "attributes": [
                    {"column": "first_name", "field": "First Name"},
                    {"column": "loyalty_tier", "field": "Loyalty Tier"},
                ],
            }
        },
        "segments": {"audience": {"sql": "SELECT customer_id FROM customer_360"}},
        "campaigns": {
            "texts": {
                "segment": "audience",
                "groups": [{"name": "all", "percent": 100, "destinations": ["sms"]}],
            }
        },
    }
    (root / "listrak-sync.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute(
            f"""
            CREATE TABLE merged_customers AS
            SELECT i AS customer_id, '+1215' || (2000000 + i)::VARCHAR AS phone,
                   'First' || i::VARCHAR AS first_name,
                   CASE i % 3 WHEN 0 THEN 'Gold' WHEN 1 THEN 'Silver' ELSE 'Bronze' END
                       AS loyalty_tier
            FROM range({members}) t(i)
            """
        )
        con.execute("CREATE TABLE customer_360 AS SELECT customer_id FROM merged_customers")
        con.execute(
            "CREATE TABLE sms_opt_status AS SELECT phone, 'opted_in' AS status "
            "FROM merged_customers"
        )


def _counts(upstream: Upstream) -> dict[str, int]:
    with httpx2.Client(verify=upstream.verify) as http:
        return dict(http.get(f"{upstream.url}/counts").json())


def _sync(tmp_path: Path, upstream: Upstream, members: int, *, profile: bool) -> dict[str, Any]:
    root = tmp_path / f"project-{members}"
    root.mkdir()
    _project(root, upstream.url, members)
    options = SyncOptions(client={"max_concurrency": CONCURRENCY})
    project = load_project(root)
    before = _counts(upstream).get("create", 0)
    profiler = cProfile.Profile(time.process_time) if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    outcome = sync_campaign(project, "texts", options)[0]
    if profiler is not None:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert outcome.status == "succeeded", outcome.error
    creates = _counts(upstream)["create"] - before
    assert creates == members
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        print(out.getvalue())
    return {"members": members, "cpu": cpu, "wall": wall}


def _bodies(requests: int) -> list[bytes]:
    return [
        json.dumps(
            {
                "phoneNumber": f"+1215{3_000_000 + i}",
                "segmentationFieldValues": [
                    {"segmentationFieldId": 7001, "value": f"First{i}"},
                    {"segmentationFieldId": 7003, "value": "Gold"},
                ],
            },
            separators=(",", ":"),
        ).encode()
        for i in range(requests)
    ]


_HEADERS = {"Authorization": "Bearer canned", "Content-Type": "application/json"}
_PATH = "/sms/v1/ShortCode/101/PhoneList/5001/Contact"


async def _workers(requests: int, post: Callable[[bytes], Awaitable[None]]) -> tuple[float, float]:
    """CPU and wall seconds for ``requests`` posts of the bodies, CONCURRENCY in flight."""
    bodies = _bodies(requests)
    position = 0

    async def worker() -> None:
        nonlocal position
        while position < requests:
            body = bodies[position]
            position += 1
            await post(body)

    cpu, wall = time.process_time(), time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(CONCURRENCY):
            group.create_task(worker())
    return time.process_time() - cpu, time.perf_counter() - wall


async def _raw_httpx2(upstream: Upstream, requests: int) -> tuple[float, float]:
    """A raw ``httpx2.AsyncClient`` on its own connection pool (the client before aiohttp)."""
    limits = httpx2.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx2.AsyncClient(limits=limits, verify=upstream.verify) as http:

        async def post(body: bytes) -> None:
            response = await http.post(f"{upstream.url}{_PATH}", content=body, headers=_HEADERS)
            response.json()

        return await _workers(requests, post)


async def _raw_aiohttp(upstream: Upstream, requests: int) -> tuple[float, float]:
    """A raw ``aiohttp.ClientSession``: the least the client's wire can spend per request."""
    connector = aiohttp.TCPConnector(limit=CONCURRENCY, ssl=upstream.verify)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post(body: bytes) -> None:
            async with http.post(f"{upstream.url}{_PATH}", data=body, headers=_HEADERS) as answer:
                json.loads(await answer.read())

        return await _workers(requests, post)


@pytest.mark.timeout(3600)
def test_sms_client_cpu_per_change(tmp_path: Path, upstream: Upstream) -> None:
    os.environ[SECRET_ENV] = "canned"
    load = os.getloadavg()
    floor = MEMBERS * LATENCY_MS / 1000 / CONCURRENCY
    print()
    print(f"{upstream.protocol}, {LATENCY_MS} ms upstream, {CONCURRENCY} in flight")
    if WALL:
        # The quiet-window run: one sync of MEMBERS against the production protocol.
        run = _sync(tmp_path, upstream, MEMBERS, profile=PROFILE)
        # The same requests from a raw aiohttp loop: what this machine and upstream allow any
        # client (the upstream's own CPU and event loop add to the 20 ms on two cores).
        raw_cpu, raw_wall = asyncio.run(_raw_aiohttp(upstream, MEMBERS))
        verdict = "met" if run["wall"] <= 1.2 * floor else "NOT met"
        print(f"load average before: {load[0]:.1f}; after: {os.getloadavg()[0]:.1f}")
        print(
            f"sync of {MEMBERS:,} new members: {run['wall']:.2f} s wall, {run['cpu']:.2f} s CPU "
            f"({run['cpu'] / MEMBERS * 1000:.3f} ms per change); floor {floor:.2f} s → "
            f"{run['wall'] / floor:.2f}x (goal ≤ 1.20x: {verdict})"
        )
        print(
            f"raw aiohttp loop, same requests: {raw_wall:.2f} s wall ({raw_wall / floor:.2f}x the "
            f"floor), {raw_cpu:.2f} s CPU; sync / raw loop {run['wall'] / raw_wall:.2f}x"
        )
        return
    small = _sync(tmp_path, upstream, MEMBERS // 10, profile=False)
    large = _sync(tmp_path, upstream, MEMBERS, profile=PROFILE)
    raw_httpx2, _ = asyncio.run(_raw_httpx2(upstream, MEMBERS))
    raw_aiohttp, _ = asyncio.run(_raw_aiohttp(upstream, MEMBERS))
    marginal = (large["cpu"] - small["cpu"]) / (large["members"] - small["members"])
    print(f"load average before: {load[0]:.1f} {load[1]:.1f}; after: {os.getloadavg()[0]:.1f}")
    for run in (small, large):
        print(
            f"sync of {run['members']:,} new members: {run['cpu']:.2f} s CPU "
            f"({run['cpu'] / run['members'] * 1000:.3f} ms per change), {run['wall']:.2f} s wall"
        )
    print(
        f"marginal CPU per change: {marginal * 1000:.3f} ms (goal ≤ 0.5 ms: "
        f"{'met' if marginal <= 0.0005 else 'NOT met'})"
    )
    for name, cpu in (("httpx2", raw_httpx2), ("aiohttp", raw_aiohttp)):
        per = cpu / MEMBERS
        print(f"raw {name} loop: {per * 1000:.3f} ms per request → sync/raw {marginal / per:.2f}x")
    print(
        f"floor for {MEMBERS:,} requests at {LATENCY_MS} ms with {CONCURRENCY} in flight: "
        f"{floor:.2f} s; sync wall {large['wall']:.2f} s ({large['wall'] / floor:.2f}x)"
    )
