"""The Data Import API path against the emulator, with the real Listrak client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from listrak_sync.config.files import DatasetSource, ListrakDataDestination
from listrak_sync.files import Exporter, ExportError
from listrak_sync.listrak import ClientSettings, Credentials, ListrakClient
from listrak_sync.warehouse import Warehouse

from ..conftest import DATA_CLIENT, Emulator

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _client(emulator: Emulator, **settings: Any) -> ListrakClient:
    return ListrakClient(
        data=Credentials(client_id=DATA_CLIENT[0], client_secret=DATA_CLIENT[1]),
        settings=ClientSettings.for_base_url(emulator.base_url, **settings),
    )


async def test_customers_products_orders_with_items(
    emulator: Emulator, warehouse: Warehouse
) -> None:
    exporter = Exporter(warehouse, ListrakDataDestination(), now=NOW)
    async with _client(emulator, data_max_records=2) as client:
        report = await exporter.send([], client.data)
    assert not report.failed
    by_name = {d.dataset: d for d in report.datasets}
    assert by_name["customers"].rows_written == 2
    assert by_name["products"].rows_written == 4
    assert by_name["products"].requests == 2  # 4 products, 2 per request
    assert by_name["orders"].rows_written == 2
    # Closed is an API status, so only the zero quantity and the orphan item are left out.
    assert by_name["order_items"].rows_written == 3
    orphan = [i for i in by_name["order_items"].issues.sample if i.row == 5]
    assert orphan
    assert orphan[0].severity == "error"

    state = emulator.admin.state(full=True)["data"]
    customers = {c["email"]: c for c in state["customers"]}
    jane = customers["jane@example.com"]
    assert jane["customerNumber"] == "0001"
    assert jane["mobilePhone"] == "17175559636"
    assert jane["birthday"] == "1989-01-16T12:00:00Z"
    assert jane["zipCode"] == "19103"
    assert jane["address"] == {
        "address1": '1 Main St, Apt "B"',
        "city": "Philadelphia",
        "state": "PA",
        "country": "US",
    }
    orders = {o["orderNumber"]: o for o in state["orders"]}
    first = orders["0531435151"]
    assert first["dateEntered"] == "2018-08-23T17:23:48Z"
    assert [(i["sku"], i["status"], i["quantity"]) for i in first["items"]] == [
        ("SKU-1", "Completed", 4),
        ("SKU-2", "Shipped", 1),
    ]
    assert all(i["orderNumber"] == "0531435151" for i in first["items"])
    assert [i["status"] for i in orders["0531435152"]["items"]] == ["Closed"]
    product = {p["sku"]: p for p in state["products"]}["SKU-0"]
    assert product["inStock"] is True
    assert product["linkUrl"] == "https://shop.example/p/0"


async def test_alternate_number_stands_in_for_the_api(
    emulator: Emulator, warehouse: Warehouse
) -> None:
    query = "SELECT NULL AS order_id, 'ALT-' || order_id AS oms_order_id, email FROM orders"
    destination = ListrakDataDestination(datasets={"orders": DatasetSource(query=query)})
    async with _client(emulator) as client:
        report = await Exporter(warehouse, destination, now=NOW).send([], client.data)
    assert report.datasets[0].rows_written == 2
    numbers = sorted(o["orderNumber"] for o in emulator.admin.state(full=True)["data"]["orders"])
    assert numbers == ["ALT-0531435151", "ALT-0531435152"]


async def test_items_alone_are_refused(emulator: Emulator, warehouse: Warehouse) -> None:
    async with _client(emulator) as client:
        with pytest.raises(ExportError, match="inside orders"):
            await Exporter(warehouse, ListrakDataDestination(), now=NOW).send(
                ["order_items"], client.data
            )
