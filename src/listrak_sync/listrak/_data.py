"""The Data API (``/data/v1``): customer, order and product imports from JSON records."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, TypeAlias

from ._models import DataImportResult
from ._session import Replay, Session

__all__ = ["DataApi", "DataEntity"]

DataEntity = Literal["Customer", "Order", "Product", "RatingSummary", "Review"]
Records: TypeAlias = Iterable[Mapping[str, Any]]
_OPERATIONS: dict[str, str] = {
    "Customer": "Customer_PostCustomerCollection",
    "Order": "Order_PostOrderCollection",
    "Product": "Product_PostProductCollection",
    "RatingSummary": "RatingSummary_PostRatingSummaryCollection",
    "Review": "Review_PostReviewCollection",
}


class DataApi:
    """Calls of one data integration. Get it as ``client.data``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def import_records(
        self, entity: DataEntity, records: Iterable[Mapping[str, Any]]
    ) -> list[DataImportResult]:
        """Post ``records`` in batches under the body-size and record-count limits.

        Data imports are upserts keyed by customer number, order number or SKU, so a replayed
        batch leaves the same data: they are retried like a PUT.
        """
        results: list[DataImportResult] = []
        for batch, size in self._batches(records):
            answer = await self.session.call(
                "POST",
                f"/{entity}",
                operation=_OPERATIONS[entity],
                json_body=batch,
                replay=Replay.ALWAYS,
            )
            resource_id = answer.get("resourceId")
            results.append(
                DataImportResult(
                    entity=entity,
                    resource_id=None if resource_id is None else str(resource_id),
                    records=len(batch),
                    body_bytes=size,
                )
            )
        return results

    async def import_customers(self, records: Records) -> list[DataImportResult]:
        return await self.import_records("Customer", records)

    async def import_orders(self, records: Records) -> list[DataImportResult]:
        return await self.import_records("Order", records)

    async def import_products(self, records: Records) -> list[DataImportResult]:
        return await self.import_records("Product", records)

    def _batches(
        self, records: Iterable[Mapping[str, Any]]
    ) -> Iterator[tuple[list[Mapping[str, Any]], int]]:
        settings = self.session.settings
        batch: list[Mapping[str, Any]] = []
        size = 2  # the brackets
        for number, record in enumerate(records, start=1):
            encoded = len(json.dumps(record, separators=(",", ":")).encode()) + 1
            if encoded + 2 > settings.data_max_body_bytes:
                raise ValueError(
                    f"record {number}: {encoded} bytes is over the body limit of "
                    f"{settings.data_max_body_bytes} bytes"
                )
            if batch and (
                size + encoded > settings.data_max_body_bytes
                or len(batch) >= settings.data_max_records
            ):
                yield batch, size - 1
                batch, size = [], 2
            batch.append(record)
            size += encoded
        if batch:
            yield batch, size - 1
