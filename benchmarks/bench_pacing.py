"""Pacing against a leaky bucket the client is not told about.

Run with ``.venv/bin/pytest -m benchmark benchmarks/bench_pacing.py -s``
(``BENCH_PACING_SECONDS`` sets each scenario's length, default 30; ``BENCH_PACING_RATES``,
``BENCH_PACING_MODES`` and ``BENCH_PACING_SHARED=0`` pick scenarios). The emulator runs in its own
process with a rate rule on the SMS sender code resource: a leaky bucket of ``rate`` requests/s
holding ``rate`` requests (one second of burst), answering a bare 429 — no Retry-After, no error
body — as real Listrak may. Each load runs in its own process: 16 workers calling Get Sender
Code in a loop for the scenario's length, through the client (its retries take the 429s). What
is measured: calls completed per second against the bucket's rate, and the share of requests
answered 429.

Scenarios: 10, 50 and 200 requests/s; the limit halving halfway (the bucket rule is replaced, so
it restarts empty); two processes sharing one integration's bucket. Each in three ways, in the
same run: the client's adaptive pacing with no rate configured; a fixed rate at 75% of the true
limit (what integrators configure), and no pacing (adaptive off, no cap: retries only).
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

import pytest

from listrak_sync.emulator.admin_client import EmulatorAdmin

pytestmark = pytest.mark.benchmark

SECONDS = float(os.environ.get("BENCH_PACING_SECONDS", "30"))
RATES = [float(r) for r in os.environ.get("BENCH_PACING_RATES", "10,50,200").split(",")]
MODES = os.environ.get("BENCH_PACING_MODES", "adaptive,fixed,none").split(",")
SHARED = os.environ.get("BENCH_PACING_SHARED", "1") == "1"  # the halving and two-process rows
SMS_CLIENT = ("test-sms", "test-sms-secret-9d2e")
SENDER = 101
WORKERS = 16
CLI = str(Path(sys.executable).parent / "listrak-sync")
RULE_PATH = f"^/sms/v1/ShortCode/{SENDER}$"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[str]:
    seed = {
        "clients": [
            {"client_id": SMS_CLIENT[0], "client_secret": SMS_CLIENT[1], "integration": "sms"}
        ],
        "sms": {"senderCodes": [{"shortCodeId": SENDER, "code": "55501", "country": "US"}]},
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
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


# --- the load, in its own process ----------------------------------------------------------


async def _load(url: str, mode: str, rate: float, seconds: float, halve: bool) -> dict[str, Any]:
    """Calls for ``seconds``; counts over the steady part (after the first quarter, and with
    ``halve`` also leaving out the tenth after the limit was halved at half time)."""
    from listrak_sync.listrak import (
        ClientSettings,
        Credentials,
        ListrakClient,
        ListrakError,
        PacingPolicy,
        RetryPolicy,
    )

    if mode == "adaptive":
        pacing = PacingPolicy()
    elif mode == "fixed":
        pacing = PacingPolicy(adaptive=False, rate_limit=0.75 * rate)
    else:
        pacing = PacingPolicy(adaptive=False)
    settings = ClientSettings.for_base_url(
        url,
        max_concurrency=WORKERS,
        pacing=pacing,
        retry=RetryPolicy(attempts=1000, timeout=600, wait_initial=0.05, wait_max=1.0),
    )
    credentials = Credentials(client_id=SMS_CLIENT[0], client_secret=SMS_CLIENT[1])  # type: ignore[arg-type]
    done = failed = 0
    marks: dict[str, tuple[int, int, int]] = {}
    async with ListrakClient(sms=credentials, settings=settings) as client:
        await client.session("sms").tokens.get()  # the token outside the measurement
        metrics = client.metrics
        start = time.monotonic()
        deadline = start + seconds

        async def worker() -> None:
            nonlocal done, failed
            while time.monotonic() < deadline:
                try:
                    await client.sms.get_sender_code(SENDER)
                except ListrakError:
                    failed += 1
                else:
                    if time.monotonic() <= deadline:
                        done += 1

        async def mark(name: str, at: float) -> None:
            await asyncio.sleep(start + at - time.monotonic())
            marks[name] = (done, metrics.requests, metrics.rate_limited)
            if name == "half" and halve:
                with EmulatorAdmin(url) as admin:
                    _bucket(admin, rate / 2)

        await asyncio.gather(
            *(worker() for _ in range(WORKERS)),
            mark("warm", seconds / 4),
            mark("half", seconds / 2),
            mark("settled", seconds * 0.6),
            mark("end", seconds),
        )
    windows = [("warm", "half"), ("settled", "end")] if halve else [("warm", "end")]
    counted = [tuple(b - a for a, b in zip(marks[x], marks[y], strict=True)) for x, y in windows]
    lengths = [seconds / 4, seconds * 0.4] if halve else [seconds * 0.75]
    allowed = [rate, rate / 2] if halve else [rate]
    return {
        "done": sum(c[0] for c in counted),
        "requests": sum(c[1] for c in counted),
        "rate_limited": sum(c[2] for c in counted),
        "seconds": sum(lengths),
        "allowed": sum(r * t for r, t in zip(allowed, lengths, strict=True)),
        "failed": failed,
    }


def _spawn(url: str, mode: str, rate: float, halve: bool) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "benchmarks.bench_pacing", url, mode),
            *(str(rate), str(SECONDS), "halve" if halve else "steady"),
        ],
        cwd=Path(__file__).parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )


def _collect(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate(timeout=SECONDS * 10 + 120)
    assert process.returncode == 0
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


# --- the scenarios -------------------------------------------------------------------------


def _bucket(admin: EmulatorAdmin, rate: float) -> None:
    admin.clear_faults()
    admin.add_fault(path=RULE_PATH, rate_per_second=rate, burst=max(1, int(rate)), bare_429=True)


def _scenario(
    url: str, mode: str, rate: float, *, halve: bool = False, processes: int = 1
) -> dict[str, Any]:
    with EmulatorAdmin(url) as admin:
        _bucket(admin, rate)
        load = os.getloadavg()[0]
        running = [_spawn(url, mode, rate, halve) for _ in range(processes)]
        results = [_collect(process) for process in running]
        admin.clear_faults()
    done = sum(r["done"] for r in results)
    requests = sum(r["requests"] for r in results)
    limited = sum(r["rate_limited"] for r in results)
    # Two processes share one bucket: what they may send together is one process's allowance.
    allowed = results[0]["allowed"]
    return {
        "mode": mode,
        "rate": rate,
        "halve": halve,
        "processes": processes,
        "throughput": done / results[0]["seconds"],
        "share": done / allowed,
        "limited": limited / requests if requests else 0.0,
        "failed": sum(r["failed"] for r in results),
        "load": load,
    }


@pytest.mark.timeout(3 * 3600)
def test_pacing_against_an_unpublished_bucket(emulator: str) -> None:
    rows: list[dict[str, Any]] = []
    for rate in RATES:
        for mode in MODES:
            rows.append(_scenario(emulator, mode, rate))
    if SHARED:
        for mode in MODES:
            rows.append(_scenario(emulator, mode, 50.0, halve=True))
        for mode in MODES:
            rows.append(_scenario(emulator, mode, 50.0, processes=2))
    print()
    print(
        f"{SECONDS:.0f} s per scenario, counted after the first quarter (and, when the limit is "
        "halved at half time, not in the tenth after); bare 429s; bucket of one second's requests"
    )
    print("| scenario | pacing | calls/s | share of the bucket's rate | 429s | failed | load |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        scenario = f"{row['rate']:.0f}/s"
        if row["halve"]:
            scenario += f" → {row['rate'] / 2:.0f}/s halfway"
        if row["processes"] > 1:
            scenario += f", {row['processes']} processes"
        print(
            f"| {scenario} | {row['mode']} | {row['throughput']:.1f} | {row['share']:.0%} | "
            f"{row['limited']:.1%} | {row['failed']} | {row['load']:.1f} |"
        )


if __name__ == "__main__":
    _url, _mode, _rate, _seconds, _halve = sys.argv[1:6]
    _result = asyncio.run(_load(_url, _mode, float(_rate), float(_seconds), _halve == "halve"))
    print(json.dumps(_result))
