"""Email list sync end to end: a 1,000,000-member initial sync and a 1% churn incremental sync.

Run with ``.venv/bin/pytest -m benchmark benchmarks/bench_email_sync.py -s`` (members:
``BENCH_EMAIL_MEMBERS``, default 1,000,000). The emulator runs in this process with 20 ms added
to every request; each sync is the real CLI in a subprocess (its wall time and peak RSS are
measured for it alone). The baseline, measured in the same run, is what event-driven
integrations do: one create-or-update call per member (``POST /List/{id}/Contact`` with the
audience field and attributes), 16 in flight, on a sample of members; its time for the whole
audience is extrapolated from the sample.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from tests.conftest import EMAIL_CLIENT, Emulator, emulator, emulator_server, realism

from listrak_sync.listrak import (
    ClientSettings,
    Contact,
    Credentials,
    ListrakClient,
    SegmentationFieldValue,
)

__all__ = ["emulator", "emulator_server", "realism"]  # fixtures used here

pytestmark = pytest.mark.benchmark

MEMBERS = int(os.environ.get("BENCH_EMAIL_MEMBERS", "1000000"))
SAMPLE = 2_000
LATENCY_MS = 20
CLI = str(Path(sys.executable).parent / "listrak-sync")
SECRET_ENV = "BENCH_EMAIL_SECRET"


def _project(root: Path, emulator: Emulator, extra: int | None = None) -> None:
    """The project and its warehouse: MEMBERS members, then ``extra`` (default 0.5%) waiting
    to enter."""
    root.mkdir()
    _config(root, emulator, "auto")
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        # Customers 0..MEMBERS-1 are members; MEMBERS.. wait to enter.
        total = MEMBERS + (MEMBERS // 200 if extra is None else extra)
        con.execute(
            f"""
            CREATE TABLE customer_360 AS
            SELECT 'C' || lpad(i::VARCHAR, 8, '0') AS customer_id, i < {MEMBERS} AS member
            FROM range({total}) t(i);
            CREATE TABLE merged_customers AS
            SELECT 'C' || lpad(i::VARCHAR, 8, '0') AS customer_id,
                   'member' || i || '@example.com' AS email,
                   'First' || (i % 5000) AS first_name,
                   ['Boston', 'Denver', 'Austin', 'Reno'][1 + i % 4] AS city
            FROM range({total}) t(i);
            """
        )


def _config(root: Path, emulator: Emulator, writes: str) -> None:
    config = {
        "version": 1,
        "warehouse": {"connection": "warehouse.duckdb"},
        "listrak": {"api_url": emulator.base_url, "auth_url": emulator.base_url},
        "credentials": {
            "email": {
                "type": "listrak",
                "client_id": EMAIL_CLIENT[0],
                "client_secret": {"env": SECRET_ENV},
            }
        },
        "destinations": {
            "newsletter": {
                "type": "listrak_email",
                "credential": "email",
                "list": {"name": "Newsletter"},
                "attributes": [
                    {"column": "first_name", "field": "FirstName"},
                    {"column": "city", "field": "City"},
                ],
                "create_missing_fields": True,
                "writes": writes,
            }
        },
        "segments": {"members": {"sql": "SELECT customer_id FROM customer_360 WHERE member"}},
        "campaigns": {
            "spring": {
                "segment": "members",
                "groups": [{"name": "all", "percent": 100, "destinations": ["newsletter"]}],
            }
        },
    }
    (root / "listrak-sync.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def _churn(root: Path) -> None:
    """1% churn: 0.5% of the members leave, 0.5% enter."""
    half = MEMBERS // 200
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute(
            f"UPDATE customer_360 SET member = NOT member"
            f" WHERE customer_id < 'C' || lpad('{half}', 8, '0') OR customer_id >="
            f" 'C' || lpad('{MEMBERS}', 8, '0')"
        )


CPU_SECONDS: list[float] = []  # user + system CPU of each _sync's process, in order


def _sync(root: Path) -> tuple[float, float, dict[str, Any]]:
    """Run ``listrak-sync sync`` in a subprocess: (seconds, peak RSS in MB, JSON document);
    its CPU time (user + system, every thread) is appended to ``CPU_SECONDS``.

    The peak RSS is the one the run recorded (``VmHWM`` at each phase's end): ``wait4``'s
    ``ru_maxrss`` also counts this process's memory at the fork (the emulator's list and the
    warehouse built here), which made the 10M-member sync look 3.29 GB big."""
    env = {
        **os.environ,
        SECRET_ENV: EMAIL_CLIENT[1],
        "LISTRAK_SYNC_CLIENT_SETTINGS": json.dumps({"import_poll_interval": 0.25}),
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        [CLI, "sync", "spring", "--json", "-p", str(root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # wait4 reports the resources of this child alone (stdout is small: read after).
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    CPU_SECONDS.append(usage.ru_utime + usage.ru_stime)
    out = process.stdout.read() if process.stdout else ""
    err = process.stderr.read() if process.stderr else ""
    assert os.waitstatus_to_exitcode(status) == 0, err
    document = json.loads(out)
    return seconds, max(_details(root, document)["peak_rss_mb"].values()), document


def _details(root: Path, document: dict[str, Any]) -> dict[str, Any]:
    """The run record's details of the first unit of a ``sync --json`` document."""
    run_id = document["units"][0]["run"]["run_id"]
    shown = subprocess.run(
        [CLI, "runs", run_id, "--json", "-p", str(root)],
        capture_output=True,
        text=True,
        check=True,
    )
    details: dict[str, Any] = json.loads(shown.stdout)["details"]
    return details


async def _per_contact(emulator: Emulator, field_ids: dict[str, int], count: int) -> float:
    """Seconds for ``count`` create-or-update calls, 16 at a time (the baseline)."""
    settings = ClientSettings.for_base_url(emulator.base_url, max_concurrency=16)
    credentials = Credentials(client_id=EMAIL_CLIENT[0], client_secret=EMAIL_CLIENT[1])  # type: ignore[arg-type]
    async with ListrakClient(email=credentials, settings=settings) as client:
        await client.email.lists()  # token outside the measurement
        started = time.perf_counter()

        async def one(i: int) -> None:
            await client.email.upsert_contact(
                1001,
                Contact(
                    email_address=f"baseline{i}@example.com",
                    segmentation_field_values=[
                        SegmentationFieldValue(
                            segmentation_field_id=field_ids["spring"], value="on"
                        ),
                        SegmentationFieldValue(
                            segmentation_field_id=field_ids["FirstName"], value=f"First{i}"
                        ),
                        SegmentationFieldValue(
                            segmentation_field_id=field_ids["City"], value="Reno"
                        ),
                    ],
                ),
            )

        await asyncio.gather(*(one(i) for i in range(count)))
        return time.perf_counter() - started


def test_email_sync_million(emulator: Emulator, tmp_path: Path) -> None:
    emulator.admin.seed({"email": {"lists": [{"listId": 1001, "listName": "Newsletter"}]}})
    root = tmp_path / "project"
    _project(root, emulator)
    emulator.admin.add_fault(latency_ms=LATENCY_MS)

    initial_s, initial_mb, initial = _sync(root)
    _churn(root)
    churn_s, churn_mb, churned = _sync(root)
    initial_cpu, churn_cpu = CPU_SECONDS[-2:]

    state = emulator.admin.state()
    newsletter = next(x for x in state["email"]["lists"] if x["listId"] == 1001)
    fields = {
        f["segmentationFieldName"]: f["segmentationFieldId"]
        for g in newsletter["segmentationFieldGroups"]
        for f in g["segmentationFields"]
    }
    baseline_s = asyncio.run(_per_contact(emulator, fields, SAMPLE))
    emulator.admin.clear_faults()

    first_unit = initial["units"][0]
    churn_unit = churned["units"][0]
    assert first_unit["run"]["counts"]["added"] == MEMBERS
    assert churn_unit["run"]["counts"]["enter"] == MEMBERS // 200
    assert churn_unit["run"]["counts"]["leave"] == MEMBERS // 200
    per_contact_rate = SAMPLE / baseline_s
    baseline_full = MEMBERS / per_contact_rate
    baseline_churn = (MEMBERS // 100) / per_contact_rate
    print()
    print(f"members: {MEMBERS:,}, added latency {LATENCY_MS} ms")
    print(
        f"initial sync: {initial_s:.1f} s ({MEMBERS / initial_s:,.0f} members/s), "
        f"CPU {initial_cpu:.1f} s, peak RSS {initial_mb:,.0f} MB, "
        f"imports {len(first_unit['plan']['steps'])}"
    )
    print(
        f"1% churn sync: {churn_s:.1f} s, CPU {churn_cpu:.1f} s, peak RSS {churn_mb:,.0f} MB, "
        f"imports {len(churn_unit['plan']['steps'])}"
    )
    for label, document in (("initial", initial), ("churn", churned)):
        details = _details(root, document)
        print(f"{label} phases (s): {details.get('timings')}")
        print(f"{label} phases (CPU s): {details.get('cpu_seconds')}")
        print(f"{label} peak RSS at each phase's end (MB): {details.get('peak_rss_mb')}")
    print(
        f"per-contact baseline: {per_contact_rate:,.0f} members/s on {SAMPLE:,} members "
        f"-> {baseline_full:,.0f} s for the initial sync ({baseline_full / initial_s:,.0f}x), "
        f"{baseline_churn:,.0f} s for the churn ({baseline_churn / churn_s:,.1f}x)"
    )


# --- the path choice: imports, per-contact calls, or the quicker of the two -----------------

CHANGES = [
    int(n) for n in os.environ.get("BENCH_EMAIL_CHANGES", "10,100,1000,10000,100000").split(",")
]
# Per-contact-only runs above this many changes are extrapolated from the largest one measured
# (100,000 changes one call or two at a time take most of an hour on the shared machine).
CONTACTS_MAX = int(os.environ.get("BENCH_EMAIL_CONTACTS_MAX", "10000"))


def _shift(root: Path, leave_from: int, enter_from: int, half: int) -> None:
    """``half`` members leave (from ``leave_from``) and ``half`` new customers enter."""

    def cid(i: int) -> str:
        return f"C{i:08d}"

    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute(
            "UPDATE customer_360 SET member = NOT member WHERE (customer_id >= ? AND"
            " customer_id < ?) OR (customer_id >= ? AND customer_id < ?)",
            [cid(leave_from), cid(leave_from + half), cid(enter_from), cid(enter_from + half)],
        )


def _paths(root: Path, run_id: str) -> str:
    shown = subprocess.run(
        [CLI, "runs", run_id, "--json", "-p", str(root)], capture_output=True, text=True, check=True
    )
    steps = json.loads(shown.stdout).get("steps") or []
    found = sorted({str((s.get("result") or {}).get("path")) for s in steps})
    return "+".join(found) or "-"


def test_email_changes_chosen_path(emulator: Emulator, tmp_path: Path) -> None:
    """10 to 100,000 changes (half leave, half enter) on a MEMBERS-member list, each size synced
    three times with fresh rows: the chosen path (``writes: auto``), imports only, per-contact
    calls only (client default concurrency, 8 in flight)."""
    emulator.admin.seed({"email": {"lists": [{"listId": 1001, "listName": "Newsletter"}]}})
    root = tmp_path / "project"
    pool = sum(3 * (n // 2) for n in CHANGES)
    _project(root, emulator, extra=pool)
    emulator.admin.add_fault(latency_ms=LATENCY_MS)
    _config(root, emulator, "imports")
    initial_s, _, _ = _sync(root)
    print(f"\nmembers: {MEMBERS:,}, added latency {LATENCY_MS} ms; initial sync {initial_s:.1f} s")
    print("| changes | chosen (path) | imports only | per-contact only | chosen vs per-contact |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    leave, enter = 0, MEMBERS
    rate: float | None = None  # per-contact changes/s, for extrapolation
    for size in CHANGES:
        half = size // 2
        seconds: dict[str, float] = {}
        chosen = ""
        for writes in ("auto", "imports", "contacts"):
            if writes == "contacts" and size > CONTACTS_MAX and rate is not None:
                seconds[writes] = size / rate
                continue
            _config(root, emulator, writes)
            _shift(root, leave, enter, half)
            leave, enter = leave + half, enter + half
            took, _, document = _sync(root)
            unit = document["units"][0]
            assert unit["run"]["counts"]["enter"] == half, unit["run"]["counts"]
            assert unit["run"]["counts"]["leave"] == half
            seconds[writes] = took
            if writes == "auto":
                chosen = _paths(root, unit["run"]["run_id"])
            if writes == "contacts":
                rate = size / took
        measured = "" if size <= CONTACTS_MAX else " (extrapolated)"
        print(
            f"| {size:,} | {seconds['auto']:.1f} s ({chosen}) | {seconds['imports']:.1f} s |"
            f" {seconds['contacts']:.1f} s{measured} |"
            f" {seconds['contacts'] / seconds['auto']:.2f}x |",
            flush=True,
        )
    emulator.admin.clear_faults()
