"""The per-contact path gives exactly the end states of the import path, and the choice.

Two projects sync the same audience, through the same crafted cases, to two lists of one
emulator: one with list imports only, one with per-contact calls only. After every run the two
lists must hold the same contacts in the same states with the same profile values, and the two
runs must count the same effects and results.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from listrak_sync.listrak import ClientSettings, Contact, Credentials, ListrakClient
from listrak_sync.state import StateStore
from listrak_sync.sync import Workspace
from listrak_sync.sync.email.paths import DEFAULT_IMPORT_SECONDS, Observed, choose
from tests.conftest import EMAIL_CLIENT, Emulator
from tests.sync.helpers import Person, SyncProject, flags, list_state, people

LISTS = {"imports": (1001, "Newsletter"), "contacts": (1002, "Newsletter2")}


def _seed(emulator: Emulator) -> None:
    def crafted() -> list[dict[str, Any]]:
        return [
            # On the list already, with a value the audience does not give (not wiped by add).
            {"emailAddress": "signup@example.com", "segmentationFieldValues": {}},
            {"emailAddress": "gone@example.com", "subscriptionState": "Unsubscribed"},
        ]

    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {"listId": list_id, "listName": name, "contacts": crafted()}
                    for list_id, name in LISTS.values()
                ],
                "banned": ["spam.trap@example.com"],
            }
        }
    )


def _unsubscribe(emulator: Emulator, email: str) -> None:
    """The contact unsubscribes in Listrak between two runs (on both lists)."""

    async def run() -> None:
        settings = ClientSettings.for_base_url(emulator.base_url)
        secret = EMAIL_CLIENT[1]
        credentials = Credentials(client_id=EMAIL_CLIENT[0], client_secret=secret)  # type: ignore[arg-type]
        async with ListrakClient(email=credentials, settings=settings) as client:
            for list_id, _ in LISTS.values():
                await client.email.save_contact(
                    list_id, Contact(email_address=email, subscription_state="Unsubscribed")
                )

    asyncio.run(run())


def _contacts(emulator: Emulator, name: str) -> dict[str, tuple[str, dict[str, str]]]:
    found = list_state(emulator, name)["contacts"]
    return {
        email: (c["subscriptionState"], dict(c["segmentationFieldValues"]))
        for email, c in found.items()
    }


def _runs(project: SyncProject) -> tuple[dict[str, int], dict[str, int], set[str]]:
    """The last run's counts, its results by word, and the paths its steps took."""
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        run = store.runs("sync", "spring/newsletter")[0]
        paths = {str((s.result or {}).get("path")) for s in store.steps(run.run_id)}
    return dict(run.counts), dict(run.details.get("results") or {}), paths


@pytest.mark.parametrize("mode", ["flag", "mirror"])
def test_per_contact_calls_leave_the_same_end_states_as_imports(
    project: SyncProject, tmp_path: Path, mode: str
) -> None:
    _seed(project.emulator)
    projects = {"imports": project, "contacts": SyncProject(tmp_path / "p2", project.emulator)}
    projects["contacts"].root.mkdir()
    for path, made in projects.items():
        made.write_config(list={"name": LISTS[path][1]}, writes=path, mode=mode, removal_guard=0.9)
    first = [
        *people(5),
        Person("C900001", "Signup@Example.com ", None, "Austin"),
        Person("C900002", "gone@example.com", "Gone", "Reno"),
        Person("C900003", "spam.trap@example.com", "Trap"),
        Person("C900004", "long@example.com", "x" * 300, "Boston"),
    ]
    second = [
        Person("C000001", "person1@example.com", "First1", "Denver"),  # changes city
        Person("C000002", "person2@example.com", None, "Boston"),  # first name emptied
        # person3 leaves (mirror: added by the sync, so removed), person4 unsubscribes in
        # Listrak and then changes (update: refused), person5 stays.
        Person("C000004", "person4@example.com", "First4", "Reno"),
        Person("C000005", "person5@example.com", "First5", "Boston"),
        Person("C900001", "signup@example.com", "Sig", "Austin", in_audience=False),  # leaves
        *people(2, start=6),  # enter
        Person("C900004", "long@example.com", "Lou", "Boston"),  # fixed: offered again
    ]
    for step, audience in enumerate((first, second, people(3, start=6))):
        if step == 1:
            _unsubscribe(project.emulator, "person4@example.com")
        results = {}
        for path, made in projects.items():
            made.set_people(audience)
            outcome = made.sync()
            assert outcome.status == "succeeded", (path, outcome.error)
            results[path] = _runs(made)
        assert results["imports"][2] <= {"imports", "None"}
        assert results["contacts"][2] <= {"contacts", "None"}
        assert results["imports"][:2] == results["contacts"][:2], step
        assert _contacts(project.emulator, "Newsletter") == _contacts(
            project.emulator, "Newsletter2"
        ), step

    final = _contacts(project.emulator, "Newsletter2")
    assert final["gone@example.com"] == ("Unsubscribed", {})  # never re-subscribed
    assert final["person4@example.com"][0] == "Unsubscribed"
    assert "spam.trap@example.com" not in final
    assert final["signup@example.com"][0] == "Subscribed"  # not added by us: flagged off only
    assert final["person1@example.com"][0] == ("Unsubscribed" if mode == "mirror" else "Subscribed")
    assert flags(project.emulator)["person6@example.com"] == "on"


def test_small_change_sets_go_per_contact_and_large_ones_by_import(project: SyncProject) -> None:
    project.write_config(writes="auto")
    _seed(project.emulator)
    project.set_people(people(4))

    outcome = project.sync()

    assert outcome.status == "succeeded"
    _, _, paths = _runs(project)
    assert paths == {"contacts"}
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        run = store.runs("sync", "spring/newsletter")[0]
        (step,) = store.steps(run.run_id)
    estimate = (step.result or {})["estimate"]
    assert estimate["import_basis"] == "default"
    assert estimate["calls"] == 4
    assert estimate["contacts_seconds"] < estimate["imports_seconds"]
    assert (step.result or {})["summary"]["calls"] == 4

    # The next run knows this target's per-contact throughput, and an import's turnaround
    # once one was made.
    project.write_config(writes="imports")
    project.set_people(people(8))
    project.sync()
    project.write_config(writes="auto")
    project.set_people(people(9))
    project.sync()
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        run = store.runs("sync", "spring/newsletter")[0]
        (step,) = store.steps(run.run_id)
    estimate = (step.result or {})["estimate"]
    assert estimate["import_basis"] == "observed (1 imports)"
    assert estimate["calls_per_second"] > 0


def test_the_estimate_weighs_calls_against_import_turnaround() -> None:
    basis = Observed(
        latency=0.05,
        concurrency=8,
        rate=None,
        import_seconds=DEFAULT_IMPORT_SECONDS,
        calls_per_second=None,
        import_basis="default",
    )
    # 160 calls/s: 60 s of turnaround is 9,600 calls.
    assert choose("add", 9_000, owner=False, basis=basis).path == "contacts"
    assert choose("add", 10_000, owner=False, basis=basis).path == "imports"
    # Updates take a GET and a POST each; an add in mirror mode may take a second POST, but
    # its import path also takes a second import (the owner field).
    assert choose("update", 5_000, owner=False, basis=basis).path == "imports"
    assert choose("add", 9_000, owner=True, basis=basis).path == "contacts"
    # A learnt rate limit, or a slower measured throughput, caps the calls.
    limited = Observed(**{**basis.__dict__, "rate": 20.0})
    assert choose("add", 2_000, owner=False, basis=limited).path == "imports"
    slow = Observed(**{**basis.__dict__, "calls_per_second": 20.0, "import_seconds": 5.0})
    assert choose("remove", 90, owner=False, basis=slow).path == "contacts"
    assert choose("remove", 110, owner=False, basis=slow).path == "imports"
    # Recorded imports of a similar size say more than the others; a smaller file is taken to
    # be no slower than the smallest one seen, a larger one scaled from the largest.
    sized = Observed(**{**basis.__dict__, "import_sizes": ((250_000, 40.0), (50, 2.0), (60, 4.0))})
    assert sized.turnaround(100) == 3.0
    assert sized.turnaround(2) == 2.0
    assert sized.turnaround(100_000) == 40.0
    assert sized.turnaround(5_000_000) == 800.0
    assert choose("add", 1_000, owner=False, basis=sized).path == "contacts"
