"""Senders nobody here wrote, against a real ``listrak-sync serve`` process: Segment's Python
library (segment-analytics-python) and RudderStack's (rudder-sdk-python), from the package index.

Segment's library sends identify traits under ``traits``; RudderStack's puts them only under
``context.traits``. One mapping with a list of paths serves both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient

from tests.conftest import Emulator

from .conftest import (
    FIELD_PLAN,
    FIELD_TIER,
    LIST_A,
    WRITE_KEY,
    Serve,
    field_values,
    free_port,
    seed_lists,
    serve_config,
    wait_for,
)

MAPPINGS = {
    "profile": {
        "trigger": {"type": "identify"},
        "action": {
            "list_id": LIST_A,
            "email": ["$.traits.email", "$.context.traits.email"],
            "fields": {FIELD_TIER: ["$.traits.tier", "$.context.traits.tier"]},
        },
    },
    "plan": {
        "trigger": {"event": "Plan Changed"},
        "action": {
            "list_id": LIST_A,
            "email": ["$.context.traits.email", "$.properties.email"],
            "fields": {FIELD_PLAN: "$.properties.plan"},
        },
    },
}


@pytest.fixture
def serve(emulator: Emulator, tmp_path: Path) -> Iterator[Serve]:
    config = serve_config(tmp_path, emulator, MAPPINGS)
    process = Serve(config, free_port(), tmp_path / "serve.log")
    yield process
    process.process.terminate()
    process.process.wait(timeout=60)


def _wait_for_values(
    emulator: Emulator, expected: dict[str, dict[int, str]], what: str
) -> dict[str, dict[int, str]]:
    fields = sorted({f for values in expected.values() for f in values})

    def done() -> dict[str, dict[int, str]] | None:
        values = field_values(emulator, LIST_A, fields)
        got = {e: {f: values[e].get(f) for f in want} for e, want in expected.items()}
        return got if got == expected else None

    result: dict[str, dict[int, str]] = wait_for(done, timeout=60, what=what)
    return result


@pytest.mark.parametrize("gzip", [True, False])
def test_segment_python_library(emulator: Emulator, serve: Serve, gzip: bool) -> None:
    emails = seed_lists(emulator, contacts=150)
    errors: list[Any] = []
    client = SegmentClient(
        WRITE_KEY,
        host=serve.url,
        gzip=gzip,
        upload_size=100,
        max_retries=3,
        on_error=lambda error, batch: errors.append(error),
    )
    try:
        for i, email in enumerate(emails):
            client.identify(f"user-{i}", {"email": email, "tier": "first"})
            # The last value wins: each contact's second identify replaces the first.
            client.identify(f"user-{i}", {"email": email, "tier": f"tier-{i}"})
            client.track(
                f"user-{i}", "Plan Changed", {"plan": f"plan-{i % 3}"},
                context={"traits": {"email": email}},
            )  # fmt: skip
        client.flush()
    finally:
        client.shutdown()
    assert errors == []
    expected = {
        email: {FIELD_TIER: f"tier-{i}", FIELD_PLAN: f"plan-{i % 3}"}
        for i, email in enumerate(emails)
    }
    _wait_for_values(emulator, expected, "Segment's identify and track events")
    log = serve.log.read_text()
    assert "dead-lettered" not in log
    assert "refused" not in log


def test_rudderstack_python_sdk(emulator: Emulator, serve: Serve) -> None:
    emails = seed_lists(emulator, contacts=60)
    errors: list[Any] = []
    client = RudderClient(
        WRITE_KEY,
        host=serve.url,
        upload_size=50,
        max_retries=3,
        on_error=lambda error, batch: errors.append(error),
    )
    try:
        for i, email in enumerate(emails):
            # RudderStack puts identify traits only under context.traits.
            client.identify(f"user-{i}", {"email": email, "tier": f"r-{i}"})
            client.track(
                f"user-{i}", "Plan Changed", {"plan": "gold"}, context={"traits": {"email": email}}
            )
        client.flush()
    finally:
        client.shutdown()
    assert errors == []
    expected = {email: {FIELD_TIER: f"r-{i}", FIELD_PLAN: "gold"} for i, email in enumerate(emails)}
    _wait_for_values(emulator, expected, "RudderStack's identify and track events")
    log = serve.log.read_text()
    assert "dead-lettered" not in log
    assert "refused" not in log


def test_a_wrong_write_key_is_reported_to_the_library(emulator: Emulator, serve: Serve) -> None:
    seed_lists(emulator, contacts=1)
    errors: list[Any] = []
    client = SegmentClient(
        "not-the-key",
        host=serve.url,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    try:
        client.identify("u", {"email": "person0000@example.com", "tier": "x"})
        client.flush()
    finally:
        client.shutdown()
    assert len(errors) == 1
    assert getattr(errors[0], "status", None) == 401


def test_segment_library_across_a_sigkill_of_serve(
    emulator: Emulator, tmp_path: Path, processes: list[Serve]
) -> None:
    # At least once: what the library could not deliver while `serve` was dead, it retries;
    # what `serve` answered 200 before dying is in its queue file and goes out after the restart.
    emails = seed_lists(emulator, contacts=200)
    config = serve_config(tmp_path, emulator, MAPPINGS)
    port = free_port()
    first = Serve(config, port, tmp_path / "serve.log")
    processes.append(first)
    errors: list[Any] = []
    client = SegmentClient(
        WRITE_KEY,
        host=first.url,
        upload_size=20,
        max_retries=12,
        on_error=lambda error, batch: errors.append(error),
    )
    try:
        for i, email in enumerate(emails[:100]):
            client.identify(f"user-{i}", {"email": email, "tier": f"k-{i}"})
        first.process.kill()
        first.process.wait(timeout=30)
        for i, email in enumerate(emails[100:], start=100):
            client.identify(f"user-{i}", {"email": email, "tier": f"k-{i}"})
        processes.append(Serve(config, port, tmp_path / "serve.log"))
        client.flush()
    finally:
        client.shutdown()
    assert errors == []
    expected = {email: {FIELD_TIER: f"k-{i}"} for i, email in enumerate(emails)}
    _wait_for_values(emulator, expected, "every identify, across the kill")
