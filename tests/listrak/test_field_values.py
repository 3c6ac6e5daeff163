"""The Beta bulk profile-field update (``Contact/SegmentationField``) and import results."""

from __future__ import annotations

import contextlib

import pytest

from listrak_sync.emulator.email.import_queue import import_queue
from listrak_sync.listrak import ListrakApiError
from tests.conftest import EMAIL_CLIENT, Emulator

from .conftest import MakeClient, RecordingSleep, credentials

LIST_ID, TIER, VIP = 5301, 9301, 9302


def _seed(emulator: Emulator) -> None:
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": LIST_ID,
                        "listName": "Beta",
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "G",
                                "segmentationFields": [
                                    {"segmentationFieldId": TIER, "segmentationFieldName": "tier"},
                                    {
                                        "segmentationFieldId": VIP,
                                        "segmentationFieldName": "vip",
                                        "dataType": "CheckBox",
                                        "maxLength": 3,
                                    },
                                ],
                            }
                        ],
                        "contacts": [
                            {"emailAddress": "ann@example.com"},
                            {"emailAddress": "bob@example.com"},
                        ],
                    }
                ]
            }
        }
    )


async def test_update_field_values_starts_an_import_with_per_contact_results(
    emulator: Emulator, make_client: MakeClient
) -> None:
    _seed(emulator)
    client = make_client(email=credentials(EMAIL_CLIENT))
    # A 503 is retried: setting the same values again is harmless.
    emulator.admin.add_fault(path="/Contact/SegmentationField$", fail_next=1, error_status=503)
    import_id = await client.email.update_field_values(
        LIST_ID,
        {
            "ann@example.com": {TIER: "gold", VIP: "on"},
            "bob@example.com": {VIP: "maybe"},
            "zed@example.com": {TIER: "tin"},
        },
    )
    status = await client.email.wait_for_import(LIST_ID, import_id)
    assert status.status == "Completed"
    results = [r async for r in client.email.import_results(LIST_ID, import_id)]
    assert results == [
        ("ann@example.com", "Updated"),
        ("bob@example.com", "SkippedInvalidValue"),
        ("zed@example.com", "SkippedNotOnList"),
    ]
    contact = await client.email.get_contact(
        LIST_ID, "ann@example.com", segmentation_field_ids=[TIER, VIP]
    )
    assert {v.segmentation_field_id: v.value for v in contact.segmentation_field_values} == {
        TIER: "gold",
        VIP: "on",
    }
    assert (
        client.metrics.operations[
            "email.ContactSegmentationField_PostContactSegmentationFieldValuesResource"
        ].retries
        == 1
    )


async def test_beta_refusal_carries_its_code(emulator: Emulator, make_client: MakeClient) -> None:
    _seed(emulator)
    emulator.admin.set_client(EMAIL_CLIENT[0], beta_access=False)
    client = make_client(email=credentials(EMAIL_CLIENT))
    with pytest.raises(ListrakApiError) as caught:
        await client.email.update_field_values(LIST_ID, {"ann@example.com": {TIER: "x"}})
    assert caught.value.code == "ERROR_INTEGRATION_CANNOT_ACCESS_BETA_ROUTE"
    assert caught.value.status == 400


async def test_import_status_waits_grow_by_import_poll_growth(
    emulator: Emulator, make_client: MakeClient
) -> None:
    """Event delivery polls with slowly growing waits (``import_poll_growth``) so that a
    finished import is seen soon after it finished."""
    _seed(emulator)
    queue = import_queue(emulator.server.state)
    held = contextlib.ExitStack()
    held.enter_context(queue.paused())  # the import stays Queued until five polls were made
    sleep = RecordingSleep()

    async def sleep_then_release(seconds: float) -> None:
        await sleep(seconds)
        if len(sleep.calls) == 5:
            held.close()

    client = make_client(
        email=credentials(EMAIL_CLIENT),
        sleep=sleep_then_release,
        import_poll_interval=0.01,
        import_poll_growth=1.2,
        import_poll_max_interval=0.0144,
    )
    try:
        import_id = await client.email.update_field_values(
            LIST_ID, {"ann@example.com": {TIER: "x"}}
        )
        status = await client.email.wait_for_import(LIST_ID, import_id)
    finally:
        held.close()
    assert status.status == "Completed"
    polls = [s for s in sleep.calls if s <= 0.0144]
    assert polls[:5] == pytest.approx([0.01, 0.012, 0.0144, 0.0144, 0.0144])
