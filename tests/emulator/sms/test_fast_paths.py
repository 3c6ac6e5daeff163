"""The per-contact fast paths answer exactly like the paths they shortcut.

The catalog copy must follow seeds and resets, value checks done in Python must agree with the
SQL rules, and blind writes (Create Contact, Subscribe) must fall back to the exact decision
whenever something about the number already exists.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import duckdb
import httpx2
import pytest

from listrak_sync.emulator import EmulatorServer
from listrak_sync.emulator.admin_client import EmulatorAdmin
from listrak_sync.emulator.sms.fields import DATA_TYPES, plain_value, value_sql
from tests.conftest import SMS_CLIENT, Emulator

from .sandbox import BASE, DOUBLE, MAIN, RETIRED, SENDER, error, seed

SAMPLES = [
    "12",
    "-3.50",
    "007",
    " 12",
    "1e5",
    "+5",
    "1.",
    ".5",
    "abc",
    "٣",  # an Arabic-Indic digit
    "1234567890123456789012345",
    "yes",
    "Yes",
    "OFF",
    " true ",
    "1",
    "0",
    "tru",
    "2024-05-01",
    "2024-02-30",
    "0999-01-01",
    "2024-5-1",
    "05/01/2024",
    "2024-05-01T10:00:00",
    "\u00a0x",
]


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_plain_values_agree_with_the_sql_rules(data_type: str) -> None:
    valid, normalised = value_sql(data_type, "v")
    with duckdb.connect() as db:
        for value in SAMPLES:
            plain = plain_value(data_type, value)
            if plain is None:
                continue  # left to the SQL rules themselves
            row = db.execute(f"SELECT {valid}, {normalised} FROM (SELECT ? AS v)", [value])
            assert row.fetchall() == [(True, plain)], (data_type, value)


def test_catalog_follows_seeds_and_resets(emulator: Emulator) -> None:
    seed(emulator)
    with emulator.http(SMS_CLIENT) as http:
        assert http.get("/sms/v1/ShortCode/102").status_code == 404
        assert http.get(f"{BASE}/SegmentationField/21").status_code == 404
        emulator.admin.seed(
            {
                "sms": {
                    "fields": [{"segmentationFieldId": 21, "segmentationFieldName": "Shoe"}],
                    "senderCodes": [
                        {
                            "shortCodeId": 102,
                            "code": "55502",
                            "lists": [{"phoneListId": 401, "phoneListName": "Other"}],
                        }
                    ],
                }
            }
        )
        assert http.get("/sms/v1/ShortCode/102").json()["data"]["code"] == "55502"
        assert http.get("/sms/v1/ShortCode/102/PhoneList/401").status_code == 200
        made = http.post(
            "/sms/v1/ShortCode/102/PhoneList/401/Contact",
            json={
                "phoneNumber": "2155550301",
                "segmentationFieldValues": [{"segmentationFieldId": 21, "value": "42"}],
            },
        )
        assert made.status_code == 201, made.text
        # The list belongs to sender code 102 only.
        wrong = http.post(f"{BASE}/PhoneList/401/Contact", json={"phoneNumber": "2155550302"})
        assert error(wrong) == "ERROR_INVALID_LIST_ID"
        emulator.admin.reset()
        emulator.admin.seed(
            {
                "clients": [
                    {
                        "client_id": SMS_CLIENT[0],
                        "client_secret": SMS_CLIENT[1],
                        "integration": "sms",
                    }
                ]
            }
        )
    with emulator.http(SMS_CLIENT) as http:
        assert http.get("/sms/v1/ShortCode").json()["data"] == []
        assert http.get("/sms/v1/ShortCode/102").status_code == 404


def test_create_for_a_number_known_elsewhere_merges_its_profile(emulator: Emulator) -> None:
    seed(emulator)
    emulator.admin.seed(
        {
            "sms": {
                "senderCodes": [
                    {
                        "shortCodeId": 102,
                        "code": "55502",
                        "contacts": [
                            {
                                "phoneNumber": "2155550401",
                                "firstName": "Ada",
                                "lastName": "Byron",
                                "segmentationFieldValues": [
                                    {"segmentationFieldId": 11, "value": "gold"},
                                    {"segmentationFieldId": 12, "value": "5"},
                                ],
                            }
                        ],
                    }
                ]
            }
        }
    )
    with emulator.http(SMS_CLIENT) as http:
        made = http.post(
            f"{BASE}/PhoneList/{MAIN}/Contact",
            json={
                "phoneNumber": "2155550401",
                "lastName": "Lovelace",
                "segmentationFieldValues": [
                    {"segmentationFieldId": 11, "value": ""},  # clears the stored value
                    {"segmentationFieldId": 13, "value": "no"},
                    {"segmentationFieldId": 13, "value": "Yes"},  # the last one counts
                ],
            },
        )
        assert made.status_code == 201, made.text
        got = http.get(f"{BASE}/Contact/2155550401").json()["data"]
        assert (got["firstName"], got["lastName"]) == ("Ada", "Lovelace")
        assert got["segmentationFieldValues"] == [
            {"segmentationFieldId": 12, "value": "5"},
            {"segmentationFieldId": 13, "value": "true"},
        ]
        lists = http.get(f"{BASE}/Contact/2155550401/PhoneList").json()["data"]
        assert [(s["phoneListId"], s["subscriptionState"]) for s in lists] == [(MAIN, "Subscribed")]
        # The other sender code's contact is untouched by this one's subscription.
        other = http.get("/sms/v1/ShortCode/102/Contact/2155550401/PhoneList").json()
        assert other["data"] == []
        again = http.post(f"{BASE}/PhoneList/{MAIN}/Contact", json={"phoneNumber": "2155550401"})
        assert error(again) == "ERROR_PHONE_NUMBER_FOUND"


def test_resubscribe_and_pending_after_blind_attempts(emulator: Emulator) -> None:
    seed(
        emulator,
        [
            {
                "phoneNumber": "2155550501",
                "subscriptions": [{"phoneListId": MAIN, "state": "Unsubscribed"}],
            },
            {"phoneNumber": "2155550502"},
        ],
    )
    with emulator.http(SMS_CLIENT) as http:
        back = http.post(f"{BASE}/Contact/2155550501/PhoneList/{MAIN}")
        assert back.status_code == 201, back.text
        lists = http.get(f"{BASE}/Contact/2155550501/PhoneList").json()["data"]
        assert lists[0]["subscriptionState"] == "Subscribed"
        assert "unsubscribeDate" not in lists[0]
        pending = http.post(f"{BASE}/Contact/2155550502/PhoneList/{DOUBLE}")
        assert pending.status_code == 201
        lists = http.get(f"{BASE}/Contact/2155550502/PhoneList").json()["data"]
        assert (lists[0]["subscriptionState"], lists[0]["pendingDoubleOptIn"]) == ("Pending", True)
        twice = http.post(f"{BASE}/Contact/2155550502/PhoneList/{DOUBLE}")
        assert error(twice) == "ERROR_PENDING_PHONE_NUMBER"
        state = emulator.admin.state(full=True)["sms"]
        assert {c["phoneNumber"] for c in state["contacts"] if c["senderCodeId"] == SENDER} == {
            "12155550501",
            "12155550502",
        }


async def test_concurrent_creates_answer_as_one_at_a_time(emulator: Emulator) -> None:
    """Creates that arrive together are applied in one batch (batch.py); a batch that a number
    known before, or the same number twice, breaks is decided one request at a time."""
    seed(emulator, [{"phoneNumber": "2155550601"}])
    headers = {"Authorization": f"Bearer {emulator.token(SMS_CLIENT)}"}
    new = [f"21555507{i:02d}" for i in range(30)]
    first = [
        (MAIN, {"phoneNumber": phone, "segmentationFieldValues": _values(i)})
        for i, phone in enumerate(new)
    ]
    first.append((DOUBLE, {"phoneNumber": "2155550802"}))
    second = [
        (MAIN, {"phoneNumber": "2155550601"}),  # exists on the sender code
        (MAIN, {"phoneNumber": "2155550801", "firstName": "Twice"}),
        (MAIN, {"phoneNumber": "2155550801", "firstName": "Twice"}),
        (MAIN, {"phoneNumber": "2155550803", "firstName": "Else"}),
    ]
    async with httpx2.AsyncClient(base_url=emulator.base_url, headers=headers) as http:
        answers = []
        for burst in (first, second):
            answers += await asyncio.gather(
                *(http.post(f"{BASE}/PhoneList/{lst}/Contact", json=body) for lst, body in burst)
            )
    statuses = [a.status_code for a in answers]
    assert statuses[:31] == [201] * 31, [a.text for a in answers if a.status_code != 201]
    assert error(answers[31]) == "ERROR_PHONE_NUMBER_FOUND"
    assert sorted(statuses[32:34]) == [201, 400]
    assert error(next(a for a in answers[32:34] if a.status_code == 400)) == (
        "ERROR_PHONE_NUMBER_FOUND"
    )
    assert statuses[34] == 201
    with emulator.http(SMS_CLIENT) as http:
        for i, phone in enumerate(new):
            got = http.get(f"{BASE}/Contact/{phone}").json()["data"]
            assert got["firstName"] == f"Ada{i}"
            assert got["segmentationFieldValues"] == [
                {"segmentationFieldId": 11, "value": "gold"},
                {"segmentationFieldId": 12, "value": str(i)},
            ]
            lists = http.get(f"{BASE}/Contact/{phone}/PhoneList").json()["data"]
            assert [(s["phoneListId"], s["subscriptionState"]) for s in lists] == [
                (MAIN, "Subscribed")
            ]
        twice = http.get(f"{BASE}/Contact/2155550801").json()["data"]
        assert twice["firstName"] == "Twice"
        assert http.get(f"{BASE}/Contact/2155550803").json()["data"]["firstName"] == "Else"
        pending = http.get(f"{BASE}/Contact/2155550802/PhoneList").json()["data"]
        assert (pending[0]["subscriptionState"], pending[0]["pendingDoubleOptIn"]) == (
            "Pending",
            True,
        )
        known = http.get(f"{BASE}/Contact/2155550601/PhoneList").json()["data"]
        assert known == []  # the refused create subscribed nothing


def _values(i: int) -> list[dict[str, object]]:
    return [
        {"segmentationFieldId": 15, "value": f"Ada{i}"},  # the first name, a system field
        {"segmentationFieldId": 11, "value": "gold"},
        {"segmentationFieldId": 12, "value": str(i)},
        {"segmentationFieldId": 13, "value": ""},  # empty: nothing stored
    ]


async def test_a_pause_mid_batch_is_answered_after_the_batch(emulator: Emulator) -> None:
    """Creates held back for a batch are answered before any request that arrived after them.

    The reverted first batch answered a request that arrived once the integration was paused
    at once, while the earlier creates still waited for their batch: the client saw "paused"
    before their 201s and, as the SMS sync does, gave up on creates Listrak had applied."""
    seed(emulator)
    state = emulator.server.state
    trigger: dict[str, int] = {}

    def pause_mid_batch(_: object) -> None:
        # Pauses the integration when a request arrives while creates wait for their batch.
        if trigger.get("armed") and state.answers.held:
            trigger.update(armed=0, held=state.answers.held)
            state.update_client(SMS_CLIENT[0], paused=True)

    state.before_request(pause_mid_batch)
    headers = {"Authorization": f"Bearer {emulator.token(SMS_CLIENT)}"}
    limits = httpx2.Limits(max_connections=16, max_keepalive_connections=16)
    answered: list[tuple[str, int]] = []  # in the order the answers came
    async with httpx2.AsyncClient(
        base_url=emulator.base_url, headers=headers, limits=limits, timeout=60
    ) as http:

        async def create(phone: str) -> None:
            response = await http.post(
                f"{BASE}/PhoneList/{MAIN}/Contact", json={"phoneNumber": phone}
            )
            answered.append((phone, response.status_code))

        try:
            for attempt in range(10):  # a loaded machine may send too slowly to form a batch
                # Open the connections first, so the creates arrive together.
                await asyncio.gather(*(http.get(f"{BASE}/PhoneList/{MAIN}") for _ in range(16)))
                answered.clear()

                trigger["armed"] = 1
                phones = [f"2155{attempt:02d}09{i:02d}" for i in range(16)]
                await asyncio.gather(*(create(phone) for phone in phones))
                if "held" in trigger:
                    break
                state.update_client(SMS_CLIENT[0], paused=False)
        finally:
            trigger["armed"] = 0
            state.update_client(SMS_CLIENT[0], paused=False)
    assert "held" in trigger, "no create was ever held for a batch"
    statuses = [status for _, status in answered]
    assert 201 in statuses, answered
    assert 401 in statuses, answered
    # Every create that was applied was answered before the first "paused".
    first_refusal = statuses.index(401)
    assert 201 not in statuses[first_refusal:], str(answered)
    with emulator.http(SMS_CLIENT) as check:
        for phone, status in answered:
            found = check.get(f"{BASE}/Contact/{phone}").status_code
            assert found == (200 if status == 201 else 404), (phone, status)


async def test_concurrent_subscriptions_answer_as_one_at_a_time(emulator: Emulator) -> None:
    """Subscribes and unsubscribes that arrive together are applied in one batch (batch.py);
    those the batch cannot apply blind (refusals, a re-subscribe) answer as the one-request
    path does."""
    known = [
        {"phoneNumber": "2155551001", "subscriptions": [MAIN]},  # already subscribed
        {"phoneNumber": "2155551002", "optedOut": True, "subscriptions": [MAIN]},
        {"phoneNumber": "2155551003", "banned": True},
        {
            "phoneNumber": "2155551004",
            "subscriptions": [{"phoneListId": MAIN, "state": "Unsubscribed"}],
        },
        {"phoneNumber": "2155551005"},  # on no list
        {"phoneNumber": "2155551006", "subscriptions": [MAIN, RETIRED]},
        {
            "phoneNumber": "2155551007",
            "subscriptions": [{"phoneListId": DOUBLE, "state": "Pending"}],
        },
        {"phoneNumber": "2155551008", "subscriptions": [MAIN]},
        *({"phoneNumber": f"21555511{i:02d}"} for i in range(24)),  # on no list
    ]
    seed(emulator, known)
    # (method, number, list, status, error code, the list's state afterwards)
    expected: list[tuple[str, str, int, int, str | None, str | None]] = [
        ("POST", "2155551001", MAIN, 400, "ERROR_SUBSCRIBED_PHONE_NUMBER", "Subscribed"),
        ("POST", "2155551002", MAIN, 400, "ERROR_INVALID_PARAMETER", "Unsubscribed"),
        ("POST", "2155551003", MAIN, 400, "ERROR_BANNED_PHONE_NUMBER", None),
        ("POST", "2155551004", MAIN, 201, None, "Subscribed"),  # back on the list
        ("POST", "2155551099", MAIN, 404, "ERROR_PHONE_NUMBER_NOT_FOUND", None),
        ("DELETE", "2155551002", MAIN, 400, "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED", "Unsubscribed"),
        ("DELETE", "2155551005", MAIN, 400, "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED", None),
        ("DELETE", "2155551006", RETIRED, 200, None, "Unsubscribed"),  # an inactive list
        ("DELETE", "2155551007", DOUBLE, 200, None, "Unsubscribed"),  # pending
        ("DELETE", "2155551008", MAIN, 200, None, "Unsubscribed"),
        ("DELETE", "2155551098", MAIN, 404, "ERROR_PHONE_NUMBER_NOT_FOUND", None),
    ]
    expected += [
        ("POST", f"21555511{i:02d}", MAIN if i % 2 else DOUBLE, 201, None, None) for i in range(24)
    ]
    headers = {"Authorization": f"Bearer {emulator.token(SMS_CLIENT)}"}
    limits = httpx2.Limits(max_connections=40, max_keepalive_connections=40)
    async with httpx2.AsyncClient(
        base_url=emulator.base_url, headers=headers, limits=limits, timeout=60
    ) as http:
        answers = await asyncio.gather(
            *(
                http.post(f"{BASE}/Contact/{phone}/PhoneList/{lst}")
                if method == "POST"
                else http.delete(f"{BASE}/ContactUnsubscribe/{phone}/PhoneList/{lst}")
                for method, phone, lst, *_ in expected
            )
        )
    for (method, phone, _, status, code, _), answer in zip(expected, answers, strict=True):
        assert answer.status_code == status, (method, phone, answer.text)
        if code is not None:
            assert error(answer) == code, (method, phone, answer.text)
    with emulator.http(SMS_CLIENT) as http:
        for _, phone, lst, status, _, after in expected:
            if status == 404:
                continue
            if after is None and status == 201:
                after = "Pending" if lst == DOUBLE else "Subscribed"
            lists = http.get(f"{BASE}/Contact/{phone}/PhoneList").json()["data"]
            states = {s["phoneListId"]: s["subscriptionState"] for s in lists}
            assert states.get(lst) == after, (phone, lists)
            if after == "Unsubscribed" and status == 200:
                assert "unsubscribeDate" in next(s for s in lists if s["phoneListId"] == lst)


async def test_writes_to_one_number_in_a_batch_see_each_other(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create and a subscribe of the same number, or a subscribe and an unsubscribe, sent at
    once: each pair's answers and what is stored match one of the two orders a
    one-request-at-a-time server could have taken them in, never a mix.

    The emulator's clock moves a second per reading here, so the stored dates show the order
    the writes were decided in: a subscribe decided before the create of its number must be
    refused, even when both wait in one batch."""
    pairs = 12
    attempts = 10  # until each order was seen (a loaded machine varies)
    seed(
        emulator,
        [{"phoneNumber": f"2155{a:02d}21{i:02d}"} for a in range(attempts) for i in range(pairs)],
    )
    headers = {"Authorization": f"Bearer {emulator.token(SMS_CLIENT)}"}
    state = emulator.server.state
    ticks = itertools.count()
    start = state.clock()
    limits = httpx2.Limits(max_connections=4 * pairs, max_keepalive_connections=4 * pairs)
    seen = dict.fromkeys(
        ("create first", "subscribe first", "subscribe, then unsubscribe", "unsubscribe first"), 0
    )
    async with httpx2.AsyncClient(
        base_url=emulator.base_url, headers=headers, limits=limits, timeout=60
    ) as http:
        # A second per reading (the token lives an hour).
        monkeypatch.setattr(state, "clock", lambda: start + next(ticks))
        for attempt in range(attempts):
            # Open the connections first, so the writes arrive together.
            await asyncio.gather(*(http.get(f"{BASE}/PhoneList/{MAIN}") for _ in range(4 * pairs)))
            new = [f"2155{attempt:02d}22{i:02d}" for i in range(pairs)]
            known = [f"2155{attempt:02d}21{i:02d}" for i in range(pairs)]  # on no list
            requests = []
            for i in range(pairs):
                # Alternate which of a pair is sent first, so both orders happen.
                create = http.post(f"{BASE}/PhoneList/{MAIN}/Contact", json={"phoneNumber": new[i]})
                subscribe = http.post(f"{BASE}/Contact/{new[i]}/PhoneList/{DOUBLE}")
                requests += [create, subscribe] if i % 2 else [subscribe, create]
                subscribe = http.post(f"{BASE}/Contact/{known[i]}/PhoneList/{MAIN}")
                leave = http.delete(f"{BASE}/ContactUnsubscribe/{known[i]}/PhoneList/{MAIN}")
                requests += [subscribe, leave] if i % 2 else [leave, subscribe]
            answers = await asyncio.gather(*requests)
            async with asyncio.timeout(60):
                for i in range(pairs):
                    one, two, three, four = answers[4 * i : 4 * i + 4]
                    created, subscribed = (one, two) if i % 2 else (two, one)
                    sub, unsub = (three, four) if i % 2 else (four, three)
                    assert created.status_code == 201, created.text
                    lists = (await http.get(f"{BASE}/Contact/{new[i]}/PhoneList")).json()["data"]
                    states = [(s["phoneListId"], s["subscriptionState"]) for s in lists]
                    if subscribed.status_code == 201:
                        seen["create first"] += 1
                        assert states == [(MAIN, "Subscribed"), (DOUBLE, "Pending")]
                        assert lists[0]["subscribeDate"] < lists[1]["pendingDate"], lists
                    else:
                        seen["subscribe first"] += 1
                        assert error(subscribed) == "ERROR_PHONE_NUMBER_NOT_FOUND"
                        assert states == [(MAIN, "Subscribed")]
                    assert sub.status_code == 201, sub.text
                    lists = (await http.get(f"{BASE}/Contact/{known[i]}/PhoneList")).json()["data"]
                    states = [(s["phoneListId"], s["subscriptionState"]) for s in lists]
                    if unsub.status_code == 200:
                        seen["subscribe, then unsubscribe"] += 1
                        assert states == [(MAIN, "Unsubscribed")]
                        assert lists[0]["subscribeDate"] < lists[0]["unsubscribeDate"], lists
                    else:
                        seen["unsubscribe first"] += 1
                        assert error(unsub) == "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED"
                        assert states == [(MAIN, "Subscribed")]
            if all(seen.values()):
                break
    assert all(seen.values()), seen


@pytest.mark.parametrize("state_file", [False, True], ids=["in memory", "state file"])
async def test_answered_writes_are_stored(tmp_path: Path, state_file: bool) -> None:
    """With a state file a batched write is answered once committed (the file is what a restart
    keeps); in memory, once decided, and anything that reads the state writes it first."""
    path = tmp_path / "emulator.duckdb" if state_file else None
    with (
        EmulatorServer(state_file=path) as server,
        EmulatorAdmin(server.base_url) as admin,
    ):
        emulator = Emulator(server, admin)
        admin.seed(
            {
                "clients": [
                    {
                        "client_id": SMS_CLIENT[0],
                        "client_secret": SMS_CLIENT[1],
                        "integration": "sms",
                    }
                ]
            }
        )
        seed(emulator)
        headers = {"Authorization": f"Bearer {emulator.token(SMS_CLIENT)}"}
        phones = [f"21555531{i:02d}" for i in range(16)]
        async with httpx2.AsyncClient(base_url=server.base_url, headers=headers) as http:
            answers = await asyncio.gather(
                *(
                    http.post(f"{BASE}/PhoneList/{MAIN}/Contact", json={"phoneNumber": phone})
                    for phone in phones
                )
            )
        assert [a.status_code for a in answers] == [201] * len(phones)

        def committed() -> int:
            with server.state.held_back_cursor() as cur:
                row = cur.execute("SELECT count(*) FROM sms_contact").fetchone()
            assert row is not None
            return int(row[0])

        if state_file:
            assert committed() == len(phones)
        with emulator.http(SMS_CLIENT) as check:
            members = check.get(f"{BASE}/PhoneList/{MAIN}/Contact").json()["data"]
        assert sorted(m["phoneNumber"] for m in members) == [f"1{phone}" for phone in phones]
        assert committed() == len(phones)
