"""The Data API through the client: batched customer imports, retried safely as upserts."""

from __future__ import annotations

import pytest

from listrak_sync.listrak import ListrakApiError
from tests.conftest import DATA_CLIENT, Emulator

from .conftest import MakeClient, credentials


async def test_customers_are_batched_and_a_lost_answer_is_replayed_harmlessly(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(data=credentials(DATA_CLIENT), data_max_records=400)
    emulator.admin.add_fault(method="POST", path="/Customer$", drop_next=1, drop_after_apply=True)
    customers = [
        {"email": f"c{i}@example.com", "customerNumber": f"C{i:05d}", "firstName": f"F{i}"}
        for i in range(1_000)
    ]
    results = await client.data.import_customers(customers)
    assert [r.records for r in results] == [400, 400, 200]
    assert all(r.resource_id is None for r in results)  # recorded: 201, resourceId null
    state = emulator.admin.state()["data"]
    assert state["counts"]["customers"] == 1_000  # the replayed batch upserted, not duplicated
    assert client.metrics.retries == 1


async def test_batches_respect_the_body_size_limit(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(data=credentials(DATA_CLIENT), data_max_body_bytes=5_000)
    products = [{"sku": f"SKU{i}", "title": "x" * 100} for i in range(200)]
    results = await client.data.import_products(products)
    assert len(results) > 4
    assert all(r.body_bytes <= 5_000 for r in results)
    assert sum(r.records for r in results) == 200
    assert emulator.admin.state()["data"]["counts"]["products"] == 200


async def test_invalid_record_is_reported_with_listrak_code(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(data=credentials(DATA_CLIENT))
    with pytest.raises(ListrakApiError) as caught:
        await client.data.import_customers([{"customerNumber": "C1", "email": "not-an-email"}])
    assert caught.value.code == "ERROR_INVALID_PARAMETER"
    assert client.metrics.retries == 0


async def test_a_batch_refused_for_its_size_is_sent_in_halves(
    emulator: Emulator, make_client: MakeClient
) -> None:
    # Listrak's IIS answers a bare 404 past an undisclosed size (recorded); the emulator's limit
    # here is under the client's body limit, as it may be in production.
    emulator.admin.settings(max_request_bytes=4_000)
    client = make_client(data=credentials(DATA_CLIENT))
    products = [{"sku": f"SKU{i}", "title": "x" * 100} for i in range(100)]  # about 13 kB
    results = await client.data.import_products(products)
    assert len(results) >= 4
    assert all(r.body_bytes <= 4_000 for r in results)
    assert sum(r.records for r in results) == 100
    assert emulator.admin.state()["data"]["counts"]["products"] == 100


async def test_a_single_record_refused_for_its_size_is_a_clear_error(
    emulator: Emulator, make_client: MakeClient
) -> None:
    emulator.admin.settings(max_request_bytes=100)
    client = make_client(data=credentials(DATA_CLIENT))
    with pytest.raises(ListrakApiError, match="even after halving it") as caught:
        await client.data.import_products([{"sku": f"SKU{i}", "title": "x" * 80} for i in range(4)])
    assert "data_max_body_bytes" in str(caught.value)
    assert emulator.admin.state()["data"]["counts"]["products"] == 0
