"""Delivery over real HTTP to the emulator: batching, ordering, outages, Beta fallback, dead
letters and their retry, audience fields."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from listrak_sync.events import Queue, retry_dead_letters
from listrak_sync.events.logs import make_logger
from tests.conftest import EMAIL_CLIENT, Emulator

from .conftest import (
    FIELD_B_TIER,
    FIELD_PLAN,
    FIELD_TIER,
    FIELD_VIP,
    LIST_A,
    LIST_B,
    StartServer,
    destination,
    field_values,
    seed_lists,
    track,
    wait_for,
)

BULK = "ContactSegmentationField_PostContactSegmentationFieldValuesResource"
IMPORT = "ListImport_PostImportFileResource"


def _dead(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT email, reason FROM dead_letter ORDER BY id").fetchall()


def _depth(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM updates").fetchone()[0])


def _two_lists() -> dict[str, object]:
    return {
        "tier_a": {
            "trigger": {"event": "Tier Changed"},
            "action": {"list_id": LIST_A, "fields": {FIELD_TIER: "$.properties.tier"}},
        },
        "tier_b": {
            "trigger": {"event": "Tier Changed"},
            "action": {"list_id": LIST_B, "fields": {FIELD_B_TIER: "$.properties.tier"}},
        },
    }


def test_updates_are_batched_per_list(emulator: Emulator, start_server: StartServer) -> None:
    emails = seed_lists(emulator, contacts=60)
    # A long window and a size of 30: 60 contacts make exactly two full batches per list.
    dest = destination(batch={"max_contacts": 30, "max_wait_seconds": 60}, mappings=_two_lists())
    server = start_server(dest)
    emulator.admin.clear_requests()
    batch = [track(e, "Tier Changed", tier=f"t{i}") for i, e in enumerate(emails)]
    assert server.post("/v1/batch", {"batch": batch}).status_code == 200
    wait_for(lambda: _depth(server.queue_path) == 0, what="the queue to drain")
    assert emulator.admin.requests()[BULK] == 4  # 2 lists x 2 batches of 30
    for list_id, field in ((LIST_A, FIELD_TIER), (LIST_B, FIELD_B_TIER)):
        values = field_values(emulator, list_id, [field])
        assert {e: values[e][field] for e in emails} == {e: f"t{i}" for i, e in enumerate(emails)}


def test_time_window_sends_a_partial_batch(emulator: Emulator, start_server: StartServer) -> None:
    emails = seed_lists(emulator, contacts=3)
    server = start_server(destination(batch={"max_contacts": 1000, "max_wait_seconds": 0.2}))
    emulator.admin.clear_requests()
    for email in emails:
        server.post("/v1/track", track(email, "Tier Changed", tier="w"))
    wait_for(lambda: _depth(server.queue_path) == 0, what="the window to close")
    assert emulator.admin.requests()[BULK] == 1  # three requests, one call
    values = field_values(emulator, LIST_A, [FIELD_TIER])
    assert all(values[e][FIELD_TIER] == "w" for e in emails)


def test_last_event_per_contact_wins_within_and_across_batches(
    emulator: Emulator, start_server: StartServer
) -> None:
    emails = seed_lists(emulator, contacts=10)
    dest = destination(
        batch={"max_contacts": 4, "max_wait_seconds": 0.01},
        max_in_flight_per_list=4,
        mappings={
            "vip": {
                "trigger": {"event": ["Audience Entered", "Audience Exited"]},
                "action": {"list_id": LIST_A, "fields": {FIELD_VIP: "$.properties.vip"}},
            }
        },
    )
    # Slow imports keep several batches in flight, where reordering would show.
    emulator.admin.add_fault(path="/ListImport/", latency_ms=30, jitter_ms=30)
    server = start_server(dest)
    final: dict[str, str] = {}
    for round_ in range(6):
        events = []
        for index, email in enumerate(emails):
            entered = (round_ + index) % 2 == 0
            events.append(
                track(email, "Audience Entered" if entered else "Audience Exited", vip=entered)
            )
            final[email] = "on" if entered else "off"
        # The same contact twice in one request: the later one must win.
        last = emails[0]
        events.append(track(last, "Audience Exited", vip=False))
        events.append(track(last, "Audience Entered", vip=True))
        final[last] = "on"
        assert server.post("/v1/batch", {"batch": events}).status_code == 200
    wait_for(lambda: _depth(server.queue_path) == 0, what="the queue to drain")
    values = field_values(emulator, LIST_A, [FIELD_VIP])
    assert {e: values[e][FIELD_VIP] for e in emails} == final


def test_outage_429_and_5xx_then_recovery(emulator: Emulator, start_server: StartServer) -> None:
    emails = seed_lists(emulator, contacts=5)
    # More failures than the client retries (3 attempts) so the worker's own backoff runs too.
    emulator.admin.add_fault(path="/Contact/SegmentationField", fail_next=5, error_status=503)
    emulator.admin.add_fault(path="/Contact/SegmentationField", rate_per_second=0.5, burst=1)
    server = start_server(
        destination(
            retry={"max_attempts": 50, "initial_backoff_seconds": 0.05, "max_backoff_seconds": 0.2}
        )
    )
    for email in emails:
        assert (
            server.post("/v1/track", track(email, "Tier Changed", tier="after")).status_code == 200
        )
    wait_for(
        lambda: all(
            v.get(FIELD_TIER) == "after"
            for e, v in field_values(emulator, LIST_A, [FIELD_TIER]).items()
            if e in emails
        ),
        timeout=60,
        what="delivery after the outage",
    )
    assert _dead(server.queue_path) == []
    metrics = server.http.get("/metrics").text
    assert 'listrak_events_batches_total{outcome="retry",route="any"}' in metrics


def test_permanent_failure_after_max_attempts_then_retry(
    emulator: Emulator, start_server: StartServer
) -> None:
    emails = seed_lists(emulator, contacts=2)
    emulator.admin.add_fault(path="/Contact/SegmentationField", error_rate=1.0, error_status=500)
    server = start_server(
        destination(
            retry={"max_attempts": 2, "initial_backoff_seconds": 0.01, "max_backoff_seconds": 0.02}
        )
    )
    server.post("/v1/track", track(emails[0], "Tier Changed", tier="late"))
    dead = wait_for(lambda: _dead(server.queue_path), what="a dead letter")
    assert dead[0][0] == emails[0]
    assert dead[0][1].startswith("gave up after 2 attempts: 500")
    emulator.admin.clear_faults()
    with Queue(server.queue_path) as queue:
        report = retry_dead_letters(queue, server.service.destination)
    assert (report.selected, report.requeued, report.superseded) == (1, 1, 0)
    wait_for(
        lambda: field_values(emulator, LIST_A, [FIELD_TIER])[emails[0]].get(FIELD_TIER) == "late",
        what="the retried update",
    )
    assert _dead(server.queue_path) == []


def test_batch_log_line_says_where_the_time_went(
    emulator: Emulator, start_server: StartServer
) -> None:
    """Each "batch delivered" line splits its seconds into starting the import, waiting for
    Listrak to finish it, and reading its results (bulk route), or import and results (list
    import route, for integrations refused the Beta route)."""
    emails = seed_lists(emulator, contacts=2)
    stream = io.StringIO()
    server = start_server(destination(), log=make_logger(level="info", stream=stream))
    server.post("/v1/track", track(emails[0], "Tier Changed", tier="one"))
    wait_for(lambda: _depth(server.queue_path) == 0, what="the bulk delivery")
    server.close()
    emulator.admin.set_client(EMAIL_CLIENT[0], beta_access=False)
    server = start_server(destination(), queue=server.queue_path, log=make_logger(
        level="info", stream=stream))  # fmt: skip
    server.post("/v1/track", track(emails[1], "Tier Changed", tier="two"))
    wait_for(lambda: _depth(server.queue_path) == 0, what="the list import delivery")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    batches = [line for line in lines if line["event"] == "batch delivered"]
    assert [b["route"] for b in batches] == ["bulk", "import"]
    steps = [sorted(k for k in b if k.endswith("_seconds")) for b in batches]
    assert steps == [
        ["import_seconds", "results_seconds", "start_seconds"],
        ["import_seconds", "results_seconds"],
    ]
    for batch, names in zip(batches, steps, strict=True):
        assert all(batch[name] <= batch["seconds"] for name in names)


def test_beta_refusal_falls_back_to_list_imports_and_is_remembered(
    emulator: Emulator, start_server: StartServer, tmp_path: Path
) -> None:
    emails = seed_lists(emulator, contacts=4)
    emulator.admin.set_client(EMAIL_CLIENT[0], beta_access=False)
    server = start_server(destination(mappings=_two_lists()))
    emulator.admin.clear_requests()
    server.post("/v1/track", track(emails[0], "Tier Changed", tier="one"))
    wait_for(lambda: _depth(server.queue_path) == 0, what="the first delivery")
    first = emulator.admin.requests()
    assert first[BULK] == 1  # one integration asks once, though two lists had a batch
    server.post("/v1/batch", {"batch": [track(e, "Tier Changed", tier="two") for e in emails]})
    wait_for(lambda: _depth(server.queue_path) == 0, what="the second delivery")
    assert emulator.admin.requests()[BULK] == first[BULK]  # remembered: not asked again
    for list_id, field in ((LIST_A, FIELD_TIER), (LIST_B, FIELD_B_TIER)):
        values = field_values(emulator, list_id, [field])
        assert all(values[e][field] == "two" for e in emails)
    assert emulator.admin.requests()[IMPORT] >= 3
    # Remembered across restarts too: it is in the queue file.
    server.close()
    emulator.admin.clear_requests()
    again = start_server(destination(mappings=_two_lists()), queue=server.queue_path)
    again.post("/v1/track", track(emails[1], "Tier Changed", tier="three"))
    wait_for(lambda: _depth(again.queue_path) == 0, what="delivery after restart")
    assert emulator.admin.requests().get(BULK, 0) == 0


def test_contacts_listrak_did_not_update_are_dead_lettered_with_the_reason(
    emulator: Emulator, start_server: StartServer
) -> None:
    emails = seed_lists(emulator, contacts=3, unsubscribed=1)
    server = start_server()
    events = [track(e, "Tier Changed", tier="x") for e in emails]
    events.append(track("stranger@example.com", "Tier Changed", tier="x"))
    events.append(track(emails[2], "Tier Changed", tier="y" * 300))  # longer than the field
    server.post("/v1/batch", {"batch": events})
    wait_for(lambda: _depth(server.queue_path) == 0, what="the queue to drain")
    assert sorted(_dead(server.queue_path)) == [
        ("person0000@example.com", "Listrak import result: PreviouslyUnsubscribed"),
        ("person0002@example.com", "Listrak import result: SkippedInvalidValue"),
        ("person0002@example.com", "Listrak import result: SkippedInvalidValue"),
        ("stranger@example.com", "Listrak import result: SkippedNotOnList"),
    ]
    values = field_values(emulator, LIST_A, [FIELD_TIER])
    assert values[emails[1]][FIELD_TIER] == "x"


def test_unknown_field_and_missing_list_are_dead_lettered_without_blocking_others(
    emulator: Emulator, start_server: StartServer
) -> None:
    emails = seed_lists(emulator, contacts=2)
    dest = destination(
        mappings={
            "good": {
                "trigger": {"event": "Tier Changed"},
                "action": {"list_id": LIST_A, "fields": {FIELD_PLAN: "$.properties.tier"}},
            },
            "bad_field": {
                "trigger": {"event": "Tier Changed"},
                "action": {"list_id": LIST_A, "fields": {99999: "$.properties.tier"}},
            },
            "bad_list": {
                "trigger": {"event": "Tier Changed"},
                "action": {"list_id": 777777, "fields": {FIELD_TIER: "$.properties.tier"}},
            },
        }
    )
    server = start_server(dest)
    server.post("/v1/track", track(emails[0], "Tier Changed", tier="p"))
    wait_for(lambda: _depth(server.queue_path) == 0, what="the queue to drain")
    reasons = sorted(reason for _, reason in _dead(server.queue_path))
    assert reasons == [
        "ERROR_UNABLE_TO_LOCATE_RESOURCE: Unable to locate a resource associated with the "
        "listId supplied.",
        f"profile field 99999 does not exist on list {LIST_A}",
    ]
    assert field_values(emulator, LIST_A, [FIELD_PLAN])[emails[0]][FIELD_PLAN] == "p"


def test_a_refused_batch_does_not_take_good_contacts_down_with_it(
    emulator: Emulator, start_server: StartServer
) -> None:
    emails = seed_lists(emulator, contacts=6)
    dest = destination(
        batch={"max_contacts": 100, "max_wait_seconds": 0.2},
        mappings={
            "profile": {
                "trigger": {"event": "Profile"},
                "action": {
                    "list_id": LIST_A,
                    "fields": {FIELD_TIER: "$.properties.tier", FIELD_PLAN: "$.properties.plan"},
                },
            }
        },
    )
    server = start_server(dest)
    server.post("/v1/track", track(emails[0], "Profile", tier="warm"))
    wait_for(lambda: _depth(server.queue_path) == 0, what="the catalog to be loaded")
    # The plan field is deleted in Listrak behind our back: the next batch that carries it is
    # refused as a whole (400), yet only the contacts with a plan may fail.
    with emulator.http() as http:
        group = http.get(f"/email/v1/List/{LIST_A}/SegmentationFieldGroup").json()["data"][0]
        gone = http.delete(
            f"/email/v1/List/{LIST_A}/SegmentationFieldGroup/"
            f"{group['segmentationFieldGroupId']}/SegmentationField/{FIELD_PLAN}"
        )
        assert gone.status_code == 200
    events = [track(e, "Profile", tier="hot") for e in emails]
    events[3] = track(emails[3], "Profile", tier="hot", plan="gold")
    server.post("/v1/batch", {"batch": events})
    wait_for(lambda: _depth(server.queue_path) == 0, what="the queue to drain")
    assert _dead(server.queue_path) == [
        (emails[3], f"profile field {FIELD_PLAN} does not exist on list {LIST_A}")
    ]
    values = field_values(emulator, LIST_A, [FIELD_TIER])
    assert {e: values[e][FIELD_TIER] for e in emails if e != emails[3]} == {
        e: "hot" for e in emails if e != emails[3]
    }


def test_audience_mapping_creates_checkbox_fields_and_exit_wins(
    emulator: Emulator, start_server: StartServer
) -> None:
    emails = seed_lists(emulator, contacts=3)
    dest = destination(
        mappings={
            "audiences": {
                "trigger": {
                    "any": [
                        {"event": ["Audience Entered", "Audience Exited"]},
                        {"type": "identify"},
                    ]
                },
                "action": {
                    "list_id": LIST_A,
                    "email": ["$.context.traits.email", "$.traits.email"],
                    "audience": {"field_group": "Segment Audiences"},
                },
            }
        }
    )
    server = start_server(dest)
    events = [
        track(emails[0], "Audience Entered", audience_key="high_value"),
        track(emails[1], "Audience Entered", audience_key="high_value"),
        track(emails[1], "Audience Entered", audience_key="churn_risk"),
        track(emails[1], "Audience Exited", audience_key="high_value"),
        # Segment Engage identify: the key in context.personas, the flag in traits.
        {
            "type": "identify",
            "userId": "u2",
            "traits": {"email": emails[2], "churn_risk": True},
            "context": {"personas": {"computation_key": "churn_risk"}},
        },
    ]
    assert server.post("/v1/batch", {"batch": events}).status_code == 200
    wait_for(lambda: _depth(server.queue_path) == 0, what="the queue to drain")
    with emulator.http() as http:
        groups = http.get(f"/email/v1/List/{LIST_A}/SegmentationFieldGroup").json()["data"]
        group = next(g for g in groups if g["segmentationFieldGroupName"] == "Segment Audiences")
        fields = http.get(
            f"/email/v1/List/{LIST_A}/SegmentationFieldGroup/"
            f"{group['segmentationFieldGroupId']}/SegmentationField"
        ).json()["data"]
    ids = {f["segmentationFieldName"]: f["segmentationFieldId"] for f in fields}
    assert sorted(ids) == ["churn_risk", "high_value"]
    assert {f["dataType"] for f in fields} == {"CheckBox"}
    values = field_values(emulator, LIST_A, list(ids.values()))
    assert values[emails[0]] == {ids["high_value"]: "on"}
    assert values[emails[1]] == {ids["high_value"]: "off", ids["churn_risk"]: "on"}
    assert values[emails[2]] == {ids["churn_risk"]: "on"}


def test_intake_rejections_are_dead_lettered_and_retried_with_the_fixed_mapping(
    emulator: Emulator, start_server: StartServer
) -> None:
    emails = seed_lists(emulator, contacts=1)
    server = start_server()
    # No email at the default path: dead-lettered at intake, still answered 200.
    event = {
        "type": "track",
        "userId": "u",
        "event": "Tier Changed",
        "properties": {"tier": "fixed", "email": emails[0]},
    }
    assert server.post("/v1/track", event).status_code == 200
    assert [r for _, r in _dead(server.queue_path)] == [
        "no email address at $.context.traits.email or $.traits.email"
    ]
    fixed = destination(
        mappings={
            "tier": {
                "trigger": {"event": "Tier Changed"},
                "action": {
                    "list_id": LIST_A,
                    "email": "$.properties.email",
                    "fields": {FIELD_TIER: "$.properties.tier"},
                },
            }
        }
    )
    with Queue(server.queue_path) as queue:
        report = retry_dead_letters(queue, fixed)
    assert (report.requeued, report.still_dead) == (1, 0)
    wait_for(
        lambda: field_values(emulator, LIST_A, [FIELD_TIER])[emails[0]].get(FIELD_TIER) == "fixed",
        what="the retried event",
    )


def test_retry_never_overwrites_a_newer_value(
    emulator: Emulator, start_server: StartServer
) -> None:
    emails = seed_lists(emulator, contacts=1)
    emulator.admin.add_fault(path="/Contact/SegmentationField", fail_next=10, error_status=500)
    server = start_server(
        destination(
            retry={"max_attempts": 1, "initial_backoff_seconds": 0.01, "max_backoff_seconds": 0.02}
        )
    )
    server.post("/v1/track", track(emails[0], "Tier Changed", tier="old"))
    wait_for(lambda: _dead(server.queue_path), what="the old update to be dead-lettered")
    emulator.admin.clear_faults()
    server.post("/v1/track", track(emails[0], "Tier Changed", tier="new"))
    wait_for(
        lambda: field_values(emulator, LIST_A, [FIELD_TIER])[emails[0]].get(FIELD_TIER) == "new"
    )
    wait_for(lambda: _depth(server.queue_path) == 0)
    with Queue(server.queue_path) as queue:
        report = retry_dead_letters(queue, server.service.destination)
    assert (report.requeued, report.superseded) == (0, 1)
    assert field_values(emulator, LIST_A, [FIELD_TIER])[emails[0]][FIELD_TIER] == "new"
