"""Fault injection: rate limit with Retry-After, 5xx, dropped connections, latency."""

from __future__ import annotations

import time

import httpx2
import pytest

from tests.conftest import EMAIL_CLIENT, Emulator


def test_leaky_bucket_answers_429_with_retry_after(emulator: Emulator) -> None:
    emulator.admin.add_fault(client_id=EMAIL_CLIENT[0], rate_per_second=1, burst=3)
    with emulator.http() as http:
        codes = [http.get("/email/v1/List") for _ in range(5)]
    assert [r.status_code for r in codes[:3]] == [200, 200, 200]
    limited = codes[3]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["status"] == 429


def test_fail_next_answers_5xx_then_recovers(emulator: Emulator) -> None:
    emulator.admin.add_fault(path="/email/", fail_next=2, error_status=500)
    with emulator.http() as http:
        assert [http.get("/email/v1/List").status_code for _ in range(3)] == [500, 500, 200]


def test_dropped_connection_before_and_after_apply(emulator: Emulator) -> None:
    emulator.admin.add_fault(method="POST", path="/List$", drop_next=1)
    body = {"listName": "A", "bounceHandling": "Standard", "bounceUnsubscribeCount": 1}
    with emulator.http() as http:
        with pytest.raises(httpx2.TransportError):
            http.post("/email/v1/List", json=body)
        assert http.get("/email/v1/List").json()["data"] == []
    emulator.admin.add_fault(method="POST", path="/List$", drop_next=1, drop_after_apply=True)
    with emulator.http() as http:
        with pytest.raises(httpx2.TransportError):
            http.post("/email/v1/List", json=body)
        assert len(http.get("/email/v1/List").json()["data"]) == 1


def test_latency_is_added(emulator: Emulator) -> None:
    emulator.admin.add_fault(latency_ms=150)
    with emulator.http() as http:
        started = time.perf_counter()
        http.get("/email/v1/List")
        # A lower bound only: the fault adds at least this much; no upper bound on wall time.
        assert time.perf_counter() - started >= 0.15


def test_admin_surface_is_never_faulted(emulator: Emulator) -> None:
    emulator.admin.add_fault(fail_next=100)
    assert emulator.admin.requests() == {}


def test_request_counts_by_operation(emulator: Emulator) -> None:
    with emulator.http() as http:
        http.get("/email/v1/List")
        http.get("/email/v1/List")
    counts = emulator.admin.requests()
    assert counts["List_GetListCollection"] == 2
    assert counts["OAuth2_Token"] == 1
