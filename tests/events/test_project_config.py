"""``serve`` configured from the project file (``listrak-sync.yml``), and ``validate`` on its
event destination."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from listrak_sync.api import load_setup
from listrak_sync.cli import app
from listrak_sync.events import EventServer, EventService, client_settings
from listrak_sync.events.logs import make_logger
from tests.conftest import EMAIL_CLIENT, Emulator

from .conftest import (
    FAST_RETRY,
    FIELD_TIER,
    LIST_A,
    WRITE_KEY_HASH,
    Running,
    field_values,
    seed_lists,
    track,
    wait_for,
)

runner = CliRunner()


def _project(root: Path, emulator: Emulator, **changes: Any) -> Path:
    """A project whose only destination is an event destination; the secret in secrets.yml."""
    destination: dict[str, Any] = {
        "type": "listrak_events",
        "credential": "listrak_email",
        "write_keys": [WRITE_KEY_HASH],
        "queue_file": "state/events.sqlite",
        "batch": {"max_contacts": 100, "max_wait_seconds": 0.05},
        "mappings": {
            "tier": {
                "trigger": {"all": [{"type": "track"}, {"event": "Tier Changed"}]},
                "action": {"list_id": LIST_A, "fields": {FIELD_TIER: "$.properties.tier"}},
            }
        },
        **changes,
    }
    doc = {
        "listrak": {"api_url": emulator.base_url, "auth_url": emulator.base_url},
        "credentials": {
            "listrak_email": {
                "type": "listrak",
                "client_id": EMAIL_CLIENT[0],
                "client_secret": {"secret": "email_secret"},
            }
        },
        "destinations": {"segment_events": destination},
    }
    (root / "listrak-sync.yml").write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    secrets = root / "secrets.yml"
    secrets.write_text(f"email_secret: {EMAIL_CLIENT[1]}\n", "utf-8")
    secrets.chmod(0o600)
    return root


def test_serve_reads_its_destination_from_the_project(emulator: Emulator, tmp_path: Path) -> None:
    emails = seed_lists(emulator, contacts=3)
    root = _project(tmp_path, emulator)
    setup = load_setup(project=root)  # what `serve` does without --config
    assert setup.name == "segment_events"
    assert setup.queue_path == root / "state" / "events.sqlite"
    assert setup.hosts.api_url == emulator.base_url
    assert setup.credentials["listrak_email"].client_id == EMAIL_CLIENT[0]
    (root / "state").mkdir()
    service = EventService(
        setup.destination,
        setup.queue_path,
        setup.credentials,
        settings=client_settings(
            setup.hosts.api_url,
            setup.hosts.auth_url,
            retry=FAST_RETRY,
            import_poll_interval=0.02,
            import_poll_max_interval=0.1,
        ),
        log=make_logger(level="warning"),
        poll_seconds=0.1,
        grace_seconds=2.0,
    )
    server = Running(EventServer(service).start(), setup.queue_path)
    try:
        for email in emails:
            assert server.post("/v1/track", track(email, "Tier Changed", tier="gold")).is_success
        wait_for(
            lambda: all(
                v.get(FIELD_TIER) == "gold"
                for e, v in field_values(emulator, LIST_A, [FIELD_TIER]).items()
                if e in emails
            ),
            what="the profile fields to be updated",
        )
    finally:
        server.close()


def test_events_commands_use_the_project(emulator: Emulator, tmp_path: Path) -> None:
    root = _project(tmp_path, emulator)
    event = tmp_path / "event.json"
    event.write_text(json.dumps(track("ann@example.com", "Tier Changed", tier="gold")), "utf-8")
    result = runner.invoke(
        app, ["events", "test", "tier", "--event", str(event), "--project", str(root)]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["request"]["path"] == f"/email/v1/List/{LIST_A}/Contact/SegmentationField"


def test_validate_reports_a_bad_mapping_at_its_place(emulator: Emulator, tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        emulator,
        mappings={
            "tier": {
                "trigger": {"evnt": "Tier Changed"},
                "action": {"list_id": LIST_A, "fields": {FIELD_TIER: "$.properties..tier"}},
            }
        },
    )
    result = runner.invoke(app, ["validate", "--offline", "-p", str(root)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    lines = (root / "listrak-sync.yml").read_text().splitlines()
    trigger = next(n for n, text in enumerate(lines, 1) if "evnt:" in text)
    fields = next(n for n, text in enumerate(lines, 1) if "..tier" in text)
    output = " ".join(result.output.split())
    assert f"listrak-sync.yml:{trigger}:" in output
    assert "destinations.segment_events.mappings.tier.trigger" in output
    assert f"listrak-sync.yml:{fields}:" in output
    assert "destinations.segment_events.mappings.tier.action.fields" in output
    assert "2 problems" in output
    served = runner.invoke(app, ["serve", "--project", str(root)], env={"COLUMNS": "300"})
    assert served.exit_code == 2  # serve refuses the same file, naming the place
    assert f"listrak-sync.yml:{trigger}:" in " ".join(served.output.split())
