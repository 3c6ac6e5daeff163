"""Email calls the list sync relies on: finding an import by name, per-contact import results,
and raw contact pages."""

from __future__ import annotations

from listrak_sync.listrak import ImportColumn
from tests.conftest import Emulator
from tests.listrak.conftest import MakeClient


def _seed(emulator: Emulator) -> None:
    emulator.admin.seed(
        {
            "email": {
                "banned": ["trap@example.com"],
                "lists": [
                    {
                        "listId": 1001,
                        "listName": "Newsletter",
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "Audiences",
                                "segmentationFields": [
                                    {
                                        "segmentationFieldName": "vip",
                                        "dataType": "CheckBox",
                                        "maxLength": 3,
                                    }
                                ],
                            }
                        ],
                        "contacts": [
                            {
                                "emailAddress": "old@example.com",
                                "segmentationFieldValues": {"vip": "on"},
                            },
                            {
                                "emailAddress": "left@example.com",
                                "subscriptionState": "Unsubscribed",
                            },
                        ],
                    }
                ],
            }
        }
    )


async def test_import_results_and_lookup_by_name(
    emulator: Emulator, make_client: MakeClient
) -> None:
    _seed(emulator)
    client = make_client()
    rows = [
        ("new@example.com",),
        ("old@example.com",),
        ("left@example.com",),
        ("trap@example.com",),
    ]

    results = await client.email.import_contacts(
        1001, rows, columns=[ImportColumn("email", "Email")], file_name="nightly"
    )

    import_id = results[0].import_file_id
    assert await client.email.find_import(1001, results[0].file_name) == import_id
    assert await client.email.find_import(1001, "never-sent.csv") is None
    pages = [page async for page in client.email.import_contact_pages(1001, import_id)]
    found = {item["emailAddress"]: item["importResult"] for page in pages for item in page}
    assert found == {
        "new@example.com": "Subscribed",
        "old@example.com": "AlreadySubscribed",
        "left@example.com": "PreviouslyUnsubscribed",
        "trap@example.com": "Banned",
    }


async def test_contact_pages_are_raw_and_carry_the_fields(
    emulator: Emulator, make_client: MakeClient
) -> None:
    _seed(emulator)
    client = make_client(page_size=1)
    fields = await client.email.fields(
        1001, (await client.email.field_groups(1001))[0].segmentation_field_group_id or 0
    )

    pages = [
        page
        async for page in client.email.contact_pages(
            1001, segmentation_field_ids=[fields[0].segmentation_field_id or 0]
        )
    ]

    assert len(pages) == 1
    (contact,) = pages[0]
    assert contact["emailAddress"] == "old@example.com"
    assert contact["segmentationFieldValues"][0]["value"] == "on"
