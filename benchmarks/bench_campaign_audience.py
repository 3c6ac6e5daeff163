"""Campaign audience over 1,000,000 sample customers: listrak-sync vs a naive baseline.

listrak-sync compiles the segment, exclusion, split, key normalisation and dedupe into one query
per destination and streams the result as Arrow batches. The naive baseline pulls the customer,
profile and order rows into Python and does the same work there with dicts (what a script
around a plain SQL client tends to do). Each approach runs in its own spawned process so that
its peak resident memory (engine, Arrow and Python together) is its own. Both must produce the
same counts per treatment group and status.

Run: ``.venv/bin/pytest -m benchmark benchmarks/bench_campaign_audience.py -s``
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks.memory import peak_rss_mb, rss_mb

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "1000000"))
AS_OF = dt.date(2026, 11, 23)
US = ["US", "USA", "us"]

CONFIG = """
warehouse:
  connection: {warehouse}
  sms_opt_status: {{updated_column: updated_at}}
credentials:
  email: {{type: listrak, client_id: id, client_secret: {{env: UNUSED}}}}
  sms: {{type: listrak, client_id: id, client_secret: {{env: UNUSED}}}}
destinations:
  newsletter:
    type: listrak_email
    credential: email
    list: {{id: 1001}}
    attributes:
      - {{column: first_name, field: FirstName}}
      - {{column: last_name, field: LastName}}
      - city
  texts:
    type: listrak_sms
    credential: sms
    sender_code_id: 101
    list_id: 5001
    attributes: [first_name]
segments:
  us_buyers:
    filter:
      all:
        - {{attribute: country, op: in, value: {us}}}
        - aggregate: {{table: orders, date_column: order_date, within_last_days: 365}}
          op: gte
          value: 1
  high_churn: {{sql: "SELECT customer_id FROM customer_360 WHERE churn_risk = 'high'"}}
campaigns:
  bench:
    segment: us_buyers
    exclude: [high_churn]
    salt: bench
    dedupe: {{prefer: [{{column: updated_at, order: desc}}]}}
    groups:
      - {{name: A, percent: 45, destinations: [newsletter]}}
      - {{name: B, percent: 45, destinations: [newsletter, texts]}}
    control: {{percent: 10}}
"""


def _engine(path: str, destination: str) -> dict[str, Any]:
    from listrak_sync.audiences.campaigns import CampaignAudience
    from listrak_sync.project.loader import parse_project
    from listrak_sync.warehouse import connect

    project = parse_project(CONFIG.format(warehouse=path, us=US), Path(path).parent)
    with connect(path) as warehouse:
        before = rss_mb()
        started = time.perf_counter()
        audience = CampaignAudience(project.config, warehouse, "bench", as_of=AS_OF)
        (unit,) = [u for u in audience.units() if u.destination == destination]
        rows = sum(batch.num_rows for batch in unit.batches())
        seconds = time.perf_counter() - started
    counts = {f"{g}/{s}": n for (g, s), n in sorted(unit.report.counts.items())}
    return {"seconds": seconds, "rows": rows, "rss_mb": peak_rss_mb() - before, "counts": counts}


def _naive(path: str) -> dict[str, Any]:
    from listrak_sync.audiences.keys import EMAIL_PATTERN
    from listrak_sync.warehouse import connect

    with connect(path) as warehouse:
        before = rss_mb()
        started = time.perf_counter()
        customers = warehouse.query(
            "SELECT customer_id, country, churn_risk FROM customer_360"
        ).to_pylist()
        orders = warehouse.query("SELECT customer_id, order_date FROM orders").to_pylist()
        profiles = {
            row["customer_id"]: row
            for row in warehouse.query(
                "SELECT customer_id, email, first_name, last_name, city, updated_at "
                "FROM merged_customers"
            ).to_pylist()
        }
        since = AS_OF - dt.timedelta(days=365)
        recent: Counter[str] = Counter()
        for order in orders:
            day = order["order_date"].date()
            if since <= day <= AS_OF:
                recent[order["customer_id"]] += 1
        countries = set(US)
        members = [
            c["customer_id"]
            for c in customers
            if c["country"] in countries
            and recent[c["customer_id"]] >= 1
            and c["churn_risk"] != "high"
        ]
        pattern = re.compile(EMAIL_PATTERN)
        counts: Counter[str] = Counter()
        best: dict[str, tuple[Any, ...]] = {}
        for customer_id in members:
            bucket = int(hashlib.md5(f"bench:{customer_id}".encode()).hexdigest()[:8], 16) % 10_000
            group = "A" if bucket < 4500 else "B" if bucket < 9000 else "control"
            if group == "control":
                continue
            profile = profiles.get(customer_id) or {}
            email = (profile.get("email") or "").strip().lower()
            if not email:
                counts[f"{group}/missing_key"] += 1
                continue
            if len(email) > 254 or not pattern.match(email):
                counts[f"{group}/invalid_key"] += 1
                continue
            updated = profile.get("updated_at")
            rank = (updated is None, -(updated.timestamp() if updated else 0), customer_id)
            row = (rank, group, customer_id, email, profile.get("first_name"),
                   profile.get("last_name"), profile.get("city"))  # fmt: skip
            current = best.get(email)
            if current is None:
                best[email] = row
            else:
                loser = max(current, row)
                best[email] = min(current, row)
                counts[f"{loser[1]}/duplicate"] += 1
        for row in best.values():
            counts[f"{row[1]}/ok"] += 1
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": len(best),
        "rss_mb": peak_rss_mb() - before,
        "counts": dict(sorted(counts.items())),
    }


def _in_child(function: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result: dict[str, Any] = pool.apply(function, args)
    return result


@pytest.mark.benchmark
def test_campaign_audience_benchmark(tmp_path_factory: pytest.TempPathFactory) -> None:
    from listrak_sync.warehouse import connect
    from listrak_sync.warehouse.sample_data import generate

    path = tmp_path_factory.mktemp("bench") / "warehouse.duckdb"
    started = time.perf_counter()
    with connect(str(path)) as warehouse:
        generate(warehouse, customers=CUSTOMERS, seed=1, as_of=AS_OF)
    generated = time.perf_counter() - started

    engine = _in_child(_engine, str(path), "newsletter")
    naive = _in_child(_naive, str(path))
    sms_cold = _in_child(_engine, str(path), "texts")
    sms_warm = _in_child(_engine, str(path), "texts")

    print(f"\n{CUSTOMERS:,} customers generated in {generated:.1f} s")
    print("| approach | time | peak memory (RSS growth) | rows delivered |")
    print("| --- | ---: | ---: | ---: |")
    for label, result in (
        ("listrak-sync, email destination", engine),
        ("naive baseline (Python dicts), email", naive),
        ("listrak-sync, SMS destination, cold phone cache", sms_cold),
        ("listrak-sync, SMS destination, warm phone cache", sms_warm),
    ):
        print(
            f"| {label} | {result['seconds']:.1f} s | {result['rss_mb']:,.0f} MB "
            f"| {result['rows']:,} |"
        )
    print(
        f"ratio (naive / listrak-sync, email): time {naive['seconds'] / engine['seconds']:.1f}x, "
        f"memory {naive['rss_mb'] / max(engine['rss_mb'], 1):.1f}x"
    )
    print("email counts:", engine["counts"])
    print("sms counts:", sms_warm["counts"])
    assert engine["counts"] == naive["counts"]
    assert engine["rows"] == naive["rows"] > 0
    assert sms_cold["counts"] == sms_warm["counts"]
