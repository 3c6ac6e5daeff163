"""``/events``: an event destination's mappings, queue and dead letters; admins replay them."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from listrak_sync.events import Queue, Update
from tests.web.conftest import ConsoleProject, log_in

EVENTS = """\
  events:
    type: listrak_events
    credential: email
    write_keys: [sha256:8c365d0d5950e8e1ed371597bbf63992cf7613da0d65e84fbeded634b3e40c71]
    queue_file: events.sqlite
    mappings:
      tier:
        trigger: {event: Tier Changed}
        action: {list_id: 1001, fields: {1001: $.properties.tier}}
"""


def _with_dead_letters(project: ConsoleProject, count: int) -> None:
    text = project.config_file.read_text()
    project.config_file.write_text(text.replace("segments:\n", EVENTS + "segments:\n", 1))
    with Queue(project.root / "events.sqlite") as queue:
        queue.append(
            [
                Update("tier", "email", 1001, f"ann{i}@example.com", ((1001, "gold"),))
                for i in range(count)
            ]
        )
        rows = queue.pending(("email", 1001), 0, 10)
        queue.dead_letter([(row, "Listrak import result: SkippedNotOnList") for row in rows])


def test_dead_letters_are_listed_masked_and_only_admins_replay_them(
    client: TestClient, console_project: ConsoleProject
) -> None:
    _with_dead_letters(console_project, 3)
    token = log_in(client, "mia")
    page = client.get("/events").text
    assert "Event destination events" in page
    assert 'dead letters: <strong class="error">3</strong>' in page
    assert "SkippedNotOnList" in page
    assert "ann0@example.com" not in page
    assert "Replay all" not in page
    refused = client.post("/events/replay", data={"csrf": token, "destination": "events",
                                                  "all": "yes"})  # fmt: skip
    assert refused.status_code == 403
    assert 'class="num error">3</td>' in client.get("/").text  # the overview counts them

    first_id = re.search(r'/events/events/dead-letters/(\d+)"', page)
    assert first_id
    inspected = client.get(f"/events/events/dead-letters/{first_id[1]}?pii=1").text
    assert "SkippedNotOnList" in inspected
    assert "Profile fields it would set (values masked)" in inspected
    assert "gold" not in inspected  # the value, masked for a marketer even when asked
    assert "ann0@example.com" not in inspected

    client.cookies.clear()
    token = log_in(client, "ada")
    shown = client.get(f"/events/events/dead-letters/{first_id[1]}?pii=1").text
    assert "<td>gold</td>" in shown
    assert "@example.com" in shown
    first = re.search(r'name="id" value="(\d+)"', client.get("/events").text)
    assert first
    one = client.post("/events/replay", data={"csrf": token, "destination": "events",
                                              "id": first[1]})  # fmt: skip
    assert "1 dead letter(s): 1 update(s) queued again" in one.text
    assert 'dead letters: <strong class="error">2</strong>' in one.text
    every = client.post("/events/replay", data={"csrf": token, "destination": "events",
                                                "all": "yes"})  # fmt: skip
    assert "2 dead letter(s): 2 update(s) queued again" in every.text
    with Queue(console_project.root / "events.sqlite") as queue:
        assert queue.dead_letter_count() == 0
        assert queue.depth() == 3
