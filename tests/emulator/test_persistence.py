"""``--state FILE`` keeps integrations and resources across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from listrak_sync.emulator import EmulatorServer
from listrak_sync.emulator.admin_client import EmulatorAdmin, EmulatorAdminError


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.duckdb"
    with EmulatorServer(state_file=state_file) as first, EmulatorAdmin(first.base_url) as admin:
        admin.seed(
            {
                "clients": [{"client_id": "a", "client_secret": "s", "integration": "email"}],
                "email": {
                    "lists": [
                        {"listName": "Kept", "bounceHandling": "None", "bounceUnsubscribeCount": 1}
                    ]
                },
            }
        )
    first.state.close()
    with EmulatorServer(state_file=state_file) as second, EmulatorAdmin(second.base_url) as admin:
        state = admin.state()
    assert [c["client_id"] for c in state["clients"]] == ["a"]
    assert [entry["listName"] for entry in state["email"]["lists"]] == ["Kept"]


def test_seeding_an_id_that_exists_is_a_conflict_not_a_crash() -> None:
    doc = {
        "email": {
            "lists": [
                {
                    "listId": 77,
                    "listName": "Once",
                    "bounceHandling": "None",
                    "bounceUnsubscribeCount": 1,
                }
            ]
        }
    }
    with EmulatorServer() as server, EmulatorAdmin(server.base_url) as admin:
        admin.seed(doc)
        with pytest.raises(EmulatorAdminError, match="conflicts with what exists"):
            admin.seed(doc)
        assert [entry["listName"] for entry in admin.state()["email"]["lists"]] == ["Once"]
