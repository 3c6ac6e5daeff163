"""``--state FILE`` keeps integrations and resources across restarts."""

from __future__ import annotations

from pathlib import Path

from listrak_sync.emulator import EmulatorServer
from listrak_sync.emulator.admin_client import EmulatorAdmin


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
