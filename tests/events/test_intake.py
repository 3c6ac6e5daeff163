"""The Segment-compatible endpoints over real HTTP: auth, validation, limits, durability."""

from __future__ import annotations

import gzip
import json
import sqlite3
import uuid

import pytest

from listrak_sync.events import hash_write_key
from listrak_sync.events.intake import IntakeError, messages_from
from tests.conftest import Emulator

from .conftest import (
    FIELD_TIER,
    LIST_A,
    WRITE_KEY,
    StartServer,
    auth,
    destination,
    field_values,
    seed_lists,
    track,
    wait_for,
)


def _queued(running_queue: object) -> int:
    with sqlite3.connect(str(running_queue)) as db:
        return int(db.execute("SELECT count(*) FROM updates").fetchone()[0])


def test_track_identify_batch_and_short_forms_are_accepted_and_delivered(
    emulator: Emulator, start_server: StartServer
) -> None:
    emails = seed_lists(emulator, contacts=6)
    dest = destination(
        mappings={
            "tier": {
                "trigger": {"all": [{"type": "track"}, {"event": "Tier Changed"}]},
                "action": {"list_id": LIST_A, "fields": {FIELD_TIER: "$.properties.tier"}},
            },
            "identify_tier": {
                "trigger": {"type": "identify"},
                "action": {
                    "list_id": LIST_A,
                    "email": "$.traits.email",
                    "fields": {FIELD_TIER: "$.traits.tier"},
                },
            },
        }
    )
    server = start_server(dest)
    answers = [
        server.post("/v1/track", track(emails[0], "Tier Changed", tier="gold")),
        server.post("/v1/t", track(emails[1], "Tier Changed", tier="silver")),
        server.post(
            "/v1/identify", {"userId": "u2", "traits": {"email": emails[2], "tier": "bronze"}}
        ),
        server.post("/v1/i", {"anonymousId": "a3", "traits": {"email": emails[3], "tier": "tin"}}),
        server.post(
            "/v1/batch",
            {
                "batch": [
                    track(emails[4], "Tier Changed", tier="iron"),
                    {
                        "type": "identify",
                        "userId": "u5",
                        "traits": {"email": emails[5], "tier": "zinc"},
                    },
                    {"type": "page", "userId": "u5", "name": "Home"},  # accepted, no mapping
                ]
            },
        ),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"success": True})] * 5
    expected = {
        emails[0]: "gold",
        emails[1]: "silver",
        emails[2]: "bronze",
        emails[3]: "tin",
        emails[4]: "iron",
        emails[5]: "zinc",
    }

    def delivered() -> bool:
        values = field_values(emulator, LIST_A, [FIELD_TIER])
        return all(values[e].get(FIELD_TIER) == v for e, v in expected.items())

    wait_for(delivered, what="all six updates in Listrak")
    done = 'listrak_events_updates_delivered_total{route="bulk"} 6.0'

    def recorded() -> str | None:
        text = server.http.get("/metrics").text
        return text if done in text else None

    metrics = wait_for(recorded, what="the delivery to be recorded")
    assert 'listrak_events_received_total{type="page"} 1.0' in metrics
    assert "listrak_events_unmatched_total 1.0" in metrics


def test_write_key_is_required_and_checked(emulator: Emulator, start_server: StartServer) -> None:
    seed_lists(emulator, contacts=1)
    server = start_server()
    event = track("person0000@example.com", "Tier Changed", tier="gold")
    missing = server.post("/v1/track", event, key=None)
    wrong = server.post("/v1/track", event, key="not-the-key")
    garbled = server.http.post("/v1/track", json=event, headers={"Authorization": "Basic %%%"})
    bearer = server.http.post("/v1/track", json=event, headers={"Authorization": "Bearer x"})
    for answer in (missing, wrong, garbled, bearer):
        assert answer.status_code == 401
        assert answer.json()["success"] is False
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
    in_body = server.post("/v1/batch", {"writeKey": WRITE_KEY, "batch": [event]}, key=None)
    assert in_body.status_code == 200
    wait_for(
        lambda: (
            field_values(emulator, LIST_A, [FIELD_TIER])["person0000@example.com"].get(FIELD_TIER)
            == "gold"
        ),
        what="the event sent with the key in its body",
    )
    # The key lives only as its hash in the config; the queue never holds it.
    with sqlite3.connect(server.queue_path) as db:
        dump = "\n".join(db.iterdump())
    assert WRITE_KEY not in dump
    assert hash_write_key(WRITE_KEY) == destination().write_keys[0]


def test_malformed_payloads_get_clear_400s_and_nothing_is_stored(
    emulator: Emulator, start_server: StartServer
) -> None:
    seed_lists(emulator, contacts=1)
    server = start_server()
    headers = {**auth(), "Content-Type": "application/json"}
    not_json = server.http.post("/v1/track", content=b'{"event": ', headers=headers)
    assert not_json.status_code == 400
    assert "not valid JSON" in not_json.json()["error"]
    array = server.http.post("/v1/track", content=b"[1, 2]", headers=headers)
    assert array.json()["error"] == "the body must be a JSON object"
    no_event = server.post("/v1/track", {"userId": "u1", "properties": []})
    assert no_event.status_code == 400
    assert no_event.json()["problems"] == [
        "event: a non-empty string is required for track",
        "properties: an object",
    ]
    no_id = server.post("/v1/identify", {"traits": {"email": "a@example.com"}})
    assert no_id.json()["problems"] == ["userId or anonymousId is required"]
    bad_batch = server.post(
        "/v1/batch",
        {
            "batch": [
                track("person0000@example.com", "Tier Changed", tier="gold"),
                {"type": "purchase", "userId": "u"},
                {"type": "track", "userId": "u", "event": "X", "timestamp": "yesterday"},
            ]
        },
    )
    assert bad_batch.status_code == 400
    assert bad_batch.json()["problems"] == [
        "batch[1].type: one of track, identify, page, screen, group, alias (got 'purchase')",
        "batch[2].timestamp: an ISO-8601 date",
    ]
    empty = server.post("/v1/batch", {"batch": []})
    assert empty.json()["error"] == "batch: a non-empty array of messages is required"
    # A refused request stores nothing, not even its valid first message.
    assert _queued(server.queue_path) == 0
    assert server.http.get("/v1/track").status_code == 405


def test_oversized_payloads_are_refused_with_413(
    emulator: Emulator, start_server: StartServer
) -> None:
    seed_lists(emulator, contacts=1)
    server = start_server()
    big = track("person0000@example.com", "Tier Changed", tier="gold", blob="x" * 33_000)
    assert server.post("/v1/track", big).status_code == 413
    # Within a batch, each event is held to the 32 KB limit too ...
    batch = server.post("/v1/batch", {"batch": [big]})
    assert batch.status_code == 400
    assert batch.json()["problems"] == ["batch[0]: larger than 32768 bytes"]
    # ... and the batch to 500 KB.
    medium = track("person0000@example.com", "Tier Changed", tier="gold", blob="y" * 30_000)
    assert server.post("/v1/batch", {"batch": [medium] * 18}).status_code == 413
    # Compressed bodies are measured after inflating them.
    packed = gzip.compress(json.dumps({"batch": [medium] * 18}).encode())
    answer = server.http.post(
        "/v1/batch",
        content=packed,
        headers={**auth(), "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert _queued(server.queue_path) == 0


def test_gzip_body_is_accepted(emulator: Emulator, start_server: StartServer) -> None:
    emails = seed_lists(emulator, contacts=1)
    server = start_server()
    body = gzip.compress(json.dumps(track(emails[0], "Tier Changed", tier="gzip")).encode())
    answer = server.http.post(
        "/v1/track",
        content=body,
        headers={**auth(), "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert answer.status_code == 200
    wait_for(
        lambda: field_values(emulator, LIST_A, [FIELD_TIER])[emails[0]].get(FIELD_TIER) == "gzip"
    )


def test_healthz_and_metrics(emulator: Emulator, start_server: StartServer) -> None:
    server = start_server()
    health = server.http.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    server.post("/v1/track", {"userId": "u"}, key="wrong")
    metrics = server.http.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'listrak_events_requests_total{endpoint="track",status="401"} 1.0' in metrics.text
    assert "listrak_events_intake_seconds_bucket" in metrics.text


def test_answer_comes_after_the_commit(emulator: Emulator, start_server: StartServer) -> None:
    """Every 200 means the update is in the queue file (or already delivered)."""
    emails = seed_lists(emulator, contacts=3)
    # Listrak answers slowly, so delivery cannot have removed the rows yet when we look.
    emulator.admin.add_fault(path="/Contact/SegmentationField", latency_ms=1500)
    server = start_server()
    for email in emails:
        assert server.post("/v1/track", track(email, "Tier Changed", tier="t")).status_code == 200
        with sqlite3.connect(server.queue_path) as db:
            rows = db.execute("SELECT email FROM updates").fetchall()
        assert email in {row[0] for row in rows}


def test_unknown_route_is_404(emulator: Emulator, start_server: StartServer) -> None:
    server = start_server()
    assert server.post("/v1/alias", {"userId": "a", "previousId": "b"}).status_code == 404


def test_event_size_check_is_exact_per_event() -> None:
    """Batched events are measured one by one as compact UTF-8 JSON (a batch that fits is
    measured once): UTF-8 bytes, not characters, and the batch's shared context counts."""
    limit = 32 * 1024

    def event(**properties: object) -> dict[str, object]:
        return {"type": "track", "event": "E", "userId": "u1", "properties": properties}

    fits = event(blob="x" * 20_000)
    accented = event(blob="é" * 16_400)  # 16,400 characters, 32,800 bytes
    near = event(blob="z" * 30_000)  # fits alone, not with the shared context below
    doc = {"batch": [fits, accented, event(tier="gold"), near], "context": {"pad": "p" * 3_000}}
    with pytest.raises(IntakeError) as refused:
        messages_from(doc, None, max_event_bytes=limit)
    assert refused.value.problems == [
        "batch[1]: larger than 32768 bytes",
        "batch[3]: larger than 32768 bytes",
    ]
    # Many small events whose total is over the limit: none is refused.
    small = {"batch": [event(tier="t" * 100) for _ in range(1_000)]}
    assert len(messages_from(small, None, max_event_bytes=limit)) == 1_000


def test_generated_message_ids_are_distinct_version_4_uuids() -> None:
    # An event without a messageId gets one: "ls-" and a random UUID (version 4, RFC variant).
    batch = [{"type": "track", "userId": f"u{i}", "event": "Viewed"} for i in range(2000)]
    ids = [m["messageId"] for m in messages_from({"batch": batch}, None, max_event_bytes=32_000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        assert text.startswith("ls-")
        parsed = uuid.UUID(text.removeprefix("ls-"))
        assert str(parsed) == text.removeprefix("ls-")
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
