"""The event service drops events of forgotten people at intake: never queued, never sent."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from listrak_sync.privacy.journal import ForgetJournal
from listrak_sync.privacy.keyed_hash import KeyedHasher, load_salt
from listrak_sync.privacy.suppression import ForgottenWatch
from tests.conftest import Emulator
from tests.events.conftest import (
    FIELD_TIER,
    LIST_A,
    StartServer,
    destination,
    field_values,
    seed_lists,
    track,
    wait_for,
)


def _forget(state_folder: Path, email: str) -> None:
    salt = load_salt(state_folder, create=True)
    assert salt is not None
    hasher = KeyedHasher(salt)
    with ForgetJournal(state_folder / "state.sqlite") as journal:
        journal.begin(hasher.request(email, None), [hasher.email(email)], None)


def test_events_of_a_forgotten_person_are_dropped(
    emulator: Emulator,
    start_server: StartServer,
    tmp_path: Path,
) -> None:
    emails = seed_lists(emulator, contacts=2)
    state_folder = tmp_path / ".listrak-sync"
    _forget(state_folder, emails[1])
    dest = destination(
        mappings={
            "tier": {
                "trigger": {"all": [{"type": "track"}, {"event": "Tier Changed"}]},
                "action": {"list_id": LIST_A, "fields": {FIELD_TIER: "$.properties.tier"}},
            }
        }
    )
    server = start_server(dest)
    server.service.forgotten = ForgottenWatch(state_folder)
    answers = [
        server.post("/v1/track", track(emails[0], "Tier Changed", tier="gold")),
        server.post("/v1/track", track("  " + emails[1].upper(), "Tier Changed", tier="gold")),
    ]
    assert [a.status_code for a in answers] == [200, 200]

    def delivered() -> bool:
        return field_values(emulator, LIST_A, [FIELD_TIER])[emails[0]].get(FIELD_TIER) == "gold"

    wait_for(delivered, what="the other person's update")
    assert field_values(emulator, LIST_A, [FIELD_TIER])[emails[1]].get(FIELD_TIER) is None
    with sqlite3.connect(server.queue_path) as db:
        tables = [
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            rows = db.execute(f"SELECT * FROM {table}").fetchall()
            assert emails[1] not in str(rows).lower(), table
