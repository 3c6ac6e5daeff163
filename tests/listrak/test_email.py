"""The Email API through the client: lists, profile fields, contacts paging, list imports."""

from __future__ import annotations

import asyncio

import pyarrow as pa
import pytest

from listrak_sync.listrak import (
    Contact,
    EmailList,
    ImportColumn,
    ListrakError,
    NotFound,
    SegmentationField,
    SegmentationFieldGroup,
    SegmentationFieldValue,
)
from tests.conftest import EMAIL_CLIENT, Emulator

from .conftest import MakeClient, credentials


def _seed_list(emulator: Emulator, contacts: int = 0) -> int:
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listName": "Newsletter",
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "Sync",
                                "segmentationFields": [{"segmentationFieldName": "first_name"}],
                            }
                        ],
                        "contacts": [
                            {
                                "emailAddress": f"seeded{i:06d}@example.com",
                                "segmentationFieldValues": {"first_name": f"S{i}"},
                            }
                            for i in range(contacts)
                        ],
                    }
                ]
            }
        }
    )
    with emulator.http() as http:
        lists = http.get("/email/v1/List").json()["data"]
    return int(lists[-1]["listId"])


def _field_id(emulator: Emulator, list_id: int) -> int:
    with emulator.http() as http:
        group = http.get(f"/email/v1/List/{list_id}/SegmentationFieldGroup").json()["data"][0]
        path = (
            f"/email/v1/List/{list_id}/SegmentationFieldGroup/{group['segmentationFieldGroupId']}"
        )
        return int(http.get(f"{path}/SegmentationField").json()["data"][0]["segmentationFieldId"])


async def test_lists_and_profile_fields(emulator: Emulator, make_client: MakeClient) -> None:
    client = make_client(email=credentials(EMAIL_CLIENT))
    list_id = await client.email.create_list(EmailList(list_name="VIP", bounce_unsubscribe_count=2))
    fetched = await client.email.get_list(list_id)
    assert (fetched.list_name, fetched.bounce_unsubscribe_count) == ("VIP", 2)
    group_id = await client.email.create_field_group(
        list_id, SegmentationFieldGroup(segmentation_field_group_name="listrak-sync")
    )
    field_id = await client.email.create_field(
        list_id,
        group_id,
        SegmentationField(segmentation_field_name="vip", data_type="CheckBox", max_length=3),
    )
    assert [g.segmentation_field_group_name for g in await client.email.field_groups(list_id)] == [
        "listrak-sync"
    ]
    fields = await client.email.fields(list_id, group_id)
    assert [(f.segmentation_field_id, f.data_type) for f in fields] == [(field_id, "CheckBox")]
    with pytest.raises(NotFound) as caught:
        await client.email.get_list(999_999)
    assert caught.value.code == "ERROR_UNABLE_TO_LOCATE_RESOURCE"


async def test_upsert_and_get_contact(emulator: Emulator, make_client: MakeClient) -> None:
    list_id = _seed_list(emulator)
    field_id = _field_id(emulator, list_id)
    client = make_client(email=credentials(EMAIL_CLIENT))
    contact = Contact(
        email_address="ann@example.com",
        segmentation_field_values=[
            SegmentationFieldValue(segmentation_field_id=field_id, value="Ann")
        ],
    )
    emulator.admin.add_fault(method="POST", path="/Contact$", drop_next=1, drop_after_apply=True)
    await client.email.upsert_contact(list_id, contact)  # replayed: an upsert is idempotent
    found = await client.email.get_contact(
        list_id, "ann@example.com", segmentation_field_ids=[field_id]
    )
    assert found.subscription_state == "Subscribed"
    assert [(v.segmentation_field_id, v.value) for v in found.segmentation_field_values] == [
        (field_id, "Ann")
    ]
    assert [c.email_address async for c in client.email.contacts(list_id)] == ["ann@example.com"]


async def test_save_contact_says_whether_it_created_and_never_resubscribes(
    emulator: Emulator, make_client: MakeClient
) -> None:
    list_id = _seed_list(emulator)
    client = make_client(email=credentials(EMAIL_CLIENT))
    ann = Contact(email_address="ann@example.com", subscription_state="Subscribed")

    assert await client.email.save_contact(list_id, ann) is True  # 201
    assert await client.email.save_contact(list_id, ann) is False  # 200: it existed
    gone = Contact(email_address="ann@example.com", subscription_state="Unsubscribed")
    assert await client.email.save_contact(list_id, gone) is False
    with pytest.raises(ListrakError) as caught:
        await client.email.save_contact(list_id, ann)
    assert caught.value.code == "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS"
    found = await client.email.get_contact(list_id, "ann@example.com")
    assert found.subscription_state == "Unsubscribed"


async def test_paging_20000_contacts_returns_each_exactly_once_despite_faults(
    emulator: Emulator, make_client: MakeClient
) -> None:
    list_id = _seed_list(emulator, contacts=20_500)
    client = make_client(email=credentials(EMAIL_CLIENT))
    emulator.admin.add_fault(method="GET", path="/Contact$", drop_next=2)
    emulator.admin.add_fault(method="GET", path="/Contact$", fail_next=2, error_status=502)
    emails: list[str] = []
    async for contact in client.email.contacts(list_id):
        emails.append(contact.email_address)
        if len(emails) == 7_000:
            emulator.admin.expire_tokens(EMAIL_CLIENT[0])  # mid-run
    assert len(emails) == 20_500
    assert set(emails) == {f"seeded{i:06d}@example.com" for i in range(20_500)}
    stats = client.metrics.operations["email.Contact_GetContactCollection"]
    assert stats.retries == 4
    assert client.metrics.token_refreshes_on_401 == 1
    assert stats.requests == 5 + 4 + 1  # 5 pages of 5000, 4 faults, 1 replay after the 401


def _members(emulator: Emulator, list_id: int) -> set[str]:
    with emulator.http() as http:
        emails: set[str] = set()
        cursor = "Start"
        while cursor:
            page = http.get(
                f"/email/v1/List/{list_id}/Contact", params={"cursor": cursor, "count": 5000}
            ).json()
            emails.update(c["emailAddress"] for c in page["data"])
            cursor = page.get("nextPageCursor") if page["data"] else None
        return emails


async def test_import_is_split_under_a_lowered_limit_and_every_file_finishes(
    emulator: Emulator, make_client: MakeClient
) -> None:
    list_id = _seed_list(emulator, contacts=10)
    field_id = _field_id(emulator, list_id)
    client = make_client(email=credentials(EMAIL_CLIENT))
    rows = [(f"new{i:05d}@example.com", f"N{i}") for i in range(3_000)]
    rows.append(("seeded000001@example.com", "again"))
    columns = [
        ImportColumn("email", "Email"),
        ImportColumn("first_name", "SegmentationField", field_id),
    ]
    results = await client.email.import_contacts(
        list_id, rows, columns=columns, max_file_bytes=20_000
    )
    assert len(results) >= 4
    assert all(r.file_bytes <= 20_000 and r.status == "Completed" for r in results)
    assert sum(r.rows for r in results) == 3_001
    assert len({r.import_file_id for r in results}) == len(results)
    summaries = [r.summary for r in results if r.summary is not None]
    assert sum(s.subscribed_count or 0 for s in summaries) == 3_000
    assert sum(s.already_subscribed_count or 0 for s in summaries) == 1
    members = _members(emulator, list_id)
    assert len(members) == 3_010
    assert {email for email, _ in rows} <= members


async def test_import_from_arrow_batches(emulator: Emulator, make_client: MakeClient) -> None:
    list_id = _seed_list(emulator)
    field_id = _field_id(emulator, list_id)
    client = make_client(email=credentials(EMAIL_CLIENT))
    batch = pa.record_batch(
        {
            "email": [f"arrow{i}@example.com" for i in range(2_000)],
            "first_name": [None if i % 2 else f"A{i}" for i in range(2_000)],
        }
    )
    columns = [
        ImportColumn("email", "Email"),
        ImportColumn("first_name", "SegmentationField", field_id),
    ]
    results = await client.email.import_contacts(
        list_id, [batch, batch.slice(0, 0)], columns=columns, max_file_bytes=30_000
    )
    assert len(results) >= 2
    assert sum(r.rows for r in results) == 2_000
    assert len(_members(emulator, list_id)) == 2_000
    contact = await client.email.get_contact(
        list_id, "arrow4@example.com", segmentation_field_ids=[field_id]
    )
    assert [v.value for v in contact.segmentation_field_values] == ["A4"]


async def test_import_post_whose_answer_was_lost_is_not_started_twice(
    emulator: Emulator, make_client: MakeClient
) -> None:
    list_id = _seed_list(emulator)
    client = make_client(email=credentials(EMAIL_CLIENT))
    rows = [(f"lost{i}@example.com",) for i in range(500)]
    columns = [ImportColumn("email", "Email")]
    # First file: applied, answer lost. Second file: dropped before it was applied.
    emulator.admin.add_fault(method="POST", path="/ListImport$", drop_next=1, drop_after_apply=True)
    results = await client.email.import_contacts(
        list_id, rows, columns=columns, max_file_bytes=6_000
    )
    assert len(results) >= 2
    emulator.admin.add_fault(method="POST", path="/ListImport$", drop_next=1)
    more = await client.email.import_contacts(
        list_id, [(f"more{i}@example.com",) for i in range(10)], columns=columns
    )
    imports = [i async for i in client.email.list_imports(list_id)]
    assert len(imports) == len(results) + len(more)  # nothing started twice
    assert sorted(i.import_file_id for i in imports) == sorted(
        r.import_file_id for r in [*results, *more]
    )
    assert len(_members(emulator, list_id)) == 510
    counts = emulator.admin.requests()
    assert counts["ListImport_PostImportFileResource"] == len(results) + len(more)
    # Each lost answer was settled by looking for the file name among the list's imports.
    assert client.metrics.operations["email.ListImport_GetListImportCollection"].requests >= 2


async def test_concurrent_imports_share_the_integration_limits(
    emulator: Emulator, make_client: MakeClient
) -> None:
    first, second = _seed_list(emulator), _seed_list(emulator)
    client = make_client(email=credentials(EMAIL_CLIENT), max_concurrency=2)
    columns = [ImportColumn("email", "Email")]
    done = await asyncio.gather(
        client.email.import_contacts(
            first, [(f"a{i}@x.com",) for i in range(100)], columns=columns
        ),
        client.email.import_contacts(
            second, [(f"b{i}@x.com",) for i in range(100)], columns=columns
        ),
    )
    assert [sum(r.rows for r in results) for results in done] == [100, 100]
    assert len(_members(emulator, first)) == len(_members(emulator, second)) == 100
