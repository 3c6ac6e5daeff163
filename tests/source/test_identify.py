"""Identify events after a pull: first pull all, then changes only, with exact traits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Emulator
from tests.source.conftest import LIST_ID, SourceProject, email_source, seed_email

TRAIT = f"Listrak_list_{LIST_ID}"


def _events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _set_state(emulator: Emulator, email: str, state: str) -> None:
    with emulator.http() as http:
        answer = http.post(
            f"/email/v1/List/{LIST_ID}/Contact",
            params={"overrideUnsubscribe": "true"},
            json={"emailAddress": email, "subscriptionState": state, "segmentationFieldValues": []},
        )
    assert answer.status_code in (200, 201), answer.text


def _source(**events: Any) -> dict[str, Any]:
    return email_source(
        fields=[101],
        events={
            "sink": {"type": "jsonl", "path": "events/news.jsonl"},
            "user_id_field": 103,
            **events,
        },
    )


def test_first_pull_identifies_everyone_then_only_changes(project: SourceProject) -> None:
    seed_email(project.emulator, 12_000)
    project.write({"news": _source()})
    out = project.root / "events" / "news.jsonl"

    assert project.pull().exit_code == 0

    events = _events(out)
    assert len(events) == 12_000
    by_email = {e["anonymousId"]: e for e in events}
    subscribed = by_email["Person00001@Example.com"]
    assert subscribed["type"] == "identify"
    assert subscribed["traits"] == {"email": "Person00001@Example.com", TRAIT: True}
    assert subscribed["userId"] == "C000001"
    assert subscribed["timestamp"] == "2026-01-01T08:01:00Z"
    assert subscribed["context"]["library"]["name"] == "listrak-sync"
    no_user = by_email["Person00003@Example.com"]  # no CustomerId value: no userId at all
    assert "userId" not in no_user
    unsubscribed = by_email["Person00010@Example.com"]
    # false, not left out: Segment merges traits, so only false clears an earlier true.
    assert unsubscribed["traits"] == {"email": "Person00010@Example.com", TRAIT: False}
    assert len({e["messageId"] for e in events}) == 12_000
    run = project.runs("news")[0]
    assert run.counts["identify_events"] == 12_000
    assert run.counts["events_delivered"] == 12_000

    # Nothing changed: nothing to say.
    assert project.pull().exit_code == 0
    assert len(_events(out)) == 12_000


def test_subscribe_unsubscribe_resubscribe_traits(project: SourceProject) -> None:
    seed_email(project.emulator, 20)
    project.write({"news": _source()})
    out = project.root / "events" / "news.jsonl"
    _set_state(project.emulator, "fresh@example.com", "Subscribed")
    assert project.pull().exit_code == 0
    seen = len(_events(out))

    _set_state(project.emulator, "fresh@example.com", "Unsubscribed")
    assert project.pull().exit_code == 0
    _set_state(project.emulator, "fresh@example.com", "Subscribed")
    assert project.pull().exit_code == 0

    mine = [e for e in _events(out) if e["anonymousId"] == "fresh@example.com"]
    assert [e["traits"] for e in mine] == [
        {"email": "fresh@example.com", TRAIT: True},
        {"email": "fresh@example.com", TRAIT: False},
        {"email": "fresh@example.com", TRAIT: True},
    ]
    # The profile a Segment-style merge holds after each step says what Listrak says.
    assert [profile[TRAIT] for profile in _merged(mine)] == [True, False, True]
    assert all("userId" not in e for e in mine)
    assert len({e["messageId"] for e in mine}) == 3
    assert len(_events(out)) == seen + 2  # nobody else changed


def test_changes_in_one_second_each_get_their_event(
    project: SourceProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Listrak's dates have second resolution: with the emulator's clock held inside one second,
    # subscribe, unsubscribe and resubscribe (twice over) carry the same dates, and each pull
    # still reports each change, with its own messageId.
    moment = [datetime(2026, 11, 2, 9, 30, 0, 250_000, tzinfo=UTC).timestamp()]
    monkeypatch.setattr(project.emulator.server.state, "clock", lambda: moment[0])
    seed_email(project.emulator, 5)
    project.write({"news": _source()})
    out = project.root / "events" / "news.jsonl"
    states = ["Subscribed", "Unsubscribed", "Subscribed", "Unsubscribed", "Subscribed"]
    for state in states:
        _set_state(project.emulator, "fresh@example.com", state)
        assert project.pull().exit_code == 0
        moment[0] += 0.1  # still 09:30:00

    mine = [e for e in _events(out) if e["anonymousId"] == "fresh@example.com"]
    subscribed = {"email": "fresh@example.com", TRAIT: True}
    left = {"email": "fresh@example.com", TRAIT: False}
    assert [e["traits"] for e in mine] == [subscribed, left, subscribed, left, subscribed]
    assert {e["timestamp"] for e in mine} == {"2026-11-02T09:30:00Z"}
    assert len({e["messageId"] for e in mine}) == 5
    assert [r.counts["identify_events"] for r in reversed(project.runs("news"))] == [6, 1, 1, 1, 1]


def _merged(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The profile after each identify, merged as Segment merges traits: a trait sent replaces
    the one held, a trait left out keeps its value."""
    profile: dict[str, Any] = {}
    states = []
    for event in events:
        profile = {**profile, **event["traits"]}
        states.append(profile)
    return states


@pytest.mark.parametrize(
    ("spelling", "unsubscribed"),
    [
        (False, {TRAIT.lower(): False}),  # YAML `false` unquoted
        ("false", {TRAIT.lower(): False}),
        (None, {TRAIT.lower(): None}),  # YAML `null` unquoted
        ("null", {TRAIT.lower(): None}),
        ("remove", {}),
    ],
)
def test_trait_prefix_and_unsubscribed_spellings(
    project: SourceProject, spelling: Any, unsubscribed: dict[str, Any]
) -> None:
    seed_email(project.emulator, 10)
    project.write({"news": _source(trait_prefix="listrak_list_", unsubscribed_trait=spelling)})
    assert project.pull().exit_code == 0
    by_email = {e["anonymousId"]: e for e in _events(project.root / "events" / "news.jsonl")}
    assert by_email["Person00001@Example.com"]["traits"][f"listrak_list_{LIST_ID}"] is True
    left = by_email["Person00010@Example.com"]["traits"]
    assert left == {"email": "Person00010@Example.com", **unsubscribed}


def test_no_events_flag_and_user_id_change(project: SourceProject) -> None:
    seed_email(project.emulator, 10)
    project.write({"news": _source()})
    out = project.root / "events" / "news.jsonl"
    assert project.pull("--no-events").exit_code == 0
    assert _events(out) == []
    assert project.pull().exit_code == 0
    assert len(_events(out)) == 10  # the first pull with events identifies everyone
    with project.emulator.http() as http:
        http.post(
            f"/email/v1/List/{LIST_ID}/Contact",
            json={
                "emailAddress": "person00002@example.com",
                "segmentationFieldValues": [{"segmentationFieldId": 103, "value": "NEW-ID"}],
            },
        ).raise_for_status()
    # Listrak dates don't move on a field edit: the incremental pull cannot see it, --full does.
    assert project.pull().exit_code == 0
    assert len(_events(out)) == 10
    assert project.pull("--full").exit_code == 0
    last = _events(out)[-1]
    assert len(_events(out)) == 11
    assert last["userId"] == "NEW-ID"
