"""Run-level behaviour: the guard, the lock, list checks, one audience per list, fault storms."""

from __future__ import annotations

import pytest

from listrak_sync.listrak import ClientSettings, Credentials, ListrakClient
from listrak_sync.project.validate import validate_project
from listrak_sync.sync.sms.contacts import Addition, add_contact
from listrak_sync.sync.sms.target import SmsTarget
from tests.conftest import SMS_CLIENT, Emulator

from .conftest import INACTIVE_LIST, LIST, SENDER, Person, SmsProject, seed_sms, writes


def _members(count: int) -> list[dict[str, object]]:
    return [
        {"phoneNumber": f"+1215555{n:04d}", "subscriptions": [LIST]}
        for n in range(1000, 1000 + count)
    ]


def test_guard_refuses_a_mass_unsubscribe_unless_allowed(sms_project: SmsProject) -> None:
    sms_project.seed(_members(20))
    people = [Person(n, f"+1215555{n:04d}") for n in range(1000, 1020)]
    sms_project.people(people)
    assert sms_project.sync().status == "succeeded"
    for person in people[:10]:
        person.in_audience = False
    sms_project.people(people)
    refused = sms_project.sync()
    assert refused.status == "refused"
    assert "10 of 20" in (refused.error or "")
    assert len(sms_project.members()) == 20
    allowed = sms_project.sync(allow_large_removal=True)
    assert allowed.status == "succeeded", allowed.error
    assert len(sms_project.members()) == 10
    assert writes(sms_project.requests()) == {
        "ContactListSubscription_DeleteUnsubscribeContactListSubscription": 10
    }


def test_one_run_per_sms_list(sms_project: SmsProject) -> None:
    sms_project.seed()
    sms_project.people([Person(1, "+12155550101")])
    with sms_project.store() as store:
        # Another live process (this one, under another run token) holds the list.
        store.acquire_lock(f"listrak_sms:{SENDER}:{LIST}", "another-run")
        outcome = sms_project.sync()
        assert outcome.status == "locked"
        assert f"listrak_sms:{SENDER}:{LIST}" in (outcome.error or "")
        store.release_lock(f"listrak_sms:{SENDER}:{LIST}", "another-run")
    assert sms_project.members() == set()
    assert sms_project.sync().status == "succeeded"


def test_two_campaigns_on_one_list_are_refused(sms_project: SmsProject) -> None:
    group = [{"name": "all", "percent": 100, "destinations": ["sms"]}]
    sms_project.campaigns = {
        "texts": {"segment": "audience", "groups": group},
        "more_texts": {"segment": "audience", "groups": group},
    }
    sms_project.write_config()
    _, problems = validate_project(sms_project.root, check_warehouse=False)
    messages = [p.message for p in problems]
    assert any(f"SMS list {LIST} is already managed by 'texts'" in m for m in messages), messages


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"list_id": INACTIVE_LIST}, "is Inactive"),
        ({"list_id": 9999}, "SMS list 9999 does not exist"),
        ({"sender_code_id": 999}, "sender code 999 does not exist"),
    ],
)
def test_sender_code_and_list_must_exist_and_be_active(
    sms_project: SmsProject, change: dict[str, int], expected: str
) -> None:
    sms_project.destination = change
    sms_project.write_config()
    sms_project.seed()
    sms_project.people([Person(1, "+12155550101")])
    outcome = sms_project.sync()
    assert outcome.status == "failed"
    assert expected in (outcome.error or "")
    assert writes(sms_project.requests()) == {}


def test_a_disabled_sender_code_stops_the_run(sms_project: SmsProject) -> None:
    sms_project.seed(disabled=True)
    sms_project.people([Person(1, "+12155550101"), Person(2, "+12155550102")])
    outcome = sms_project.sync()
    assert outcome.status == "failed"
    assert "ERROR_SENDER_CODE_DISABLED" in (outcome.error or "")


def test_fault_storm_converges(sms_project: SmsProject) -> None:
    sms_project.seed(_members(30))
    people = [Person(n, f"+1215555{n:04d}", f"P{n}", "Gold") for n in range(1010, 1070)]
    sms_project.people(people)
    emulator = sms_project.emulator
    emulator.admin.add_fault(path="/sms/v1/", error_rate=0.3, error_status=503)
    emulator.admin.add_fault(path="/sms/v1/", rate_per_second=400, burst=5)
    emulator.admin.add_fault(path="/sms/v1/.*Contact", drop_rate=0.1, drop_after_apply=True)
    outcome = sms_project.sync(
        allow_large_removal=True,
        client={
            "retry": {"attempts": 30, "wait_initial": 0.01, "wait_max": 0.05, "wait_jitter": 0.01}
        },
    )
    emulator.admin.clear_faults()
    if outcome.status == "partial":  # rows whose retries ran out are retried by the next run
        outcome = sms_project.sync()
    assert outcome.status == "succeeded", outcome.error
    expected = {f"+1215555{n:04d}" for n in range(1010, 1070)}
    assert sms_project.members() == expected
    contacts = sms_project.contacts()
    for phone in expected:
        values = {
            v["segmentationFieldId"]: v["value"] for v in contacts[phone]["segmentationFieldValues"]
        }
        assert values.get(7003) == "Gold", phone


async def test_stale_knowledge_falls_back_on_listrak_codes(emulator: Emulator) -> None:
    seed_sms(emulator, [{"phoneNumber": "+12155550103"}])
    settings = ClientSettings.for_base_url(emulator.base_url)
    credentials = Credentials(client_id=SMS_CLIENT[0], client_secret=SMS_CLIENT[1])
    target = SmsTarget(sender_code_id=SENDER, list_id=LIST, pending_on_subscribe=False)
    emulator.admin.clear_requests()
    async with ListrakClient(sms=credentials, settings=settings) as client:
        # Believed to exist, but does not: subscribe answers NOT_FOUND, then create.
        gone = await add_contact(client.sms, target, Addition("+12155550104", exists=True))
        # Believed new, but exists: create answers FOUND, then subscribe.
        found = await add_contact(client.sms, target, Addition("+12155550103", exists=False))
    assert (gone.effect, gone.result, gone.needs_attributes) == ("added", "subscribed", False)
    assert (found.effect, found.result, found.needs_attributes) == ("added", "subscribed", True)
    counts = writes(emulator.admin.requests())
    assert counts == {
        "Contact_PostContactListResource": 2,
        "ContactListSubscription_PostContactListSubscription": 2,
    }


def test_secret_never_in_state(sms_project: SmsProject) -> None:
    sms_project.seed()
    sms_project.people([Person(1, "+12155550101")])
    sms_project.sync()
    state = (sms_project.root / ".listrak-sync" / "state.sqlite").read_bytes()
    assert SMS_CLIENT[1].encode() not in state
