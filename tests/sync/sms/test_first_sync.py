"""A first sync: creations, subscriptions of existing contacts, unsubscriptions, attributes."""

from __future__ import annotations

from .conftest import LIST, Person, SmsProject


def test_first_sync_creates_subscribes_and_unsubscribes(sms_project: SmsProject) -> None:
    sms_project.seed(
        [
            # A member who stays, one who leaves, and one who left the list before.
            {"phoneNumber": "+12155550101", "firstName": "Ava", "subscriptions": [LIST]},
            {"phoneNumber": "+12155550102", "firstName": "Ben", "subscriptions": [LIST]},
            {
                "phoneNumber": "+12155550103",
                "firstName": "Cleo",
                "subscriptions": [{"phoneListId": LIST, "state": "Unsubscribed"}],
            },
        ],
    )
    sms_project.people(
        [
            Person(1, "(215) 555-0101", "Ava", "Gold"),
            Person(2, "215-555-0102", "Ben", in_audience=False),
            Person(3, "2155550103", "Cleo", "Silver"),
            Person(4, "+1 215 555 0104", "Dev", "Bronze"),
        ]
    )
    outcome = sms_project.sync(allow_large_removal=True)
    assert outcome.status == "succeeded", outcome.error
    assert sms_project.members() == {"+12155550101", "+12155550103", "+12155550104"}
    contacts = sms_project.contacts()
    values = {
        phone: {v["segmentationFieldId"]: v["value"] for v in c["segmentationFieldValues"]}
        for phone, c in contacts.items()
    }
    assert contacts["+12155550104"]["firstName"] == "Dev"
    assert values["+12155550104"] == {7003: "Bronze"}
    assert values["+12155550103"] == {7003: "Silver"}
    assert contacts["+12155550103"]["firstName"] == "Cleo"
    assert values["+12155550101"] == {7003: "Gold"}
    requests = sms_project.requests()
    # One request per change: a create, a subscribe, an unsubscribe; no Get Contact.
    assert requests.get("Contact_PostContactListResource") == 1
    assert requests.get("ContactListSubscription_PostContactListSubscription") == 1
    assert requests.get("ContactListSubscription_DeleteUnsubscribeContactListSubscription") == 1
    assert "Contact_GetContactResource" not in requests
    assert outcome.run is not None
    assert outcome.run.counts["added"] == 2
