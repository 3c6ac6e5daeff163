"""The events benchmark's load generator, run as its own process so that the benchmark's test
process (the emulator) and the senders do not compete for one interpreter, and the measured
rates are serve's.

``python -m benchmarks.events_load URL WRITE_KEY ENDPOINT TAG COUNT CONCURRENCY`` posts COUNT
events (``/v1/batch`` in bodies of 100, or one per ``/v1/track`` call) with CONCURRENCY senders
and prints one JSON line: the seconds taken, every request's latency and the moment it was
answered (``time.perf_counter``, the system's monotonic clock, which the benchmark process
reads too), and its own CPU seconds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from typing import Any

import httpx2

CONTACTS = 2_000
BATCH = 100


def email(i: int) -> str:
    return f"bench{i % CONTACTS:05d}@example.com"


def event(i: int, tag: str) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Tier Changed",
        "userId": f"u{i % CONTACTS}",
        "properties": {"tier": f"{tag}{i}"},
        "context": {"traits": {"email": email(i)}},
    }


def bodies(endpoint: str, tag: str, count: int) -> list[bytes]:
    """Request bodies, encoded before the clock starts."""
    if endpoint == "/v1/batch":
        docs: list[Any] = [
            {"batch": [event(i, tag) for i in range(start, min(start + BATCH, count))]}
            for start in range(0, count, BATCH)
        ]
    else:
        docs = [event(i, tag) for i in range(count)]
    return [json.dumps(doc).encode() for doc in docs]


async def send(url: str, key: str, endpoint: str, payloads: list[bytes], concurrency: int) -> Any:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    latencies: list[float] = []
    answered: list[float] = []  # perf_counter when each request was answered
    pending = list(reversed(payloads))
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:

        async def sender() -> None:
            while pending:
                body = pending.pop()
                started = time.perf_counter()
                answer = await http.post(endpoint, content=body)
                now = time.perf_counter()
                latencies.append(now - started)
                answered.append(now)
                if answer.status_code != 200:
                    raise RuntimeError(f"{endpoint} answered {answer.status_code}: {answer.text}")

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "latencies": latencies, "answered": answered}


def main() -> None:
    url, key, endpoint, tag, count, concurrency = sys.argv[1:7]
    payloads = bodies(endpoint, tag, int(count))
    print("ready", flush=True)
    sys.stdin.readline()  # "go": the benchmark has read serve's CPU time
    cpu = time.process_time()
    result = asyncio.run(send(url, key, endpoint, payloads, int(concurrency)))
    result["cpu"] = time.process_time() - cpu
    print(json.dumps(result))


if __name__ == "__main__":
    main()
