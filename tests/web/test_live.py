"""A newer live count stops the older one in the warehouse (DuckDB's interrupt, Spark's
interruptAll; PostgreSQL's cancel is in test_postgres.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from listrak_sync.warehouse import WarehouseError, connect
from listrak_sync.web._live import LiveQueries

ENDLESS = "SELECT count(*) FROM range(100000000000) a"  # minutes of counting


def _count_in_thread(live: LiveQueries, key: str, outcome: dict[str, object]) -> threading.Thread:
    def count() -> None:
        with connect(":memory:") as warehouse, live.running(key, warehouse):
            outcome["started"] = time.monotonic()
            try:
                warehouse.query(ENDLESS)
            except WarehouseError as exc:
                outcome["stopped"] = str(exc)

    thread = threading.Thread(target=count)
    thread.start()
    deadline = time.monotonic() + 30
    while "started" not in outcome:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)  # the query is running now
    return thread


def test_a_newer_count_for_the_same_key_stops_the_older_one() -> None:
    live = LiveQueries()
    outcome: dict[str, object] = {}
    older = _count_in_thread(live, "session:size", outcome)
    with connect(":memory:") as newer, live.running("session:size", newer):
        assert newer.query("SELECT 42 AS n").column(0)[0].as_py() == 42
    older.join(timeout=30)
    assert not older.is_alive()
    assert "Interrupted" in str(outcome["stopped"])


def test_other_keys_are_left_counting() -> None:
    live = LiveQueries()
    outcome: dict[str, object] = {}
    older = _count_in_thread(live, "session:size", outcome)
    try:
        with connect(":memory:") as other, live.running("session:reach", other):
            other.query("SELECT 1")
        time.sleep(0.3)
        assert "stopped" not in outcome
    finally:
        # Stop it the same way, so the test does not wait for the endless count.
        with connect(":memory:") as last, live.running("session:size", last):
            pass
        older.join(timeout=30)
    assert "Interrupted" in str(outcome["stopped"])


def test_an_idle_warehouse_ignores_the_interrupt() -> None:
    with connect(":memory:") as warehouse:
        warehouse.interrupt()  # type: ignore[attr-defined]
        assert warehouse.query("SELECT 7 AS n").column(0)[0].as_py() == 7


@pytest.mark.spark
def test_a_newer_count_stops_the_older_one_in_spark(spark_engine: str, tmp_path: Path) -> None:
    """Even when the older count has not started its statement yet: the interrupt is repeated
    until it has stopped."""
    live = LiveQueries()
    outcome: dict[str, object] = {}
    url = f"{spark_engine}?warehouse_dir={tmp_path}"

    def count() -> None:
        try:
            with connect(url) as warehouse, live.running("session:size", warehouse):
                outcome["started"] = True
                try:
                    warehouse.query("SELECT count(*) AS n FROM range(1000000000000)")
                except WarehouseError as exc:
                    outcome["stopped"] = str(exc)
        except WarehouseError as exc:  # Spark did not start: say why instead of waiting
            outcome["started"] = outcome["failed"] = str(exc)

    thread = threading.Thread(target=count)
    thread.start()
    deadline = time.monotonic() + 120
    while "started" not in outcome:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert "failed" not in outcome, outcome["failed"]
    with connect(url) as newer, live.running("session:size", newer):
        assert newer.query("SELECT 42 AS n").column(0)[0].as_py() == 42
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert "cancelled" in str(outcome["stopped"]).lower()
