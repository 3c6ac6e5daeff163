"""listrak_email end to end: a DuckDB warehouse, the engine, the emulator over HTTP."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest

from listrak_sync.state import StateStore
from listrak_sync.sync import Workspace
from listrak_sync.sync.hooks import on_checkpoint
from tests.sync.helpers import Person, SyncProject, flags, list_state, people, seed_list

SIGNED_UP = {
    "emailAddress": "signup@example.com",
    "segmentationFieldValues": {},
}
UNSUBSCRIBED = {
    "emailAddress": "gone@example.com",
    "subscriptionState": "Unsubscribed",
}


def _store(project: SyncProject) -> StateStore:
    return StateStore(Workspace.in_project(project.root).state_path)


def _imports(project: SyncProject) -> list[dict[str, object]]:
    return [
        i
        for i in list_state(project.emulator)["imports"]
        if "listrak-sync" in str(i["importFileName"])
    ]


def test_first_sync_adds_members_creates_fields_and_never_resubscribes(
    project: SyncProject,
) -> None:
    seed_list(project.emulator, [SIGNED_UP, UNSUBSCRIBED])
    project.set_people(
        [
            *people(3),
            Person("C900001", "Signup@Example.com ", "Sig", "Austin"),
            Person("C900002", "gone@example.com", "Gone", "Reno"),
        ]
    )

    outcome = project.sync()

    assert outcome.status == "succeeded"
    assert outcome.compared_with == "nothing"  # the audience field is new: nobody has it on
    assert outcome.target_info["created"] == [
        "field group 'listrak-sync Audiences'",
        "CheckBox field 'spring'",
        "Text field 'FirstName'",
        "Text field 'City'",
    ]
    assert outcome.run is not None
    counts = outcome.run.counts
    assert (counts["enter"], counts["added"], counts["applied"], counts["declined"]) == (5, 3, 1, 1)
    contacts = list_state(project.emulator)["contacts"]
    assert contacts["gone@example.com"]["subscriptionState"] == "Unsubscribed"
    assert contacts["gone@example.com"]["segmentationFieldValues"] == {}
    assert contacts["person1@example.com"]["segmentationFieldValues"] == {
        "spring": "on",
        "FirstName": "First1",
        "City": "Boston",
    }
    assert contacts["signup@example.com"]["segmentationFieldValues"]["spring"] == "on"
    with _store(project) as store:
        declined = store.outcomes(outcome.run.run_id, "previously_unsubscribed")
    assert [(o.key, o.reason) for o in declined] == [
        ("gone@example.com", "the contact unsubscribed; listrak-sync never re-subscribes")
    ]
    assert outcome.run.details["results"] == {
        "Subscribed": 3,
        "AlreadySubscribed": 1,
        "PreviouslyUnsubscribed": 1,
    }
    # The declined contact is remembered, not sent again while nothing changes.
    again = project.sync()
    assert again.plan is not None
    assert again.plan.steps == []
    assert again.run is not None
    assert again.run.counts["declined"] == 0


def test_incremental_sync_sends_only_the_changes(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(6))
    project.sync()
    first_imports = len(_imports(project))

    unchanged = project.sync()
    assert unchanged.plan is not None
    assert unchanged.plan.counts["same"] == 6
    assert unchanged.plan.steps == []
    assert len(_imports(project)) == first_imports

    project.set_people(people(5) + people(1, start=7))
    changed = project.sync()
    assert changed.plan is not None
    assert {s.kind: s.rows for s in changed.plan.steps} == {"add": 1, "flag_off": 1}
    assert len(_imports(project)) == first_imports + 2
    assert flags(project.emulator) == {
        **{f"person{i}@example.com": "on" for i in (1, 2, 3, 4, 5, 7)},
        "person6@example.com": "off",
    }


def test_attribute_changes_are_updated_and_emptied_values_cleared(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(3))
    project.sync()
    project.execute("UPDATE merged_customers SET city = 'Denver' WHERE customer_id = 'C000001'")
    project.execute("UPDATE merged_customers SET first_name = NULL WHERE customer_id = 'C000002'")

    outcome = project.sync()

    assert outcome.plan is not None
    assert outcome.plan.counts["change"] == 2
    assert [s.kind for s in outcome.plan.steps] == ["update"]
    contacts = list_state(project.emulator)["contacts"]
    assert contacts["person1@example.com"]["segmentationFieldValues"]["City"] == "Denver"
    assert "FirstName" not in contacts["person2@example.com"]["segmentationFieldValues"]
    assert contacts["person3@example.com"]["segmentationFieldValues"]["City"] == "Boston"


def test_leaving_members_get_the_flag_off_and_stay_subscribed(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(10))
    project.sync()
    project.set_people(people(9) + people(1, start=10, in_audience=False))

    outcome = project.sync()

    assert outcome.status == "succeeded"
    contacts = list_state(project.emulator)["contacts"]
    assert contacts["person10@example.com"]["subscriptionState"] == "Subscribed"
    assert contacts["person10@example.com"]["segmentationFieldValues"]["spring"] == "off"
    # Back in the audience: the flag comes back on.
    project.set_people(people(10))
    project.sync()
    assert flags(project.emulator)["person10@example.com"] == "on"


def test_mirror_mode_unsubscribes_only_contacts_it_added(project: SyncProject) -> None:
    project.write_config(mode="mirror", removal_guard=0.5)
    seed_list(project.emulator, [SIGNED_UP])
    signup = Person("C900001", "signup@example.com", "Sig", "Austin")
    project.set_people([*people(4), signup])
    project.sync()
    # Two leave: one this destination added, one who signed up on their own.
    project.set_people([*people(3), Person("C900001", "signup@example.com", in_audience=False)])

    outcome = project.sync()

    assert outcome.plan is not None
    assert {s.kind: s.rows for s in outcome.plan.steps} == {"remove": 1, "flag_off": 1}
    contacts = list_state(project.emulator)["contacts"]
    assert contacts["person4@example.com"]["subscriptionState"] == "Unsubscribed"
    assert contacts["signup@example.com"]["subscriptionState"] == "Subscribed"
    assert contacts["signup@example.com"]["segmentationFieldValues"]["spring"] == "off"


def test_add_mode_never_touches_leaving_members(project: SyncProject) -> None:
    project.write_config(mode="add")
    seed_list(project.emulator)
    project.set_people(people(3))
    project.sync()
    project.set_people(people(2))

    outcome = project.sync()

    assert outcome.plan is not None
    assert outcome.plan.steps == []
    assert flags(project.emulator)["person3@example.com"] == "on"


def test_a_banned_address_is_declined_with_the_email_field(project: SyncProject) -> None:
    """Invalid and missing addresses, and not resending declined rows: the conformance suite
    (tests/sync/test_destination_conformance.py)."""
    seed_list(project.emulator, banned=["spam.trap@example.com"])
    project.set_people([*people(2), Person("C800003", "spam.trap@example.com", "Trap")])

    outcome = project.sync()

    # A banned address is refused for good: declined, a warning, not a failure.
    assert outcome.status == "succeeded"
    assert outcome.exit_code == 0
    assert outcome.run is not None
    assert outcome.run.counts["failed"] == 0
    assert outcome.run.counts["declined"] == 1
    assert any("banned (email) 1" in w for w in outcome.warnings), outcome.warnings
    with _store(project) as store:
        found = {(o.key, o.outcome, o.field) for o in store.outcomes(outcome.run.run_id)}
    assert found == {("spam.trap@example.com", "banned", "email")}


def test_a_refused_value_is_declined_with_its_field_until_it_changes(
    project: SyncProject,
) -> None:
    seed_list(project.emulator)
    project.set_people([*people(2), Person("C800001", "long@example.com", "x" * 300, "Boston")])

    outcome = project.sync()

    assert outcome.status == "succeeded"
    assert outcome.run is not None
    with _store(project) as store:
        found = [(o.key, o.outcome, o.field) for o in store.outcomes(outcome.run.run_id)]
    assert found == [("long@example.com", "invalid_value", "FirstName")]
    assert "long@example.com" not in flags(project.emulator)
    assert project.sync().plan.steps == []  # type: ignore[union-attr]
    # Fixed in the warehouse: offered again, and added.
    project.set_people([*people(2), Person("C800001", "long@example.com", "Lou", "Boston")])
    fixed = project.sync()
    assert fixed.status == "succeeded"
    assert flags(project.emulator)["long@example.com"] == "on"


def test_removal_guard_stops_a_large_removal_until_allowed(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(10))
    project.sync()
    before = len(_imports(project))
    project.set_people(people(7))  # 30% leave; the guard allows 20%

    refused = project.sync()

    assert refused.status == "refused"
    assert refused.exit_code == 4
    assert refused.error is not None
    assert "3 of 10 current members (30.0%" in refused.error
    assert "--allow-large-removal" in refused.error
    assert len(_imports(project)) == before
    assert flags(project.emulator)["person10@example.com"] == "on"

    allowed = project.sync(allow_large_removal=True)
    assert allowed.status == "succeeded"
    assert flags(project.emulator)["person10@example.com"] == "off"


def test_plan_and_dry_run_send_nothing(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(4))

    planned = project.plan()
    dry = project.sync(dry_run=True)

    for outcome in (planned, dry):
        assert outcome.status == "planned"
        assert outcome.plan is not None
        assert outcome.plan.counts["enter"] == 4
        assert "CheckBox field 'spring'" in outcome.target_info["would_create"]
    raw = list_state(project.emulator)["raw"]
    assert raw["imports"] == []
    assert raw["segmentationFieldGroups"] == []
    assert not Workspace.in_project(project.root).snapshots().exists("spring__newsletter")


def test_missing_fields_are_listed_without_create_missing_fields(project: SyncProject) -> None:
    project.write_config(create_missing_fields=False)
    seed_list(project.emulator)
    project.set_people(people(2))

    outcome = project.sync()

    assert outcome.status == "failed"
    assert outcome.error is not None
    assert "no profile field 'FirstName', 'City'" in outcome.error
    assert "create_missing_fields: true" in outcome.error


def test_full_compares_with_what_listrak_holds(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(3))
    project.sync()
    # Someone turns the flag off and edits a city in Listrak directly.
    with project.emulator.http() as http:
        for email, values in (
            ("person1@example.com", {"spring": "off"}),
            ("person2@example.com", {"City": "Paris"}),
        ):
            fields = {
                f["segmentationFieldName"]: f["segmentationFieldId"]
                for g in list_state(project.emulator)["raw"]["segmentationFieldGroups"]
                for f in g["segmentationFields"]
            }
            answer = http.post(
                "/email/v1/List/1001/Contact",
                json={
                    "emailAddress": email,
                    "segmentationFieldValues": [
                        {"segmentationFieldId": fields[k], "value": v} for k, v in values.items()
                    ],
                },
            )
            assert answer.status_code in (200, 201), answer.text  # 200: it existed

    incremental = project.sync()
    assert incremental.plan is not None
    assert incremental.plan.steps == []

    full = project.sync(full=True)
    assert full.compared_with == "listrak"
    assert full.plan is not None
    assert (full.plan.counts["enter"], full.plan.counts["change"]) == (1, 1)
    contacts = list_state(project.emulator)["contacts"]
    assert contacts["person1@example.com"]["segmentationFieldValues"]["spring"] == "on"
    assert contacts["person2@example.com"]["segmentationFieldValues"]["City"] == "Boston"


def test_rate_limit_and_server_error_storms_are_ridden_out(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(30))
    project.emulator.admin.add_fault(path="/email/v1/", error_rate=0.3, error_status=503)
    project.emulator.admin.add_fault(path="/email/v1/", rate_per_second=20, burst=3)
    project.emulator.admin.add_fault(path="/Status$", fail_next=3, error_status=500)

    outcome = project.sync(client={"max_import_bytes": 400})

    project.emulator.admin.clear_faults()
    assert outcome.status == "succeeded", outcome.error
    assert outcome.plan is not None
    assert len(outcome.plan.steps) > 1
    assert set(flags(project.emulator).values()) == {"on"}
    assert len(flags(project.emulator)) == 30
    # Every import was started once, however often the requests around it failed.
    names = [str(i["importFileName"]) for i in _imports(project)]
    assert len(names) == len(set(names)) == len(outcome.plan.steps)


def test_tokens_expiring_mid_run_are_refreshed(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(12))
    expired: list[int] = []

    def expire(point: str) -> None:
        if point.startswith("journaled:"):
            expired.append(project.emulator.admin.expire_tokens())

    with on_checkpoint(expire):
        outcome = project.sync(client={"max_import_bytes": 300})

    assert outcome.status == "succeeded", outcome.error
    assert len(expired) > 1
    assert all(n >= 1 for n in expired)
    assert len(flags(project.emulator)) == 12


def test_snapshot_holds_keys_hashes_and_ownership(project: SyncProject) -> None:
    seed_list(project.emulator, [SIGNED_UP])
    project.set_people([*people(2), Person("C900001", "signup@example.com", "Sig", "Austin")])
    project.sync()

    path = Workspace.in_project(project.root).snapshots().path("spring__newsletter")
    rows = {r["key"]: r for r in pq.read_table(path).to_pylist()}

    assert set(rows) == {"person1@example.com", "person2@example.com", "signup@example.com"}
    assert rows["person1@example.com"]["owned"] is True
    assert rows["signup@example.com"]["owned"] is False
    assert all(r["member"] and not r["declined"] for r in rows.values())
    assert rows["person1@example.com"]["attr_hash"] != rows["person2@example.com"]["attr_hash"]


@pytest.mark.parametrize("mode", ["flag", "mirror"])
def test_a_second_campaign_on_the_list_keeps_its_own_field(project: SyncProject, mode: str) -> None:
    seed_list(project.emulator)
    project.write_config(mode=mode)
    project.set_people(people(3))
    project.sync()
    project.campaign = "autumn"
    project.write_config(mode=mode)
    text = (project.root / "listrak-sync.yml").read_text().replace("spring", "autumn")
    (project.root / "listrak-sync.yml").write_text(text)
    project.set_people(people(2))

    outcome = project.sync()

    assert outcome.status == "succeeded"
    contacts = list_state(project.emulator)["contacts"]
    assert contacts["person1@example.com"]["segmentationFieldValues"]["spring"] == "on"
    assert contacts["person1@example.com"]["segmentationFieldValues"]["autumn"] == "on"
    assert "autumn" not in contacts["person3@example.com"]["segmentationFieldValues"]


def test_a_run_that_failed_midway_is_finished_by_the_next_sync(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(5))
    project.emulator.admin.add_fault(path="/Status$", error_rate=1.0, error_status=500)

    failed = project.sync()

    project.emulator.admin.clear_faults()
    assert failed.status == "failed"
    assert failed.error is not None
    assert "500" in failed.error
    assert len(_imports(project)) == 1  # the import was accepted before polling failed

    finished = project.sync()

    assert finished.status == "succeeded"
    assert failed.run is not None
    assert [r.run_id for r in finished.resumed] == [failed.run.run_id]
    assert finished.resumed[0].counts["added"] == 5
    assert len(_imports(project)) == 1  # polled again, not sent again
    assert set(flags(project.emulator).values()) == {"on"}


def test_mirror_ownership_survives_losing_the_state_folder(project: SyncProject) -> None:
    """Deleting .listrak-sync/ between two runs gives the same end state: who the sync
    added is kept in Listrak (the ``spring_added`` field), not only in the local snapshot."""
    project.write_config(mode="mirror", removal_guard=0.5)
    seed_list(project.emulator, [SIGNED_UP])
    signup = Person("C900001", "signup@example.com", "Sig", "Austin")
    project.set_people([*people(4), signup])
    project.sync()
    contacts = list_state(project.emulator)["contacts"]
    assert contacts["person1@example.com"]["segmentationFieldValues"]["spring_added"] == "on"
    assert "spring_added" not in contacts["signup@example.com"]["segmentationFieldValues"]

    shutil.rmtree(Workspace.in_project(project.root).root)  # a fresh runner
    project.set_people([*people(3), Person("C900001", "signup@example.com", in_audience=False)])
    plan = project.plan()
    assert not any("ownership unknown" in w for w in plan.warnings), plan.warnings
    outcome = project.sync()

    assert outcome.plan is not None
    assert {s.kind: s.rows for s in outcome.plan.steps} == {"remove": 1, "flag_off": 1}
    contacts = list_state(project.emulator)["contacts"]
    assert contacts["person4@example.com"]["subscriptionState"] == "Unsubscribed"
    assert contacts["signup@example.com"]["subscriptionState"] == "Subscribed"
    assert contacts["signup@example.com"]["segmentationFieldValues"]["spring"] == "off"


def test_mirror_says_plainly_when_ownership_is_unknown(project: SyncProject) -> None:
    # A list an older version (or another machine without the owner field) synced.
    project.write_config(mode="flag")
    seed_list(project.emulator)
    project.set_people(people(4))
    project.sync()
    shutil.rmtree(Workspace.in_project(project.root).root)
    project.write_config(mode="mirror", removal_guard=0.5)
    project.set_people(people(3))

    plan = project.plan()

    assert any("ownership unknown" in w for w in plan.warnings), plan.warnings
    assert plan.plan is not None
    assert {s.kind: s.rows for s in plan.plan.steps} == {"flag_off": 1}


def test_a_new_owner_field_is_filled_from_the_snapshot(project: SyncProject) -> None:
    # Added while ownership lived only in the snapshot (here: in flag mode, which keeps no
    # owner field): mirror creates the field and fills it for them, so a fresh runner knows.
    project.write_config(mode="flag")
    seed_list(project.emulator)
    project.set_people(people(3))
    project.sync()
    project.write_config(mode="mirror", removal_guard=0.5)

    outcome = project.sync()

    assert outcome.plan is not None
    assert {s.kind: s.rows for s in outcome.plan.steps} == {"own": 3}
    contacts = list_state(project.emulator)["contacts"]
    assert {c["segmentationFieldValues"].get("spring_added") for c in contacts.values()} == {"on"}
