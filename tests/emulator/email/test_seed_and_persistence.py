"""The email seed document, the state dump, and ``--state FILE`` across restarts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from listrak_sync.emulator import EmulatorServer
from listrak_sync.emulator.admin_client import EmulatorAdmin, EmulatorAdminError
from listrak_sync.emulator.cli import sample_seed
from listrak_sync.emulator.email import import_queue
from tests.conftest import Emulator
from tests.emulator.email.helpers import BASE, email_column, import_body, run_import


def test_sample_seed_loads_and_dumps(emulator: Emulator) -> None:
    seed = sample_seed()
    seed.pop("clients")
    emulator.admin.seed(seed)
    state = emulator.admin.state()["email"]
    newsletter = state["lists"][0]
    assert newsletter["contacts"]["Subscribed"] >= 15
    assert newsletter["contacts"]["Unsubscribed"] >= 1
    assert [g["segmentationFieldGroupName"] for g in newsletter["segmentationFieldGroups"]] == [
        "Customer"
    ]
    assert state["bannedCount"] >= 1
    assert "contactList" not in newsletter
    full = emulator.admin.state(full=True)["email"]
    first = full["lists"][0]["contactList"][0]
    assert set(first["segmentationFieldValues"]) >= {"FirstName", "LastName"}
    assert full["banned"]


@pytest.mark.parametrize(
    ("contact", "message"),
    [
        ({"emailAddress": "nope"}, "contacts[0]: 'nope' is not a valid email address"),
        (
            {"emailAddress": "a@example.com", "segmentationFieldValues": {"Shoe": "9"}},
            "no profile field 'Shoe'",
        ),
        (
            {"emailAddress": "a@example.com", "segmentationFieldValues": {"Birthday": "soon"}},
            "the value of Birthday does not fit",
        ),
        ({"emailAddress": "a@example.com", "colour": "red"}, "unknown member(s) colour"),
    ],
)
def test_bad_seeds_name_the_entry(
    emulator: Emulator, contact: dict[str, object], message: str
) -> None:
    doc = {
        "email": {
            "lists": [
                {
                    "listName": "L",
                    "segmentationFieldGroups": [
                        {
                            "segmentationFieldGroupName": "G",
                            "segmentationFields": [
                                {
                                    "segmentationFieldName": "Birthday",
                                    "dataType": "Date",
                                    "maxLength": 10,
                                }
                            ],
                        }
                    ],
                    "contacts": [contact],
                }
            ]
        }
    }
    with pytest.raises(EmulatorAdminError, match=re.escape(message)):
        emulator.admin.seed(doc)


def test_contacts_and_imports_survive_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.duckdb"
    client = ("persist", "persist-secret")
    with EmulatorServer(state_file=state_file) as first, EmulatorAdmin(first.base_url) as admin:
        admin.seed(
            {
                "clients": [
                    {"client_id": client[0], "client_secret": client[1], "integration": "email"}
                ],
                "email": {
                    "banned": ["banned@example.com"],
                    "lists": [
                        {
                            "listId": 1001,
                            "listName": "Kept",
                            "contacts": [{"emailAddress": "seeded@example.com"}],
                        }
                    ],
                },
            }
        )
        from tests.conftest import Emulator as Running

        running = Running(first, admin)
        with running.http(client) as http:
            import_id, _ = run_import(
                running,
                http,
                1001,
                import_body("e\nimported@example.com\nbanned@example.com\n", [email_column()]),
            )
            # An import still queued when the emulator stops is failed after the restart.
            with import_queue(first.state).paused():
                stuck = http.post(
                    f"{BASE}/List/1001/ListImport",
                    json=import_body("e\nlate@example.com\n", [email_column()]),
                ).json()["resourceId"]
                first.stop()
                # The process dies here: the queued job never runs against this state.
                import_queue(first.state).forget_pending()
                first.state.close()
    with EmulatorServer(state_file=state_file) as second, EmulatorAdmin(second.base_url) as admin:
        running = Running(second, admin)
        with running.http(client) as http:
            emails = [
                c["emailAddress"] for c in http.get(f"{BASE}/List/1001/Contact").json()["data"]
            ]
            assert emails == ["seeded@example.com", "imported@example.com"]
            summary = http.get(f"{BASE}/List/1001/ListImport/{import_id}/Summary").json()["data"]
            assert summary["bannedCount"] == 1
            status = http.get(f"{BASE}/List/1001/ListImport/{stuck}/Status").json()["data"]
            assert status["status"] == "Failed"
            assert admin.state()["email"]["bannedCount"] == 1
