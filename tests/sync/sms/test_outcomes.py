"""Per-row outcomes: phone formats, consent, opt-outs, refusals (invalid numbers and duplicates:
tests/sync/test_destination_conformance.py)."""

from __future__ import annotations

import subprocess

from tests.sync.helpers import CLI

from .conftest import DOUBLE_OPT_IN_LIST, LIST, Person, SmsProject, outcomes, writes


def test_phone_formats_from_several_countries(sms_project: SmsProject) -> None:
    sms_project.destination = {"default_region": "GB"}
    sms_project.write_config()
    sms_project.seed()
    sms_project.people(
        [
            Person(1, "07911 123456", "Amy"),  # national, read in the default region (GB)
            Person(2, "+49 1512 3456789", "Bo"),
            Person(3, "+33 6 12 34 56 78", "Cy"),
            Person(4, "+61 412 345 678", "Di"),
            Person(5, "+1 (215) 555-0199", "Ed"),
            Person(6, "0044 7400 123456", "Flo"),
        ]
    )
    outcome = sms_project.sync()
    assert outcome.status == "succeeded", outcome.error
    assert sms_project.members() == {
        "+447911123456",
        "+4915123456789",
        "+33612345678",
        "+61412345678",
        "+12155550199",
        "+447400123456",
    }


def test_consent_filter_is_on_by_default(sms_project: SmsProject) -> None:
    sms_project.seed()
    sms_project.people(
        [
            Person(1, "+12155550101", "Yes"),
            Person(2, "+12155550102", "No", consent="opted_out"),
            Person(3, "+12155550103", "Unknown", consent=None),
        ]
    )
    plan = sms_project.plan()
    assert not any("CONSENT FILTER OFF" in w for w in plan.warnings)
    assert plan.audience["counts"]["no_consent"] == 2
    outcome = sms_project.sync()
    assert sms_project.members() == {"+12155550101"}
    assert outcome.run is not None
    found = outcomes(sms_project, outcome.run.run_id)
    assert found["customer_id=2"][0] == "no_consent"
    assert found["customer_id=3"][0] == "no_consent"


def test_consent_filter_off_is_loud_but_listrak_opt_outs_still_hold(
    sms_project: SmsProject,
) -> None:
    sms_project.destination = {"require_consent": False}
    sms_project.write_config()
    sms_project.seed(
        [{"phoneNumber": "+12155550103", "optedOut": True, "optOutReason": "Campaign"}]
    )
    sms_project.people(
        [
            Person(1, "+12155550101", "Yes"),
            Person(2, "+12155550102", "No", consent="opted_out"),
            Person(3, "+12155550103", "Stopped"),
        ]
    )
    plan = sms_project.plan()
    assert any("CONSENT FILTER OFF" in w for w in plan.warnings)
    printed = subprocess.run(
        [CLI, "plan", "texts", "-p", str(sms_project.root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    assert "CONSENT FILTER OFF" in " ".join(printed.stdout.split())
    assert sms_project.members() == set()  # plan sends nothing
    outcome = sms_project.sync()
    assert sms_project.members() == {"+12155550101", "+12155550102"}
    assert outcome.run is not None
    found = outcomes(sms_project, outcome.run.run_id)
    assert found["+12155550103"][0] == "opted_out"
    requests = sms_project.requests()
    assert requests.get("Contact_PostContactListResource") == 2
    assert "ContactListSubscription_PostContactListSubscription" not in requests


def test_refusals_are_reported_never_forced_and_not_resent(sms_project: SmsProject) -> None:
    sms_project.seed(
        [
            {
                "phoneNumber": "+12155550111",
                "optedOut": True,
                "optOutReason": "Campaign",
                "subscriptions": [LIST],
            },
            {"phoneNumber": "+12155550113", "banned": True},
            {"phoneNumber": "+12155550114", "suspended": True},
            {
                "phoneNumber": "+12155550115",
                "subscriptions": [{"phoneListId": LIST, "state": "Pending"}],
            },
            {"phoneNumber": "+12155550116", "subscriptions": [LIST]},
        ]
    )
    sms_project.people(
        [
            Person(i, f"+1215555{n}")
            for i, n in enumerate(["0111", "0113", "0114", "0115", "0116", "0117"], start=1)
        ]
    )
    outcome = sms_project.sync()
    assert outcome.status == "succeeded", outcome.error
    assert outcome.run is not None
    found = outcomes(sms_project, outcome.run.run_id)
    assert found["+12155550111"][0] == "opted_out"
    assert found["+12155550113"][0] == "opted_out"  # Listrak opts banned numbers out (Admin)
    assert "Admin" in (found["+12155550113"][1] or "")
    assert found["+12155550114"][0] == "suspended"
    assert found["+12155550115"][0] == "pending"
    assert sms_project.members() == {"+12155550116", "+12155550117"}
    contacts = sms_project.contacts()
    assert contacts["+12155550111"]["optedOut"] is True
    subscriptions = {
        s["phoneListId"]: s["state"] for s in contacts["+12155550111"]["subscriptions"]
    }
    assert subscriptions[LIST] == "Unsubscribed"
    # Declined rows are not sent again while their data is unchanged.
    sms_project.emulator.admin.clear_requests()
    again = sms_project.sync()
    assert again.status == "succeeded", again.error
    assert writes(sms_project.requests()) == {}


def test_double_opt_in_list_members_are_pending(sms_project: SmsProject) -> None:
    sms_project.destination = {"list_id": DOUBLE_OPT_IN_LIST}
    sms_project.write_config()
    sms_project.seed()
    sms_project.people([Person(1, "+12155550101", "Ava")])
    outcome = sms_project.sync()
    assert outcome.status == "succeeded", outcome.error
    assert outcome.run is not None
    assert outcomes(sms_project, outcome.run.run_id)["+12155550101"][0] == "pending"
    contact = sms_project.contacts()["+12155550101"]
    assert contact["subscriptions"] == [{"phoneListId": DOUBLE_OPT_IN_LIST, "state": "Pending"}]
