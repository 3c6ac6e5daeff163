"""Paged collections return every member exactly once, and refuse bad paging parameters."""

from __future__ import annotations

from tests.conftest import SMS_CLIENT, Emulator

from .sandbox import BASE, MAIN, seed

MEMBERS = 5_321


def test_every_member_exactly_once(emulator: Emulator) -> None:
    contacts = [
        {"phoneNumber": f"+1215{2000000 + n:07d}", "subscriptions": [MAIN]} for n in range(MEMBERS)
    ]
    # Opted-out and list-less numbers must not leak into the subscribed pages.
    contacts += [{"phoneNumber": "+16105550100", "optedOut": True, "subscriptions": [MAIN]}]
    contacts += [{"phoneNumber": "+16105550101"}]
    seed(emulator, contacts)
    seen: list[str] = []
    pages = 0
    with emulator.http(SMS_CLIENT) as http:
        cursor = "Start"
        while cursor:
            answer = http.get(
                f"{BASE}/PhoneList/{MAIN}/Contact", params={"cursor": cursor, "count": 1000}
            ).json()
            seen += [contact["phoneNumber"] for contact in answer["data"]]
            pages += 1
            cursor = answer.get("nextPageCursor")
        assert pages == 6
        assert len(seen) == len(set(seen)) == MEMBERS
        assert set(seen) == {c["phoneNumber"][1:] for c in contacts[:MEMBERS]}
        default = http.get(f"{BASE}/PhoneList/{MAIN}/Contact").json()
        assert len(default["data"]) == 1000


def test_paging_parameters_are_checked(emulator: Emulator) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        for params in ({"count": "0"}, {"count": "5001"}, {"count": "many"}, {"cursor": "%%%"}):
            answer = http.get(f"{BASE}/PhoneList/{MAIN}/Contact", params=params)
            assert answer.status_code == 400, params
            assert answer.json()["error"] == "ERROR_INVALID_PARAMETER"
        assert http.get(f"{BASE}/OptOut", params={"count": 5000}).status_code == 200
