"""``listrak-sync events ...``: mapping test, dead letters, write-key hashes, config errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.events import Queue, Rejection, Update, hash_write_key

from .conftest import FIELD_TIER, LIST_A, WRITE_KEY_HASH

runner = CliRunner()


def _config(tmp_path: Path, **changes: Any) -> Path:
    destination: dict[str, Any] = {
        "type": "listrak_events",
        "credential": "email",
        "write_keys": [WRITE_KEY_HASH],
        "mappings": {
            "tier": {
                "trigger": {"event": "Tier Changed"},
                "action": {"list_id": LIST_A, "fields": {FIELD_TIER: "$.properties.tier"}},
            },
            "audiences": {
                "trigger": {"event": ["Audience Entered", "Audience Exited"]},
                "action": {"list_id": LIST_A, "audience": {"field_group": "Aud"}},
            },
        },
        **changes,
    }
    doc = {
        "credentials": {
            "email": {"type": "listrak", "client_id": "x", "client_secret": {"env": "NOPE"}}
        },
        "destinations": {"events": destination},
    }
    path = tmp_path / "events.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    return path


def _event_file(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(doc), "utf-8")
    return path


def _audience_entered(tmp_path: Path, audience: str, email: str) -> Path:
    """An "Audience Entered" track event for ``email`` as an event file."""
    return _event_file(
        tmp_path,
        {
            "type": "track",
            "userId": "u",
            "event": "Audience Entered",
            "properties": {"audience_key": audience},
            "context": {"traits": {"email": email}},
        },
    )


def test_events_test_shows_the_request(tmp_path: Path) -> None:
    config = _config(tmp_path)
    event = _audience_entered(tmp_path, "vip_shoppers", "ann@example.com")
    result = runner.invoke(
        app, ["events", "test", "audiences", "--event", str(event), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["request"] == {
        "method": "POST",
        "path": f"/email/v1/List/{LIST_A}/Contact/SegmentationField",
        "body": [
            {
                "emailAddress": "ann@example.com",
                "segmentationFieldValues": [
                    {
                        "segmentationFieldName": "vip_shoppers",
                        "segmentationFieldGroupName": "Aud",
                        "value": "on",
                        "note": "id resolved at delivery; created as a CheckBox field if missing",
                    }
                ],
            }
        ],
    }
    no_match = runner.invoke(
        app, ["events", "test", "tier", "--event", str(event), "--config", str(config)]
    )
    assert no_match.exit_code == 1
    assert json.loads(no_match.output) == {"mapping": "tier", "enabled": True, "matched": False}
    unknown = runner.invoke(
        app, ["events", "test", "nope", "--event", str(event), "--config", str(config)]
    )
    assert unknown.exit_code == 2
    assert "no mapping named 'nope' (there are: audiences, tier)" in unknown.output
    bad = _event_file(tmp_path, {"type": "track", "userId": "u"})
    invalid = runner.invoke(
        app, ["events", "test", "tier", "--event", str(bad), "--config", str(config)]
    )
    assert invalid.exit_code == 2
    assert "event: a non-empty string is required for track" in invalid.output


def test_config_errors_name_file_line_and_column(tmp_path: Path) -> None:
    config = _config(tmp_path, batch={"max_contacts": 0})
    event = _event_file(tmp_path, {"type": "track", "userId": "u", "event": "Tier Changed"})
    result = runner.invoke(
        app, ["events", "test", "tier", "--event", str(event), "--config", str(config)]
    )
    assert result.exit_code == 2
    line = next(
        n for n, text in enumerate(config.read_text().splitlines(), 1) if "max_contacts" in text
    )
    assert f"events.yml:{line}:" in result.output
    assert "destinations.events.batch.max_contacts" in result.output


def test_dead_letter_list_and_retry(tmp_path: Path) -> None:
    config = _config(tmp_path)
    queue_path = tmp_path / "events.sqlite"
    event = {"type": "track", "event": "Tier Changed", "properties": {"tier": "t"}}
    with Queue(queue_path) as queue:
        queue.append(
            [Update("tier", "email", LIST_A, "ann@example.com", ((FIELD_TIER, "gold"),))],
            [(Rejection("tier", "email", LIST_A, None, "no email address at $.x"), event)],
        )
        (row,) = queue.pending(("email", LIST_A), 0, 10)
        queue.dead_letter([(row, "Listrak import result: SkippedNotOnList")])
    listed = runner.invoke(
        app, ["events", "dead-letter", "list", "--config", str(config)], env={"COLUMNS": "200"}
    )
    assert listed.exit_code == 0, listed.output
    assert "SkippedNotOnList" in listed.output
    assert "ann@example.com" not in listed.output  # no PII unless asked for
    as_json = runner.invoke(
        app, ["events", "dead-letter", "list", "--json", "--show-pii", "--config", str(config)]
    )
    docs = [json.loads(line) for line in as_json.output.splitlines() if line.startswith("{")]
    assert [d["contact"] for d in docs] == [None, "ann@example.com"]
    nothing = runner.invoke(app, ["events", "dead-letter", "retry", "--config", str(config)])
    assert nothing.exit_code == 2
    retried = runner.invoke(
        app, ["events", "dead-letter", "retry", "--all", "--config", str(config)]
    )
    assert retried.exit_code == 0, retried.output
    assert "2 dead letter(s): 1 update(s) queued again, 0 superseded" in retried.output
    assert "1 refused again by the mapping" in retried.output
    with Queue(queue_path) as queue:
        assert [r.fields for r in queue.pending(("email", LIST_A), 0, 10)] == [
            ((FIELD_TIER, "gold"),)
        ]
        assert [d.reason for d in queue.dead_letters()] == [
            "no email address at $.context.traits.email or $.traits.email"
        ]
    missing = runner.invoke(app, ["events", "dead-letter", "retry", "999", "--config", str(config)])
    assert missing.exit_code == 1


def test_hash_key() -> None:
    result = runner.invoke(app, ["events", "hash-key"], input="my-key\n")
    assert result.exit_code == 0
    assert result.output.strip() == hash_write_key("my-key")


def test_hash_key_takes_no_key_on_the_command_line() -> None:
    result = runner.invoke(app, ["events", "hash-key", "--key", "my-key"])
    assert result.exit_code == 2  # not an option: the key would stay in the shell's history
    assert hash_write_key("my-key") not in result.output


def test_serve_and_events_test_find_the_project_like_other_commands(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    assert runner.invoke(app, ["init", str(project), "--customers", "0"]).exit_code == 0
    event = _audience_entered(tmp_path, "vip", "a@example.com")
    by_option = runner.invoke(
        app, ["events", "test", "audiences", "--event", str(event), "-p", str(project)]
    )
    by_env = runner.invoke(
        app,
        ["events", "test", "audiences", "--event", str(event)],
        env={"LISTRAK_SYNC_PROJECT": str(project)},
    )
    for result in (by_option, by_env):
        assert result.exit_code == 0, result.output
        assert "/email/v1/List/1001/Contact/SegmentationField" in result.output
    # serve: a folder with no project is named in the error (the server does not start).
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["serve", "-p", str(empty)])
    assert result.exit_code == 2
    assert str(empty / "listrak-sync.yml") in result.output
    result = runner.invoke(app, ["serve"], env={"LISTRAK_SYNC_PROJECT": str(empty)})
    assert result.exit_code == 2
    assert str(empty / "listrak-sync.yml") in result.output


def test_sample_project_profile_mapping_reads_segment_and_rudderstack_traits(
    tmp_path: Path,
) -> None:
    import shutil

    root = tmp_path / "sample"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "sample-project", root)
    traits = {"email": "ava.reed@example.com", "firstName": "Ava", "lastName": "Reed"}
    shapes = {
        "segment": {"type": "identify", "userId": "u1", "traits": traits},
        "rudderstack": {"type": "identify", "userId": "u1", "context": {"traits": traits}},
    }
    for name, event in shapes.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(event), "utf-8")
        result = runner.invoke(
            app, ["events", "test", "profile", "--event", str(path), "--project", str(root)]
        )
        assert result.exit_code == 0, (name, result.output)
        body = json.loads(result.output)["request"]["body"]
        assert body == [
            {
                "emailAddress": "ava.reed@example.com",
                "segmentationFieldValues": [
                    {"segmentationFieldId": 1001, "value": "Ava"},
                    {"segmentationFieldId": 1002, "value": "Reed"},
                ],
            }
        ], name
