"""The Data API (``/data/v1``): customer, order and product imports from JSON records."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, TypeAlias

from ._exceptions import ListrakApiError, NotFound
from ._imports import MAX_SPLITS, size_refusal
from ._models import DataImportResult
from ._session import Replay, Session

__all__ = ["DataApi", "DataEntity"]

DataEntity = Literal["Customer", "Order", "Product", "RatingSummary", "Review"]
Records: TypeAlias = Iterable[Mapping[str, Any]]
log = logging.getLogger("listrak_sync.listrak")
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
            results += await self._post(entity, batch, size)
        return results

    async def _post(
        self, entity: DataEntity, batch: list[Mapping[str, Any]], size: int, depth: int = 0
    ) -> list[DataImportResult]:
        """Post one batch; when Listrak's web server refuses it for its size (a bare 404 from
        IIS, see ``size_refusal``), post each half instead, up to ``MAX_SPLITS`` times."""
        try:
            answer = await self.session.call(
                "POST",
                f"/{entity}",
                operation=_OPERATIONS[entity],
                json_body=batch,
                replay=Replay.ALWAYS,
            )
        except NotFound as exc:
            refusal = size_refusal(exc, size)
            if refusal is None:
                raise
            if depth >= MAX_SPLITS or len(batch) < 2:
                raise ListrakApiError(
                    f"Listrak refused a {entity} batch of {size:,} bytes ({len(batch):,} "
                    f"records) with a 404 even after halving it {depth} time(s): its web server "
                    "refuses requests past an undisclosed size. Lower data_max_body_bytes and "
                    "try again.",
                    code=refusal.code,
                    status=refusal.status,
                    method=refusal.method,
                    path=refusal.path,
                    operation=refusal.operation,
                ) from None
            log.warning(
                "a %s batch of %s bytes was refused for its size; sending it in two halves",
                entity,
                f"{size:,}",
            )
            middle = len(batch) // 2
            found: list[DataImportResult] = []
            for half in (batch[:middle], batch[middle:]):
                found += await self._post(entity, half, _body_size(half), depth + 1)
            return found
        resource_id = answer.get("resourceId")
        return [
            DataImportResult(
                entity=entity,
                resource_id=None if resource_id is None else str(resource_id),
                records=len(batch),
                body_bytes=size,
            )
        ]

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


def _body_size(batch: list[Mapping[str, Any]]) -> int:
    """The bytes of ``batch`` as the session sends it (compact JSON)."""
    return len(json.dumps(batch, separators=(",", ":")).encode())
