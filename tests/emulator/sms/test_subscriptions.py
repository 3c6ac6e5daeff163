"""Subscribe and unsubscribe: consent rules and the spec's error codes."""

from __future__ import annotations

from typing import Any

from tests.conftest import SMS_CLIENT, Emulator

from .sandbox import BASE, DOUBLE, MAIN, RETIRED, error, seed

PEOPLE: list[dict[str, Any]] = [
    {"phoneNumber": "2155550201"},  # on the sender code, on no list
    {"phoneNumber": "2155550202", "subscriptions": [MAIN]},
    {"phoneNumber": "2155550203", "optedOut": True, "subscriptions": [MAIN]},
    {"phoneNumber": "2155550204", "banned": True},
    {"phoneNumber": "2155550205", "suspended": True},
    {"phoneNumber": "2155550206", "subscriptions": [{"phoneListId": DOUBLE, "state": "Pending"}]},
    {"phoneNumber": "2155550207", "subscriptions": [RETIRED]},
]


def _subscribe(http: Any, phone: str, list_id: int = MAIN) -> Any:
    return http.post(f"{BASE}/Contact/{phone}/PhoneList/{list_id}")


def test_subscribe_existing_contact(emulator: Emulator) -> None:
    seed(emulator, PEOPLE)
    with emulator.http(SMS_CLIENT) as http:
        made = _subscribe(http, "(215) 555-0201")
        assert (made.status_code, made.json()["resourceId"]) == (201, "12155550201")
        lists = http.get(f"{BASE}/Contact/2155550201/PhoneList").json()["data"]
        assert [(s["phoneListId"], s["subscriptionState"]) for s in lists] == [(MAIN, "Subscribed")]
        members = http.get(f"{BASE}/PhoneList/{MAIN}/Contact").json()["data"]
        assert [m["phoneNumber"] for m in members] == ["12155550201", "12155550202"]


def test_subscribe_refusals(emulator: Emulator) -> None:
    seed(emulator, PEOPLE)
    with emulator.http(SMS_CLIENT) as http:
        cases = [
            ("2155550299", MAIN, 404, "ERROR_PHONE_NUMBER_NOT_FOUND"),
            ("2155550202", MAIN, 400, "ERROR_SUBSCRIBED_PHONE_NUMBER"),
            ("2155550203", MAIN, 400, "ERROR_INVALID_PARAMETER"),  # opted out: never re-opted in
            ("2155550204", MAIN, 400, "ERROR_BANNED_PHONE_NUMBER"),
            ("2155550205", MAIN, 400, "ERROR_PHONE_NUMBER_SUSPENDED"),
            ("2155550206", DOUBLE, 400, "ERROR_PENDING_PHONE_NUMBER"),
            ("2155550201", RETIRED, 400, "ERROR_LIST_INACTIVE"),
            ("2155550201", 999, 400, "ERROR_INVALID_LIST_ID"),
            ("21555", MAIN, 400, "ERROR_INVALID_PHONE_NUMBER"),
        ]
        for phone, list_id, status, code in cases:
            answer = _subscribe(http, phone, list_id)
            assert (answer.status_code, error(answer)) == (status, code), (phone, answer.text)
        # The opted-out number is still opted out and still off the list.
        got = http.get(f"{BASE}/Contact/2155550203").json()["data"]
        assert got["optedOut"] is True
        state = http.get(f"{BASE}/Contact/2155550203/PhoneList").json()["data"]
        assert state[0]["subscriptionState"] == "Unsubscribed"


def test_unsubscribe(emulator: Emulator) -> None:
    seed(emulator, PEOPLE)
    with emulator.http(SMS_CLIENT) as http:
        path = f"{BASE}/ContactUnsubscribe/2155550202/PhoneList/{MAIN}"
        assert http.delete(path).json() == {"status": 200}
        again = http.delete(path)
        assert (again.status_code, error(again)) == (400, "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED")
        lists = http.get(f"{BASE}/Contact/2155550202/PhoneList").json()["data"]
        assert lists[0]["subscriptionState"] == "Unsubscribed"
        assert "unsubscribeDate" in lists[0]
        left = http.get(f"{BASE}/PhoneList/{MAIN}/Contact", params={"optedOut": True}).json()
        assert "12155550202" in [c["phoneNumber"] for c in left["data"]]
        # A list-level unsubscribe is not a sender-code opt-out: the contact may rejoin.
        assert _subscribe(http, "2155550202").status_code == 201
        never = http.delete(f"{BASE}/ContactUnsubscribe/2155550201/PhoneList/{MAIN}")
        assert error(never) == "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED"
        unknown = http.delete(f"{BASE}/ContactUnsubscribe/2155550299/PhoneList/{MAIN}")
        assert (unknown.status_code, error(unknown)) == (404, "ERROR_PHONE_NUMBER_NOT_FOUND")
        wrong_list = http.delete(f"{BASE}/ContactUnsubscribe/2155550202/PhoneList/999")
        assert error(wrong_list) == "ERROR_INVALID_LIST_ID"
        # Leaving an inactive list is allowed; it only removes consent.
        retired = http.delete(f"{BASE}/ContactUnsubscribe/2155550207/PhoneList/{RETIRED}")
        assert retired.status_code == 200
        # Unsubscribing a pending number cancels the pending subscription.
        assert http.delete(f"{BASE}/ContactUnsubscribe/2155550206/PhoneList/{DOUBLE}").is_success
