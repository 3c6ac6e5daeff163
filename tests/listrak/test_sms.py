"""The SMS API through the client: per-contact calls under concurrency and faults, imports."""

from __future__ import annotations

import asyncio

import pytest

from listrak_sync.listrak import (
    CreateOutcome,
    ImportColumn,
    ImportTimeout,
    NotFound,
    SmsContact,
    SmsContactField,
    SubscribeOutcome,
    UnsubscribeOutcome,
)
from tests.conftest import SMS_CLIENT, Emulator

from .conftest import MakeClient, credentials

SENDER = 501
LIST, OTHER = 601, 602


def _seed(emulator: Emulator, contacts: list[dict[str, object]] | None = None) -> int:
    emulator.admin.seed(
        {
            "sms": {
                "fields": [{"segmentationFieldName": "tier", "dataType": "Text", "maxLength": 20}],
                "senderCodes": [
                    {
                        "shortCodeId": SENDER,
                        "code": "12345",
                        "lists": [
                            {"phoneListId": LIST, "phoneListName": "Promos"},
                            {"phoneListId": OTHER, "phoneListName": "Alerts"},
                        ],
                        "contacts": contacts or [],
                    }
                ],
            }
        }
    )
    with emulator.http(SMS_CLIENT) as http:
        fields = http.get(f"/sms/v1/ShortCode/{SENDER}/SegmentationField").json()["data"]
    return int(
        next(f for f in fields if f["segmentationFieldName"] == "tier")["segmentationFieldId"]
    )


def _phone(i: int) -> str:
    return f"1215555{i:04d}"


async def test_sender_codes_lists_and_fields(emulator: Emulator, make_client: MakeClient) -> None:
    _seed(emulator)
    client = make_client(sms=credentials(SMS_CLIENT))
    assert [c.short_code_id for c in await client.sms.sender_codes()] == [SENDER]
    assert (await client.sms.get_sender_code(SENDER)).code == "12345"
    names = [p.phone_list_name async for p in client.sms.phone_lists(SENDER)]
    assert names == ["Promos", "Alerts"]
    assert (await client.sms.get_phone_list(SENDER, OTHER)).phone_list_name == "Alerts"
    assert "tier" in [f.segmentation_field_name for f in await client.sms.profile_fields(SENDER)]


async def test_concurrent_create_subscribe_unsubscribe_with_faults(
    emulator: Emulator, make_client: MakeClient
) -> None:
    tier = _seed(emulator, [{"phoneNumber": _phone(9000), "subscriptions": [OTHER]}])
    client = make_client(sms=credentials(SMS_CLIENT), max_concurrency=16)
    # Lost answers after the work was done, refused and dropped requests before it, mid-run.
    emulator.admin.add_fault(method="POST", path="/Contact$", drop_next=5, drop_after_apply=True)
    emulator.admin.add_fault(method="POST", path="/PhoneList/", fail_next=5, error_status=503)
    emulator.admin.add_fault(method="DELETE", drop_next=3)

    contacts = [
        SmsContact(
            phone_number=_phone(i),
            first_name=f"P{i}",
            segmentation_field_values=[SmsContactField(segmentation_field_id=tier, value="gold")],
        )
        for i in range(200)
    ]
    created = await asyncio.gather(*(client.sms.create_contact(SENDER, LIST, c) for c in contacts))
    # Replays of creates whose answer was lost find the number: an outcome, not an error.
    assert created.count(CreateOutcome.CREATED) + created.count(CreateOutcome.ALREADY_EXISTS) == 200
    assert created.count(CreateOutcome.ALREADY_EXISTS) <= 5

    existing = await client.sms.create_contact(SENDER, LIST, SmsContact(phone_number=_phone(9000)))
    assert existing is CreateOutcome.ALREADY_EXISTS
    assert await client.sms.subscribe(SENDER, _phone(9000), LIST) is SubscribeOutcome.SUBSCRIBED
    again = await asyncio.gather(
        *(client.sms.subscribe(SENDER, _phone(i), LIST) for i in range(50))
    )
    assert set(again) == {SubscribeOutcome.ALREADY_SUBSCRIBED}

    gone = await asyncio.gather(
        *(client.sms.unsubscribe(SENDER, _phone(i), LIST) for i in range(100))
    )
    assert set(gone) == {UnsubscribeOutcome.UNSUBSCRIBED}
    assert (
        await client.sms.unsubscribe(SENDER, _phone(0), LIST) is UnsubscribeOutcome.NOT_SUBSCRIBED
    )

    subscribed = {c.phone_number async for c in client.sms.contacts(SENDER, LIST)}
    assert subscribed == {_phone(i) for i in range(100, 200)} | {_phone(9000)}
    details = await client.sms.get_contact(SENDER, _phone(150))
    assert details.first_name == "P150"
    assert [
        (v.segmentation_field_id, v.value) for v in details.segmentation_field_values or []
    ] == [(tier, "gold")]
    lists = {
        s.phone_list_id: s.subscription_state
        async for s in client.sms.contact_lists(SENDER, _phone(1))
    }
    assert lists[LIST] == "Unsubscribed"
    assert client.metrics.retries >= 13


async def test_update_contact_and_unknown_number(
    emulator: Emulator, make_client: MakeClient
) -> None:
    _seed(emulator, [{"phoneNumber": _phone(1), "subscriptions": [LIST]}])
    client = make_client(sms=credentials(SMS_CLIENT))
    emulator.admin.add_fault(method="PUT", drop_next=1, drop_after_apply=True)
    await client.sms.update_contact(SENDER, SmsContact(phone_number=_phone(1), postal_code="19103"))
    assert (await client.sms.get_contact(SENDER, _phone(1))).postal_code == "19103"
    with pytest.raises(NotFound) as caught:
        await client.sms.subscribe(SENDER, _phone(2), LIST)
    assert caught.value.code == "ERROR_PHONE_NUMBER_NOT_FOUND"


async def test_opt_outs_and_contact_update_import(
    emulator: Emulator, make_client: MakeClient
) -> None:
    tier = _seed(
        emulator,
        [
            *({"phoneNumber": _phone(i), "subscriptions": [LIST]} for i in range(300)),
            {"phoneNumber": _phone(7777), "optedOut": True, "optOutReason": "Campaign"},
        ],
    )
    client = make_client(sms=credentials(SMS_CLIENT))
    opt_outs = [o async for o in client.sms.opt_outs(SENDER)]
    assert [(o.phone_number, o.opt_out_reason) for o in opt_outs] == [(_phone(7777), "Campaign")]
    columns = [ImportColumn("phone", "Phone"), ImportColumn("tier", "SegmentationField", tier)]
    results = await client.sms.import_contact_updates(
        SENDER, [(_phone(i), f"t{i}") for i in range(300)], columns=columns, max_file_bytes=2_000
    )
    assert len(results) >= 3
    assert all(r.status == "Completed" for r in results)
    assert sum(r.rows for r in results) == 300
    contact = await client.sms.get_contact(SENDER, _phone(299))
    assert [v.value for v in contact.segmentation_field_values or []] == ["t299"]


async def test_import_that_never_finishes_times_out(
    emulator: Emulator, make_client: MakeClient
) -> None:
    _seed(emulator, [{"phoneNumber": _phone(1), "subscriptions": [LIST]}])
    emulator.admin.seed({"sms": {"importsPaused": True}})
    client = make_client(sms=credentials(SMS_CLIENT), import_timeout=0.3)
    with pytest.raises(ImportTimeout) as caught:
        await client.sms.import_contact_updates(
            SENDER, [(_phone(1),)], columns=[ImportColumn("phone", "Phone")]
        )
    assert caught.value.import_file_id > 0
    assert "Queued" in str(caught.value)
