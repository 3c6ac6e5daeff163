"""Email messages and activity into tables, incremental by send date, as track events."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.source.conftest import LIST_ID, SourceProject, email_source, seed_email


def _message(message_id: int, sent: str, activity: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "subject": f"Message {message_id}",
        "sendDate": sent,
        "campaignId": 7,
        "links": [{"linkUrl": "https://shop.example/a"}],
        "activity": activity,
    }


def _activity(count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(1, count + 1):
        row: dict[str, Any] = {"emailAddress": f"person{i:05d}@example.com"}
        if i % 2 == 0:
            row["open"] = True
        if i % 4 == 0:
            row["clicks"] = [{"linkId": 1, "clickDate": "2026-03-02T10:00:00"}]
        if i % 25 == 0:
            row = {**row, "bounce": True, "bounceReason": "Mailbox full", "open": False}
            row.pop("clicks", None)
        if i == 30:
            row["unsubscribe"] = True
        rows.append(row)
    return rows


def _tracks(project: SourceProject) -> list[dict[str, Any]]:
    path = project.root / "events" / "news.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [e for e in map(json.loads, lines) if e["type"] == "track"]


def _source(**engagement: Any) -> dict[str, Any]:
    return email_source(
        fields=[103],
        engagement={"enabled": True, "lookback_days": 7, **engagement},
        events={
            "sink": {"type": "jsonl", "path": "events/news.jsonl"},
            "identify": False,
            "track": True,
            "user_id_field": 103,
        },
    )


def test_messages_activity_tables_and_track_events(project: SourceProject) -> None:
    seed_email(
        project.emulator,
        200,
        messages=[
            _message(9001, "2026-03-01T10:00:00", _activity(200)),
            _message(9002, "2026-03-08T10:00:00", _activity(50)),
        ],
    )
    project.write({"news": _source()})

    result = project.pull()

    assert result.exit_code == 0, result.output
    messages = project.query(
        "SELECT message_id, subject, campaign_id, CAST(send_date AS VARCHAR)"
        " FROM listrak_news_messages ORDER BY 1"
    )
    assert messages == [
        (9001, "Message 9001", 7, "2026-03-01 10:00:00"),
        (9002, "Message 9002", 7, "2026-03-08 10:00:00"),
    ]
    flags = project.query(
        "SELECT count(*), count(*) FILTER (WHERE opened), count(*) FILTER (WHERE clicked),"
        " count(*) FILTER (WHERE bounced), count(*) FILTER (WHERE unsubscribed)"
        " FROM listrak_news_activity WHERE message_id = 9001"
    )
    assert flags == [(200, 96, 48, 8, 1)]
    events = _tracks(project)
    by_name = Counter(e["event"] for e in events)
    assert by_name == {
        "Email Sent": 250,
        "Email Opened": 96 + 24,
        "Email Link Clicked": 48 + 12,
        "Email Bounced": 8 + 2,
        "Unsubscribed": 2,
    }
    click = next(
        e
        for e in events
        if e["event"] == "Email Link Clicked"
        and e["anonymousId"] == "person00004@example.com"
        and e["properties"]["email_id"] == "9001"
    )
    assert click["properties"] == {
        "email_id": "9001",
        "email_subject": "Message 9001",
        "campaign_id": 7,
        "list_id": LIST_ID,
        "email": "person00004@example.com",
        "click_count": 1,
    }
    assert click["userId"] == "C000004"
    assert click["timestamp"] == "2026-03-02T10:00:00Z"
    bounce = next(e for e in events if e["event"] == "Email Bounced")
    assert bounce["properties"]["bounce_reason"] == "Mailbox full"
    run = project.runs("news")[0]
    assert run.counts["messages"] == 2
    assert run.counts["activity_sends"] == 250


def test_incremental_engagement_rereads_the_lookback_window(project: SourceProject) -> None:
    seed_email(
        project.emulator,
        20,
        messages=[
            _message(9001, "2026-02-01T10:00:00", _activity(10)),
            _message(9002, "2026-03-01T10:00:00", [{"emailAddress": "person00001@example.com"}]),
        ],
    )
    project.write({"news": _source()})
    assert project.pull().exit_code == 0
    before = len(_tracks(project))
    # A later open of the March message, and a new message: both within the window.
    project.emulator.admin.seed(
        {
            "email": {
                "messages": [
                    {
                        "listId": LIST_ID,
                        "messageId": 9002,
                        "activity": [{"emailAddress": "person00001@example.com", "open": True}],
                    },
                    {"listId": LIST_ID, **_message(9003, "2026-03-03T10:00:00", [])},
                ]
            }
        }
    )
    project.emulator.admin.clear_requests()

    assert project.pull().exit_code == 0

    run = project.runs("news")[0]
    assert run.details["engagement_since"] == "2026-02-22T10:00:00"  # 7 days before 1 March
    requests = project.emulator.admin.requests()
    # February's message is outside the window: its activity is not read again.
    assert requests["MessageActivity_GetMessageActivityCollection"] == 2
    new = _tracks(project)[before:]
    assert [(e["event"], e["properties"]["email_id"]) for e in new] == [("Email Opened", "9002")]
    assert project.query("SELECT opened FROM listrak_news_activity WHERE message_id = 9002") == [
        (True,)
    ]
    assert project.query("SELECT count(*) FROM listrak_news_activity") == [(11,)]
