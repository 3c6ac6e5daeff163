"""Contacts: create-or-update with the spec's error codes, lookups, filters and paging."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Emulator
from tests.emulator.email.helpers import (
    BASE,
    all_contacts,
    contact,
    email_column,
    import_body,
    make_field,
    make_list,
    run_import,
)


def _seed_list(emulator: Emulator, contacts: list[dict[str, Any]], **extra: Any) -> None:
    emulator.admin.seed(
        {
            "email": {
                **extra,
                "lists": [
                    {
                        "listId": 7001,
                        "listName": "Contacts",
                        "bounceHandling": "Standard",
                        "bounceUnsubscribeCount": 3,
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "Customer",
                                "segmentationFields": [
                                    {
                                        "segmentationFieldName": "FirstName",
                                        "segmentationFieldId": 11,
                                    },
                                    {"segmentationFieldName": "City", "segmentationFieldId": 12},
                                ],
                            }
                        ],
                        "contacts": contacts,
                    }
                ],
            }
        }
    )


def _post(http: Any, body: dict[str, Any], **params: Any) -> Any:
    body.setdefault("segmentationFieldValues", [])
    return http.post(f"{BASE}/List/7001/Contact", json=body, params=params or None)


def _error(answer: Any) -> str:
    assert answer.status_code == 400, answer.text
    return str(answer.json()["error"])


def test_create_then_update_case_insensitively(emulator: Emulator) -> None:
    _seed_list(emulator, [])
    with emulator.http() as http:
        made = _post(
            http,
            {
                "emailAddress": "Ann.Lee@Example.com",
                "externalContactID": "c-1",
                "segmentationFieldValues": [{"segmentationFieldId": 11, "value": "Ann"}],
            },
        )
        assert made.status_code == 201
        # Recorded: the resourceId is the address, not the emailKey.
        assert made.json()["resourceId"] == "Ann.Lee@Example.com"
        got = contact(http, 7001, "ann.lee@example.COM", segmentationFieldIds="11,12").json()[
            "data"
        ]
        assert got["emailAddress"] == "Ann.Lee@Example.com"
        key = got["emailKey"]
        assert re.fullmatch("[0-9A-F]{26}", key)  # recorded shape
        assert got["subscriptionState"] == "Subscribed"
        assert got["subscribeMethod"] == "API"
        assert got["externalContactID"] == "c-1"
        assert got["segmentationFieldValues"] == [
            {
                "segmentationFieldGroupId": got["segmentationFieldValues"][0][
                    "segmentationFieldGroupId"
                ],
                "segmentationFieldId": 11,
                "value": "Ann",
            }
        ]
        assert len(got["universalEmailKey"]) == 64
        assert contact(http, 7001, key).json()["data"]["emailAddress"] == "Ann.Lee@Example.com"
        # Same person, other case: an update of the one contact, not a second contact.
        again = _post(
            http,
            {
                "emailAddress": "ANN.LEE@example.com",
                "segmentationFieldValues": [{"segmentationFieldId": 12, "value": "Oslo"}],
            },
        )
        assert again.status_code == 200  # recorded: 200 when the contact existed
        assert again.json()["resourceId"] == "Ann.Lee@Example.com"  # the address as stored
        assert len(all_contacts(http, 7001)) == 1
        values = contact(http, 7001, key, segmentationFieldIds="11,12").json()["data"]
        assert [v["value"] for v in values["segmentationFieldValues"]] == ["Ann", "Oslo"]
        assert contact(http, 7001, "nobody@example.com").status_code == 404


def test_update_types(emulator: Emulator) -> None:
    _seed_list(
        emulator,
        [
            {
                "emailAddress": "a@example.com",
                "segmentationFieldValues": {"FirstName": "Ann", "City": "Oslo"},
            }
        ],
    )

    def values() -> dict[int, str]:
        found = contact(http, 7001, "a@example.com", segmentationFieldIds="11,12").json()
        return {
            v["segmentationFieldId"]: v["value"] for v in found["data"]["segmentationFieldValues"]
        }

    with emulator.http() as http:
        change = [
            {"segmentationFieldId": 11, "value": "Bea"},
            {"segmentationFieldId": 12, "value": ""},
        ]
        _post(
            http,
            {"emailAddress": "a@example.com", "segmentationFieldValues": change},
            updateType="Append",
        )
        assert values() == {11: "Ann", 12: "Oslo"}
        _post(http, {"emailAddress": "a@example.com", "segmentationFieldValues": change})
        assert values() == {11: "Bea", 12: "Oslo"}
        _post(
            http,
            {"emailAddress": "a@example.com", "segmentationFieldValues": change},
            updateType="Overwrite",
        )
        assert values() == {11: "Bea"}
        bad = _post(http, {"emailAddress": "a@example.com"}, updateType="Replace")
        assert "updateType" in bad.json()["message"]


def test_unsubscribed_contacts_are_not_resubscribed_without_override(emulator: Emulator) -> None:
    _seed_list(
        emulator, [{"emailAddress": "gone@example.com", "subscriptionState": "Unsubscribed"}]
    )
    with emulator.http() as http:
        refused = _post(
            http, {"emailAddress": "GONE@example.com", "subscriptionState": "Subscribed"}
        )
        assert _error(refused) == "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS"
        # Without a subscription state it is a profile update; the contact stays unsubscribed.
        kept = _post(
            http,
            {
                "emailAddress": "gone@example.com",
                "segmentationFieldValues": [{"segmentationFieldId": 11, "value": "Gus"}],
            },
        )
        assert kept.status_code == 200  # it existed
        assert contact(http, 7001, "gone@example.com").json()["data"]["subscriptionState"] == (
            "Unsubscribed"
        )
        assert all_contacts(http, 7001) == []
        events = _post(http, {"emailAddress": "gone@example.com"}, eventIds="5")
        assert _error(events) == "ERROR_UPDATE_UNSUBSCRIBE_WITH_EVENTS"
        twice = _post(
            http, {"emailAddress": "gone@example.com", "subscriptionState": "Unsubscribed"}
        )
        assert _error(twice) == "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS"
        back = _post(
            http,
            {"emailAddress": "gone@example.com", "subscriptionState": "Subscribed"},
            overrideUnsubscribe="true",
        )
        assert back.status_code == 200  # resubscribed: it existed
        data = contact(http, 7001, "gone@example.com").json()["data"]
        assert data["subscriptionState"] == "Subscribed"
        assert "resubscribeDate" in data


def test_unsubscribe_rules(emulator: Emulator) -> None:
    _seed_list(emulator, [{"emailAddress": "a@example.com"}])
    with emulator.http() as http:
        stranger = _post(
            http, {"emailAddress": "x@example.com", "subscriptionState": "Unsubscribed"}
        )
        assert _error(stranger) == "ERROR_NOT_SUBSCRIBED_EMAIL_ADDRESS"
        with_data = _post(
            http,
            {
                "emailAddress": "a@example.com",
                "subscriptionState": "Unsubscribed",
                "segmentationFieldValues": [{"segmentationFieldId": 11, "value": "A"}],
            },
        )
        assert _error(with_data) == "ERROR_UNSUBSCRIBE_WITH_SEGMENTATION_DATA"
        with_events = _post(
            http,
            {"emailAddress": "a@example.com", "subscriptionState": "Unsubscribed"},
            eventIds="1",
        )
        assert _error(with_events) == "ERROR_UNSUBSCRIBE_WITH_EVENTS"
        done = _post(http, {"emailAddress": "a@example.com", "subscriptionState": "Unsubscribed"})
        assert done.status_code == 200
        gone = http.get(f"{BASE}/List/7001/Contact", params={"subscriptionState": "Unsubscribed"})
        assert [c["unsubscribeMethod"] for c in gone.json()["data"]] == ["API"]


def test_banned_suppressed_and_pending(emulator: Emulator) -> None:
    _seed_list(emulator, [], banned=["Bad@Example.com"], suppressed=["quiet@example.com"])
    with emulator.http() as http:
        assert (
            _error(_post(http, {"emailAddress": "bad@example.com"})) == "ERROR_BANNED_EMAIL_ADDRESS"
        )
        assert (
            _error(_post(http, {"emailAddress": "QUIET@example.com"})) == "ERROR_SUPPRESSED_EMAIL"
        )
        pending = _post(http, {"emailAddress": "p@example.com"}, sendDoubleOptIn="true")
        assert pending.status_code == 201
        assert contact(http, 7001, "p@example.com").status_code == 404
        assert (
            _error(_post(http, {"emailAddress": "p@example.com"})) == "ERROR_PENDING_EMAIL_ADDRESS"
        )
        _post(http, {"emailAddress": "s@example.com"})
        again = _post(http, {"emailAddress": "s@example.com"}, sendDoubleOptIn="true")
        assert _error(again) == "ERROR_SUBSCRIBED_EMAIL_ADDRESS"
        assert _error(_post(http, {"emailAddress": "not an address"})) == "ERROR_INVALID_PARAMETER"
        unknown_field = _post(
            http,
            {
                "emailAddress": "s@example.com",
                "segmentationFieldValues": [{"segmentationFieldId": 99, "value": "x"}],
            },
        )
        assert "segmentationFieldValues[0].segmentationFieldId" in unknown_field.json()["message"]


def test_changing_the_email_address(emulator: Emulator) -> None:
    _seed_list(
        emulator,
        [
            {"emailAddress": "old@example.com"},
            {"emailAddress": "taken@example.com"},
            {"emailAddress": "left@example.com", "subscriptionState": "Unsubscribed"},
        ],
        banned=["banned@example.com"],
        suppressed=["quiet@example.com"],
    )
    with emulator.http() as http:

        def change(new: str, old: str = "old@example.com", **body: Any) -> Any:
            return _post(http, {"emailAddress": old, **body}, newEmailAddress=new)

        assert _error(change("Taken@example.com")) == "ERROR_SUBSCRIBED_NEW_EMAIL_ADDRESS"
        assert _error(change("left@example.com")) == "ERROR_UNSUBSCRIBED_NEW_EMAIL_ADDRESS"
        assert _error(change("banned@example.com")) == "ERROR_BANNED_NEW_EMAIL_ADDRESS"
        assert _error(change("quiet@example.com")) == "ERROR_SUPPRESSED_NEW_EMAIL"
        assert _error(change("x@example.com", old="left@example.com")) == (
            "ERROR_CHANGE_ADDRESS_CONTACT_UNSUBSCRIBED"
        )
        with_data = change(
            "x@example.com", segmentationFieldValues=[{"segmentationFieldId": 11, "value": "A"}]
        )
        assert _error(with_data) == "ERROR_CHANGE_ADDRESS_WITH_SEGMENTATION_DATA"
        assert change("x@example.com", old="nobody@example.com").status_code == 404
        key = contact(http, 7001, "old@example.com").json()["data"]["emailKey"]
        assert change("New@example.com").status_code == 200
        assert contact(http, 7001, "new@example.com").json()["data"]["emailKey"] == key
        assert contact(http, 7001, "old@example.com").status_code == 404


def test_collection_filters(emulator: Emulator) -> None:
    _seed_list(
        emulator,
        [
            {"emailAddress": "jan@example.com", "subscribeDate": "2024-01-15T10:00:00"},
            {"emailAddress": "feb@example.com", "subscribeDate": "2024-02-15T10:00:00"},
            {
                "emailAddress": "back@example.com",
                "subscribeDate": "2023-06-01T00:00:00",
                "resubscribeDate": "2024-02-20T00:00:00",
            },
            {
                "emailAddress": "left@example.com",
                "subscriptionState": "Unsubscribed",
                "unsubscribeDate": "2024-03-01T08:00:00",
            },
        ],
    )

    def emails(**params: Any) -> list[str]:
        return [c["emailAddress"] for c in all_contacts(http, 7001, **params)]

    with emulator.http() as http:
        assert emails() == ["jan@example.com", "feb@example.com", "back@example.com"]
        assert emails(startDate="2024-02-01", endDate="2024-02-15") == ["feb@example.com"]
        assert emails(startDate="2024-02-01", useOriginalSubscribeDate="false") == [
            "feb@example.com",
            "back@example.com",
        ]
        # With the most recent subscribe date the end date is exclusive.
        assert emails(endDate="2024-02-15T10:00:00", useOriginalSubscribeDate="false") == [
            "jan@example.com"
        ]
        assert emails(subscriptionState="Unsubscribed", startDate="2024-03-01") == [
            "left@example.com"
        ]
        assert emails(subscriptionState="Unsubscribed", endDate="2024-02-28") == []
        bad_state = http.get(f"{BASE}/List/7001/Contact", params={"subscriptionState": "All"})
        assert _error(bad_state) == "ERROR_INVALID_PARAMETER"
        bad_date = http.get(f"{BASE}/List/7001/Contact", params={"startDate": "yesterday"})
        assert "startDate" in bad_date.json()["message"]
        for count in ("0", "5001", "many"):
            answer = http.get(f"{BASE}/List/7001/Contact", params={"count": count})
            assert _error(answer) == "ERROR_INVALID_PARAMETER"
        bad_cursor = http.get(f"{BASE}/List/7001/Contact", params={"cursor": "garbage"})
        assert "cursor" in bad_cursor.json()["message"]
        assert http.get(f"{BASE}/List/999/Contact").status_code == 404


def test_segmentation_field_ids_are_limited_to_30(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        ids = [make_field(http, list_id, f"F{i}") for i in range(31)]
        run_import(emulator, http, list_id, import_body("e\na@example.com\n", [email_column()]))
        ok = http.get(
            f"{BASE}/List/{list_id}/Contact",
            params={"segmentationFieldIds": ",".join(map(str, ids[:30]))},
        )
        assert ok.status_code == 200
        assert ok.json()["data"][0]["segmentationFieldValues"] == []
        too_many = http.get(
            f"{BASE}/List/{list_id}/Contact",
            params={"segmentationFieldIds": ",".join(map(str, ids))},
        )
        assert _error(too_many) == "ERROR_TOO_MANY_SEGMENTATION_FIELDS"
        one = contact(http, list_id, "a@example.com", segmentationFieldIds=",".join(map(str, ids)))
        assert _error(one) == "ERROR_TOO_MANY_SEGMENTATION_FIELDS"
        unknown = http.get(f"{BASE}/List/{list_id}/Contact", params={"segmentationFieldIds": "1,x"})
        assert _error(unknown) == "ERROR_INVALID_PARAMETER"


def test_paging_20000_contacts_returns_each_exactly_once(emulator: Emulator) -> None:
    total = 20_500
    csv_text = "email\n" + "\n".join(f"User{i:05d}@Example.com" for i in range(total))
    with emulator.http() as http:
        list_id = make_list(http)
        _, summary = run_import(emulator, http, list_id, import_body(csv_text, [email_column()]))
        assert summary["subscribedCount"] == total
        seen: list[str] = []
        cursor: str | None = "Start"
        pages = 0
        while cursor:
            page = http.get(
                f"{BASE}/List/{list_id}/Contact", params={"cursor": cursor, "count": 5000}
            ).json()
            seen.extend(c["emailAddress"] for c in page["data"])
            cursor = page.get("nextPageCursor")
            pages += 1
            if pages == 2:
                # Contacts that join while a client pages show up once, at the end.
                _post_raw(http, list_id, "late@example.com")
                _post_raw(http, list_id, "user00000@example.com")  # an update, not a new contact
        assert pages == 5
        assert len(seen) == len(set(seen)) == total + 1
        assert seen[-1] == "late@example.com"
        # The default page is 1000 contacts.
        first = http.get(f"{BASE}/List/{list_id}/Contact").json()
        assert len(first["data"]) == 1000
        assert first["nextPageCursor"]


def _post_raw(http: Any, list_id: int, email: str) -> None:
    answer = http.post(
        f"{BASE}/List/{list_id}/Contact",
        json={"emailAddress": email, "segmentationFieldValues": []},
    )
    assert answer.status_code in (200, 201), answer.text
